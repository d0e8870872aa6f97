//! The initial schema.
//!
//! Conventions: timestamps are BIGINT milliseconds since the epoch (UTC);
//! `sort_at` = `updated_at` or else `created_at`, kept in a column so the
//! spec's list order is an index scan on every backend; uuids are 36-char
//! lowercase strings. Revisioned objects (activities, projects, times) keep
//! one row per revision with `UNIQUE(uuid, revision)` and `newest` marking
//! the current one.

use sea_orm_migration::prelude::*;

use super::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

#[derive(Iden, Clone, Copy)]
enum Settings {
    Table,
    Name,
    Value,
}

#[derive(Iden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    Password,
    DisplayName,
    Email,
    SiteSpectator,
    SiteManager,
    SiteAdmin,
    Active,
    Meta,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(Iden, Clone, Copy)]
enum OrgRoles {
    Table,
    Id,
    Name,
    Slug,
}

#[derive(Iden, Clone, Copy)]
enum UserOrgRoles {
    Table,
    UserId,
    OrgRoleId,
}

#[derive(Iden, Clone, Copy)]
enum Activities {
    Table,
    Id,
    Uuid,
    Revision,
    Newest,
    Name,
    Slug,
    LiveSlug,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    SortAt,
}

#[derive(Iden, Clone, Copy)]
enum Projects {
    Table,
    Id,
    Uuid,
    Revision,
    Newest,
    Name,
    Uri,
    DefaultActivity,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    SortAt,
}

#[derive(Iden, Clone, Copy)]
enum ProjectSlugs {
    Table,
    Slug,
    ProjectUuid,
}

#[derive(Iden, Clone, Copy)]
enum ProjectUsers {
    Table,
    ProjectUuid,
    UserId,
    Member,
    Spectator,
    Manager,
}

#[derive(Iden, Clone, Copy)]
enum Times {
    Table,
    Id,
    Uuid,
    Revision,
    Newest,
    UserId,
    ProjectUuid,
    Duration,
    Notes,
    IssueUri,
    DateWorked,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    SortAt,
}

#[derive(Iden, Clone, Copy)]
enum TimeActivities {
    Table,
    TimeId,
    ActivityUuid,
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn uuid<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().to_owned()
}

fn millis<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn millis_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

fn flag<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(
                    ColumnDef::new(Settings::Name)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Settings::Value).text().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(ColumnDef::new(Users::Username).string_len(64).not_null())
                // Lower-cased username: usernames are case-insensitive everywhere.
                .col(
                    ColumnDef::new(Users::UsernameKey)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Users::Password).string_len(255).null())
                .col(ColumnDef::new(Users::DisplayName).string_len(255).null())
                .col(ColumnDef::new(Users::Email).string_len(255).null())
                .col(flag(Users::SiteSpectator))
                .col(flag(Users::SiteManager))
                .col(flag(Users::SiteAdmin))
                .col(
                    ColumnDef::new(Users::Active)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(ColumnDef::new(Users::Meta).text().null())
                .col(millis(Users::CreatedAt))
                .col(millis_null(Users::UpdatedAt))
                .col(millis_null(Users::DeletedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrgRoles::Table)
                .col(id(OrgRoles::Id))
                .col(
                    ColumnDef::new(OrgRoles::Name)
                        .string_len(255)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(OrgRoles::Slug)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserOrgRoles::Table)
                .col(
                    ColumnDef::new(UserOrgRoles::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(UserOrgRoles::OrgRoleId)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(UserOrgRoles::UserId)
                        .col(UserOrgRoles::OrgRoleId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserOrgRoles::Table, UserOrgRoles::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserOrgRoles::Table, UserOrgRoles::OrgRoleId)
                        .to(OrgRoles::Table, OrgRoles::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_user_org_roles_role",
            UserOrgRoles::Table,
            &[UserOrgRoles::OrgRoleId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Activities::Table)
                .col(id(Activities::Id))
                .col(uuid(Activities::Uuid))
                .col(ColumnDef::new(Activities::Revision).integer().not_null())
                .col(flag(Activities::Newest))
                .col(ColumnDef::new(Activities::Name).string_len(255).not_null())
                // The slug this revision had (history); NULL on a deleted current row.
                .col(ColumnDef::new(Activities::Slug).string_len(64).null())
                // Set only on the current, undeleted row: the slug's owner.
                .col(
                    ColumnDef::new(Activities::LiveSlug)
                        .string_len(64)
                        .null()
                        .unique_key(),
                )
                .col(millis(Activities::CreatedAt))
                .col(millis_null(Activities::UpdatedAt))
                .col(millis_null(Activities::DeletedAt))
                .col(millis(Activities::SortAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_activities_uuid_revision",
                Activities::Table,
                &[Activities::Uuid, Activities::Revision],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_activities_list",
            Activities::Table,
            &[Activities::Newest, Activities::SortAt, Activities::Id],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Projects::Table)
                .col(id(Projects::Id))
                .col(uuid(Projects::Uuid))
                .col(ColumnDef::new(Projects::Revision).integer().not_null())
                .col(flag(Projects::Newest))
                .col(ColumnDef::new(Projects::Name).string_len(255).not_null())
                .col(ColumnDef::new(Projects::Uri).string_len(2048).null())
                .col(
                    ColumnDef::new(Projects::DefaultActivity)
                        .string_len(36)
                        .null(),
                )
                .col(millis(Projects::CreatedAt))
                .col(millis_null(Projects::UpdatedAt))
                .col(millis_null(Projects::DeletedAt))
                .col(millis(Projects::SortAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_projects_uuid_revision",
                Projects::Table,
                &[Projects::Uuid, Projects::Revision],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_projects_list",
            Projects::Table,
            &[Projects::Newest, Projects::SortAt, Projects::Id],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ProjectSlugs::Table)
                .col(
                    ColumnDef::new(ProjectSlugs::Slug)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(uuid(ProjectSlugs::ProjectUuid))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_project_slugs_project",
            ProjectSlugs::Table,
            &[ProjectSlugs::ProjectUuid],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ProjectUsers::Table)
                .col(uuid(ProjectUsers::ProjectUuid))
                .col(
                    ColumnDef::new(ProjectUsers::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(flag(ProjectUsers::Member))
                .col(flag(ProjectUsers::Spectator))
                .col(flag(ProjectUsers::Manager))
                .primary_key(
                    Index::create()
                        .col(ProjectUsers::ProjectUuid)
                        .col(ProjectUsers::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ProjectUsers::Table, ProjectUsers::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_project_users_user",
            ProjectUsers::Table,
            &[ProjectUsers::UserId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Times::Table)
                .col(id(Times::Id))
                .col(uuid(Times::Uuid))
                .col(ColumnDef::new(Times::Revision).integer().not_null())
                .col(flag(Times::Newest))
                .col(ColumnDef::new(Times::UserId).big_integer().not_null())
                .col(uuid(Times::ProjectUuid))
                .col(ColumnDef::new(Times::Duration).integer().not_null())
                .col(ColumnDef::new(Times::Notes).text().null())
                .col(ColumnDef::new(Times::IssueUri).string_len(2048).null())
                .col(ColumnDef::new(Times::DateWorked).date().not_null())
                .col(millis(Times::CreatedAt))
                .col(millis_null(Times::UpdatedAt))
                .col(millis_null(Times::DeletedAt))
                .col(millis(Times::SortAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Times::Table, Times::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_times_uuid_revision",
                Times::Table,
                &[Times::Uuid, Times::Revision],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_times_list",
            Times::Table,
            &[Times::Newest, Times::SortAt, Times::Id],
        ))
        .await?;
        m.create_index(index(
            "idx_times_user",
            Times::Table,
            &[Times::UserId, Times::Newest],
        ))
        .await?;
        m.create_index(index(
            "idx_times_project",
            Times::Table,
            &[Times::ProjectUuid, Times::Newest],
        ))
        .await?;
        m.create_index(index("idx_times_date", Times::Table, &[Times::DateWorked]))
            .await?;

        m.create_table(
            Table::create()
                .table(TimeActivities::Table)
                .col(
                    ColumnDef::new(TimeActivities::TimeId)
                        .big_integer()
                        .not_null(),
                )
                .col(uuid(TimeActivities::ActivityUuid))
                .primary_key(
                    Index::create()
                        .col(TimeActivities::TimeId)
                        .col(TimeActivities::ActivityUuid),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TimeActivities::Table, TimeActivities::TimeId)
                        .to(Times::Table, Times::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_time_activities_activity",
            TimeActivities::Table,
            &[TimeActivities::ActivityUuid],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            TimeActivities::Table.into_iden(),
            Times::Table.into_iden(),
            ProjectUsers::Table.into_iden(),
            ProjectSlugs::Table.into_iden(),
            Projects::Table.into_iden(),
            Activities::Table.into_iden(),
            UserOrgRoles::Table.into_iden(),
            OrgRoles::Table.into_iden(),
            Users::Table.into_iden(),
            Settings::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
