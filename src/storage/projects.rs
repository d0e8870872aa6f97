//! Projects: one row per revision (see `revisions`); the current slugs
//! (`project_slugs`) and members (`project_users`) belong to the
//! project's uuid.

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use std::collections::HashMap;

pub use super::entities::project::Model as ProjectRow;
use super::entities::{project, project_slug, project_user, time, user};
use super::revisions::{self, RevisionColumns, Revisioned};
use super::{Page, Result, CHUNK};

impl Revisioned for project::Entity {
    const COLUMNS: RevisionColumns<project::Column> = RevisionColumns {
        id: project::Column::Id,
        uuid: project::Column::Uuid,
        revision: project::Column::Revision,
        newest: project::Column::Newest,
        deleted_at: project::Column::DeletedAt,
        sort_at: project::Column::SortAt,
    };
    const NAME: &'static str = "project";
}

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
/// `user_ids` is given, only projects where one of them has a role; with
/// `since`, those changed at or after it, deleted or not), one page in
/// list order, and how many there are in all.
pub async fn list(
    db: &impl ConnectionTrait,
    include_deleted: bool,
    user_ids: Option<&[i64]>,
    since: Option<i64>,
    page: Page,
) -> Result<(Vec<ProjectRow>, u64)> {
    let mut only = Condition::all();
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
        only = only.add(project::Column::Uuid.in_subquery(with_role));
    }
    revisions::list::<project::Entity>(db, include_deleted, since, only, page).await
}

/// The uuid of the project that currently has `slug`.
pub async fn uuid_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<String>> {
    Ok(project_slug::Entity::find_by_id(slug.to_owned())
        .one(db)
        .await?
        .map(|s| s.project_uuid))
}

/// The current revision of the project `uuid`.
pub async fn current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<ProjectRow>> {
    revisions::current::<project::Entity>(db, uuid).await
}

/// Serialises writers of one project (`revisions::lock`). Returns false
/// when the project does not exist.
pub async fn lock(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    revisions::lock::<project::Entity>(db, uuid).await
}

/// The older revisions of the projects `uuids`, newest first per uuid.
pub async fn parents_of(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<ProjectRow>> {
    revisions::parents_of::<project::Entity>(db, uuids).await
}

/// The current slugs of the projects `uuids`, sorted, by project uuid
/// (a deleted project has none).
pub async fn slugs_by_project(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in uuids.chunks(CHUNK) {
        for row in project_slug::Entity::find()
            .filter(project_slug::Column::ProjectUuid.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.entry(row.project_uuid).or_default().push(row.slug);
        }
    }
    for slugs in out.values_mut() {
        slugs.sort();
    }
    Ok(out)
}

/// The project's default activity, if it has one that still exists.
pub async fn default_activity(
    db: &impl ConnectionTrait,
    project_uuid: &str,
) -> Result<Option<String>> {
    let default: Option<Option<String>> = project::Entity::find()
        .select_only()
        .column(project::Column::DefaultActivity)
        .filter(project::Column::Uuid.eq(project_uuid))
        .filter(project::Column::Newest.eq(true))
        .into_tuple()
        .one(db)
        .await?;
    match default.flatten() {
        Some(uuid) if super::activities::is_live(db, &uuid).await? => Ok(Some(uuid)),
        _ => Ok(None),
    }
}

/// The current slugs of the projects `uuids`.
pub async fn slugs_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<project_slug::Model>> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(project_slug::Entity::find()
        .filter(project_slug::Column::ProjectUuid.is_in(uuids.iter().cloned()))
        .order_by_asc(project_slug::Column::Slug)
        .all(db)
        .await?)
}

/// Which of `slugs` belong to a project other than `except` (sorted).
pub async fn slugs_taken(
    db: &impl ConnectionTrait,
    slugs: &[String],
    except: Option<&str>,
) -> Result<Vec<String>> {
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
pub async fn members_of(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<MemberRow>> {
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
) -> Result<Option<project_user::Model>> {
    Ok(project_user::Entity::find_by_id((uuid.to_owned(), user_id))
        .one(db)
        .await?)
}

/// A current revision with `fields`.
fn revision(uuid: &str, revision: i32, fields: &ProjectFields) -> project::ActiveModel {
    project::ActiveModel {
        uuid: Set(uuid.to_owned()),
        revision: Set(revision),
        newest: Set(true),
        name: Set(fields.name.clone()),
        uri: Set(fields.uri.clone()),
        default_activity: Set(fields.default_activity.clone()),
        deleted_at: Set(None),
        ..Default::default()
    }
}

/// Inserts the first revision of a new project.
pub async fn create(
    db: &impl ConnectionTrait,
    uuid: &str,
    fields: &ProjectFields,
    now: i64,
) -> Result<ProjectRow> {
    let row = project::ActiveModel {
        created_at: Set(now),
        updated_at: Set(None),
        sort_at: Set(now),
        ..revision(uuid, 1, fields)
    };
    revisions::insert(db, row, None).await
}

/// Writes the next revision of `current` with `fields`; the old row is
/// kept, no longer newest. Caller holds the `lock`.
pub async fn revise(
    db: &impl ConnectionTrait,
    current: &ProjectRow,
    fields: &ProjectFields,
    now: i64,
) -> Result<ProjectRow> {
    revisions::retire::<project::Entity>(db, current.id).await?;
    let row = project::ActiveModel {
        created_at: Set(current.created_at),
        updated_at: Set(Some(now)),
        sort_at: Set(now),
        ..revision(&current.uuid, current.revision + 1, fields)
    };
    revisions::insert(db, row, None).await
}

/// Makes `slugs` the project's slug set. A slug held by another project
/// is `Taken::Slugs` (naming every slug of the set).
pub async fn set_slugs(db: &impl ConnectionTrait, uuid: &str, slugs: &[String]) -> Result<()> {
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
    .map_err(super::taken_as(super::Taken::Slugs(slugs.to_vec())))
}

/// Makes `members` the project's whole member map.
pub async fn set_members(
    db: &impl ConnectionTrait,
    uuid: &str,
    members: &[NewMember],
) -> Result<()> {
    project_user::Entity::delete_many()
        .filter(project_user::Column::ProjectUuid.eq(uuid))
        .exec(db)
        .await?;
    if members.is_empty() {
        return Ok(());
    }
    Ok(
        project_user::Entity::insert_many(members.iter().map(|m| project_user::ActiveModel {
            project_uuid: Set(uuid.to_owned()),
            user_id: Set(m.user_id),
            member: Set(m.member),
            spectator: Set(m.spectator),
            manager: Set(m.manager),
        }))
        .exec_without_returning(db)
        .await
        .map(|_| ())?,
    )
}

/// Soft-deletes the current revision `id` of project `uuid` and frees its slugs.
pub async fn soft_delete(db: &impl ConnectionTrait, uuid: &str, id: i64, now: i64) -> Result<()> {
    revisions::mark_deleted::<project::Entity>(db, id, now, Vec::new()).await?;
    set_slugs(db, uuid, &[]).await
}

/// True when a current time (newest revision, not deleted) is on the project.
pub async fn used_by_current_time(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    let count = time::Entity::find()
        .filter(time::Column::ProjectUuid.eq(uuid))
        .filter(time::Column::Newest.eq(true))
        .filter(time::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(count > 0)
}

/// Whether a current, undeleted project other than `except` (a uuid) is
/// named exactly `name` (names are unique among current projects).
pub async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    revisions::name_taken::<project::Entity>(db, project::Column::Name, name, except).await
}
