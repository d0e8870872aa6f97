//! Projects: one row per revision; the current slugs (`project_slugs`) and
//! members (`project_users`) belong to the project's uuid.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

pub use super::entities::project::Model as ProjectRow;
use super::entities::{project, project_slug, project_user, time, user};
use crate::domain::Page;

/// The fields a revision stores (slugs and users are kept apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFields {
    pub name: String,
    pub uri: Option<String>,
    /// Uuid of the default activity.
    pub default_activity: Option<String>,
}

/// A user's roles on a project, with the username as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub project_uuid: String,
    pub username: String,
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

/// Roles to store for one user (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewMember {
    pub user_id: i64,
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

/// The current revisions (undeleted unless `include_deleted`; when
/// `user_ids` is given, only projects where one of them has a role), one
/// page in list order, and how many there are in all.
pub async fn list(
    db: &impl ConnectionTrait,
    include_deleted: bool,
    user_ids: Option<&[i64]>,
    page: Page,
) -> Result<(Vec<ProjectRow>, u64), DbErr> {
    let mut query = project::Entity::find().filter(project::Column::Newest.eq(true));
    if !include_deleted {
        query = query.filter(project::Column::DeletedAt.is_null());
    }
    if let Some(ids) = user_ids {
        let with_role = Query::select()
            .column(project_user::Column::ProjectUuid)
            .from(project_user::Entity)
            .cond_where(
                Condition::all()
                    .add(project_user::Column::UserId.is_in(ids.iter().copied()))
                    .add(
                        Condition::any()
                            .add(project_user::Column::Member.eq(true))
                            .add(project_user::Column::Spectator.eq(true))
                            .add(project_user::Column::Manager.eq(true)),
                    ),
            )
            .to_owned();
        query = query.filter(project::Column::Uuid.in_subquery(with_role));
    }
    let total = query.clone().count(db).await?;
    let query = query
        .order_by_asc(project::Column::SortAt)
        .order_by_asc(project::Column::Id);
    Ok((super::paginate(query, page).all(db).await?, total))
}

/// The uuid of the project that currently has `slug`.
pub async fn uuid_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<String>, DbErr> {
    Ok(project_slug::Entity::find_by_id(slug.to_owned())
        .one(db)
        .await?
        .map(|s| s.project_uuid))
}

/// The current revision of the project `uuid`.
pub async fn current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<ProjectRow>, DbErr> {
    project::Entity::find()
        .filter(project::Column::Uuid.eq(uuid))
        .filter(project::Column::Newest.eq(true))
        .one(db)
        .await
}

/// Serialises writers of one project by locking its first revision (see
/// `activities::lock`). Returns false when the project does not exist.
pub async fn lock(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, DbErr> {
    Ok(project::Entity::find()
        .filter(project::Column::Uuid.eq(uuid))
        .filter(project::Column::Revision.eq(1))
        .lock_exclusive()
        .one(db)
        .await?
        .is_some())
}

/// The older revisions of the projects `uuids`, newest first per uuid.
pub async fn parents_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<ProjectRow>, DbErr> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    project::Entity::find()
        .filter(project::Column::Uuid.is_in(uuids.iter().cloned()))
        .filter(project::Column::Newest.eq(false))
        .order_by_asc(project::Column::Uuid)
        .order_by_desc(project::Column::Revision)
        .all(db)
        .await
}

/// The current slugs of the projects `uuids`.
pub async fn slugs_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<project_slug::Model>, DbErr> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    project_slug::Entity::find()
        .filter(project_slug::Column::ProjectUuid.is_in(uuids.iter().cloned()))
        .order_by_asc(project_slug::Column::Slug)
        .all(db)
        .await
}

/// Which of `slugs` belong to a project other than `except` (sorted).
pub async fn slugs_taken(
    db: &impl ConnectionTrait,
    slugs: &[String],
    except: Option<&str>,
) -> Result<Vec<String>, DbErr> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = project_slug::Entity::find()
        .filter(project_slug::Column::Slug.is_in(slugs.iter().cloned()));
    if let Some(uuid) = except {
        query = query.filter(project_slug::Column::ProjectUuid.ne(uuid));
    }
    Ok(query
        .order_by_asc(project_slug::Column::Slug)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.slug)
        .collect())
}

/// The members of the projects `uuids`, with usernames as stored.
pub async fn members_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<MemberRow>, DbErr> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = project_user::Entity::find()
        .filter(project_user::Column::ProjectUuid.is_in(uuids.iter().cloned()))
        .all(db)
        .await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: std::collections::HashMap<i64, String> = if ids.is_empty() {
        Default::default()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect()
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(MemberRow {
                username: names.get(&r.user_id)?.clone(),
                project_uuid: r.project_uuid,
                member: r.member,
                spectator: r.spectator,
                manager: r.manager,
            })
        })
        .collect())
}

/// The roles of user `user_id` on project `uuid`, if any.
pub async fn roles_of(
    db: &impl ConnectionTrait,
    uuid: &str,
    user_id: i64,
) -> Result<Option<project_user::Model>, DbErr> {
    project_user::Entity::find_by_id((uuid.to_owned(), user_id))
        .one(db)
        .await
}

/// The undeleted users whose lower-cased usernames are `keys`: (key, id).
pub async fn users_by_keys(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<Vec<(String, i64)>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.is_in(keys.iter().cloned()))
        .filter(user::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.username_key, u.id))
        .collect())
}

/// Inserts the first revision of a new project.
pub async fn create(
    db: &impl ConnectionTrait,
    uuid: &str,
    fields: &ProjectFields,
    now: i64,
) -> Result<ProjectRow, DbErr> {
    insert(
        db,
        project::ActiveModel {
            uuid: Set(uuid.to_owned()),
            revision: Set(1),
            newest: Set(true),
            name: Set(fields.name.clone()),
            uri: Set(fields.uri.clone()),
            default_activity: Set(fields.default_activity.clone()),
            created_at: Set(now),
            updated_at: Set(None),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// Writes the next revision of `current` with `fields`; the old row is
/// kept, no longer newest. Caller holds the `lock`.
pub async fn revise(
    db: &impl ConnectionTrait,
    current: &ProjectRow,
    fields: &ProjectFields,
    now: i64,
) -> Result<ProjectRow, DbErr> {
    project::Entity::update_many()
        .col_expr(project::Column::Newest, Expr::value(false))
        .filter(project::Column::Id.eq(current.id))
        .exec(db)
        .await?;
    insert(
        db,
        project::ActiveModel {
            uuid: Set(current.uuid.clone()),
            revision: Set(current.revision + 1),
            newest: Set(true),
            name: Set(fields.name.clone()),
            uri: Set(fields.uri.clone()),
            default_activity: Set(fields.default_activity.clone()),
            created_at: Set(current.created_at),
            updated_at: Set(Some(now)),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// Makes `slugs` the project's slug set. A slug held by another project
/// is a unique violation.
pub async fn set_slugs(
    db: &impl ConnectionTrait,
    uuid: &str,
    slugs: &[String],
) -> Result<(), DbErr> {
    project_slug::Entity::delete_many()
        .filter(project_slug::Column::ProjectUuid.eq(uuid))
        .exec(db)
        .await?;
    if slugs.is_empty() {
        return Ok(());
    }
    project_slug::Entity::insert_many(slugs.iter().map(|s| project_slug::ActiveModel {
        slug: Set(s.clone()),
        project_uuid: Set(uuid.to_owned()),
    }))
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Makes `members` the project's whole member map.
pub async fn set_members(
    db: &impl ConnectionTrait,
    uuid: &str,
    members: &[NewMember],
) -> Result<(), DbErr> {
    project_user::Entity::delete_many()
        .filter(project_user::Column::ProjectUuid.eq(uuid))
        .exec(db)
        .await?;
    if members.is_empty() {
        return Ok(());
    }
    project_user::Entity::insert_many(members.iter().map(|m| project_user::ActiveModel {
        project_uuid: Set(uuid.to_owned()),
        user_id: Set(m.user_id),
        member: Set(m.member),
        spectator: Set(m.spectator),
        manager: Set(m.manager),
    }))
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Soft-deletes the current revision `id` of project `uuid` and frees its slugs.
pub async fn soft_delete(
    db: &impl ConnectionTrait,
    uuid: &str,
    id: i64,
    now: i64,
) -> Result<(), DbErr> {
    project::Entity::update_many()
        .col_expr(project::Column::DeletedAt, Expr::value(now))
        .filter(project::Column::Id.eq(id))
        .exec(db)
        .await?;
    set_slugs(db, uuid, &[]).await
}

/// True when a current time (newest revision, not deleted) is on the project.
pub async fn used_by_current_time(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, DbErr> {
    let count = time::Entity::find()
        .filter(time::Column::ProjectUuid.eq(uuid))
        .filter(time::Column::Newest.eq(true))
        .filter(time::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(count > 0)
}

async fn insert(db: &impl ConnectionTrait, row: project::ActiveModel) -> Result<ProjectRow, DbErr> {
    let id = project::Entity::insert(row).exec(db).await?.last_insert_id;
    project::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("inserted project".into()))
}

/// Whether a current, undeleted project other than `except` (a uuid) is
/// named exactly `name` (names are unique among current projects).
pub async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<&str>,
) -> Result<bool, DbErr> {
    let mut query = project::Entity::find()
        .filter(project::Column::Name.eq(name))
        .filter(project::Column::Newest.eq(true))
        .filter(project::Column::DeletedAt.is_null());
    if let Some(uuid) = except {
        query = query.filter(project::Column::Uuid.ne(uuid));
    }
    // Compared again here: MySQL's default collation ignores case.
    let names: Vec<String> = query
        .select_only()
        .column(project::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(names.iter().any(|n| n == name))
}
