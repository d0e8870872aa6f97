//! How a time is shown: `TimeView` and the batched rendering of rows.

use std::collections::{HashMap, HashSet};

use sea_orm::ConnectionTrait;

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
    conn: &impl ConnectionTrait,
    row: TimeRow,
    revisions: bool,
) -> Result<TimeView> {
    render(conn, vec![row], revisions)
        .await?
        .pop()
        .ok_or_else(|| Error::server(anyhow::anyhow!("rendering a time gave no view")))
}

/// Views of `rows` (and their parents when `revisions`), with every
/// related row loaded by one batched query per relation: the cost does not
/// grow with the number of rows.
pub(crate) async fn render(
    conn: &impl ConnectionTrait,
    rows: Vec<TimeRow>,
    revisions: bool,
) -> Result<Vec<TimeView>> {
    let parents = if revisions {
        let uuids: Vec<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        store::parents(conn, &uuids).await?
    } else {
        Vec::new()
    };
    let all = || rows.iter().chain(parents.iter());
    let user_ids: Vec<i64> = unique(all().map(|r| r.user_id));
    let project_uuids: Vec<String> = unique(all().map(|r| r.project_uuid.clone()));
    let row_ids: Vec<i64> = all().map(|r| r.id).collect();
    let usernames = store::usernames(conn, &user_ids).await?;
    let slugs = store::project_slugs(conn, &project_uuids).await?;
    let activities = store::activity_slugs(conn, &row_ids).await?;

    let view = |r: &TimeRow| TimeView {
        duration: r.duration,
        user: usernames.get(&r.user_id).cloned().unwrap_or_default(),
        project: slugs.get(&r.project_uuid).cloned().unwrap_or_default(),
        activities: activities.get(&r.id).cloned().unwrap_or_default(),
        notes: r.notes.clone(),
        issue_uri: r.issue_uri.clone(),
        date_worked: r.date_worked.format("%Y-%m-%d").to_string(),
        revision: r.revision,
        uuid: r.uuid.clone(),
        created_at: wire_date(r.created_at),
        updated_at: wire_date_opt(r.updated_at),
        deleted_at: wire_date_opt(r.deleted_at),
        parents: None,
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

pub(crate) fn unique<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}
