//! How a time is shown: `TimeView` and the batched rendering of rows.

use std::collections::HashMap;

use crate::storage::{Catalogue, Conn};

use crate::domain::validate::{wire_date, wire_date_opt};
use crate::error::{Error, Result};
use crate::storage::times::{self as store, TimeRow};

/// A time as shown to clients.
#[derive(Debug, Clone)]
pub struct TimeView {
    pub duration: i32,
    /// The username as stored.
    pub user: String,
    /// The current slugs of the project, sorted (empty once it is deleted).
    pub project: Vec<String>,
    /// The current slugs of the activities, sorted; deleted activities have
    /// no slug and are left out.
    pub activities: Vec<String>,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    pub date_worked: String,
    pub revision: i32,
    pub uuid: String,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (only with `include_revisions`).
    pub parents: Option<Vec<TimeView>>,
}

pub(super) async fn one(
    conn: &impl Conn,
    catalogue: &Catalogue,
    row: TimeRow,
    revisions: bool,
) -> Result<TimeView> {
    render(conn, catalogue, vec![row], revisions)
        .await?
        .pop()
        .ok_or_else(|| Error::server(anyhow::anyhow!("rendering a time gave no view")))
}

/// Views of `rows` (and their parents when `revisions`): usernames and
/// slugs come from the catalogue, the activities of the rows from one
/// batched query, so the cost does not grow with the number of rows.
pub(crate) async fn render(
    conn: &impl Conn,
    catalogue: &Catalogue,
    rows: Vec<TimeRow>,
    revisions: bool,
) -> Result<Vec<TimeView>> {
    let row_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = store::activity_links(conn, &row_ids).await?;
    render_linked(conn, catalogue, rows, links, revisions).await
}

/// `render` for rows whose activities were read with them
/// (`store::with_activities`).
pub(super) async fn render_with_activities(
    conn: &impl Conn,
    catalogue: &Catalogue,
    rows: Vec<(TimeRow, Vec<String>)>,
    revisions: bool,
) -> Result<Vec<TimeView>> {
    let mut links = Vec::new();
    let rows = rows
        .into_iter()
        .map(|(row, activities)| {
            links.extend(activities.into_iter().map(|a| (row.id, a)));
            row
        })
        .collect();
    render_linked(conn, catalogue, rows, links, revisions).await
}

/// `render` given the activity links (time row id, activity uuid) of
/// `rows`; those of the parents are read here.
async fn render_linked(
    conn: &impl Conn,
    catalogue: &Catalogue,
    rows: Vec<TimeRow>,
    mut links: Vec<(i64, String)>,
    revisions: bool,
) -> Result<Vec<TimeView>> {
    let parents = if revisions {
        let uuids: Vec<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        store::parents(conn, &uuids).await?
    } else {
        Vec::new()
    };
    if !parents.is_empty() {
        let parent_ids: Vec<i64> = parents.iter().map(|r| r.id).collect();
        links.extend(store::activity_links(conn, &parent_ids).await?);
    }
    let mut activities: HashMap<i64, Vec<String>> = HashMap::new();
    for (time_id, uuid) in links {
        // Deleted activities have no slug and are left out.
        if let Some(slug) = catalogue.live_slug(&uuid) {
            activities.entry(time_id).or_default().push(slug.to_owned());
        }
    }
    for slugs in activities.values_mut() {
        slugs.sort();
    }

    let view = |r: &TimeRow| {
        build(
            catalogue,
            r,
            activities.get(&r.id).cloned().unwrap_or_default(),
        )
    };
    let mut parents_of: HashMap<&str, Vec<TimeView>> = HashMap::new();
    for p in &parents {
        // `store::parents` gives each time's parents newest first.
        parents_of.entry(p.uuid.as_str()).or_default().push(view(p));
    }
    Ok(rows
        .iter()
        .map(|r| TimeView {
            parents: revisions.then(|| parents_of.remove(r.uuid.as_str()).unwrap_or_default()),
            ..view(r)
        })
        .collect())
}

/// The view of a time row just written with the activities `activity_uuids`
/// (no query: the writer knows them).
pub(super) fn written(catalogue: &Catalogue, row: &TimeRow, activity_uuids: &[String]) -> TimeView {
    let mut slugs: Vec<String> = activity_uuids
        .iter()
        .filter_map(|uuid| catalogue.live_slug(uuid).map(str::to_owned))
        .collect();
    slugs.sort();
    build(catalogue, row, slugs)
}

/// The view of `r` with its activities' slugs (sorted).
fn build(catalogue: &Catalogue, r: &TimeRow, activities: Vec<String>) -> TimeView {
    TimeView {
        duration: r.duration,
        user: catalogue
            .user(r.user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default(),
        project: catalogue.project_slugs(&r.project_uuid).to_vec(),
        activities,
        notes: r.notes.clone(),
        issue_uri: r.issue_uri.clone(),
        date_worked: r.date_worked.format("%Y-%m-%d").to_string(),
        revision: r.revision,
        uuid: r.uuid.clone(),
        created_at: wire_date(r.created_at),
        updated_at: wire_date_opt(r.updated_at),
        deleted_at: wire_date_opt(r.deleted_at),
        parents: None,
    }
}
