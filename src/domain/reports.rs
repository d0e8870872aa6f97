//! Reports on time entries (beyond the spec; no spec endpoint changes):
//! grouped sums (`GET /reports/summary`). They take the filters of
//! `GET /times` and apply the same visibility (see `domain::times`),
//! through the same `TimeFilter`.
//!
//! Summary semantics:
//! - only current revisions count; deleted times only with `include_deleted`;
//! - a time with several activities counts once in every grouping without
//!   `activity`, and once per activity in groupings with it (so the rows
//!   may then add up to more than the total, which counts each time once);
//! - group keys: `user` = username as stored; `project` = the project's
//!   current slugs, sorted (null once the project is deleted: the times of
//!   all deleted projects form one group); `activity` = the activity's
//!   current slug (null for deleted activities, grouped together);
//!   `date` = `YYYY-MM-DD`; `week` = ISO week `YYYY-Www` (ISO year);
//!   `month` = `YYYY-MM` (dates are calendar dates, UTC);
//! - rows are ordered by their keys in `group_by` order, nulls first.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::domain::times::{resolve_filter, TimeQuery};
use crate::domain::Caller;
use crate::error::{Error, Result};
use crate::storage::reports::{self as store, GroupRow, Grouping};
use crate::storage::times::TimeFilter;
use crate::storage::{Catalogue, Db, VersionedCache, Weigh};

/// What a summary row may be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    User,
    Project,
    Activity,
    Date,
    Week,
    Month,
}

impl GroupKey {
    pub const ALL: [GroupKey; 6] = [
        GroupKey::User,
        GroupKey::Project,
        GroupKey::Activity,
        GroupKey::Date,
        GroupKey::Week,
        GroupKey::Month,
    ];

    /// The name in `group_by`, and the key of the row field.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::User => "user",
            GroupKey::Project => "project",
            GroupKey::Activity => "activity",
            GroupKey::Date => "date",
            GroupKey::Week => "week",
            GroupKey::Month => "month",
        }
    }

    /// The keys of `group_by` values, which may repeat and hold
    /// comma-separated lists; an unknown or empty name is `Bad query value`.
    /// Repeated keys count once, in the order first named.
    pub fn parse_list(values: &[&str]) -> Result<Vec<GroupKey>> {
        let mut keys = Vec::new();
        for value in values {
            for name in value.split(',') {
                let key = GroupKey::ALL
                    .into_iter()
                    .find(|k| k.name() == name.trim())
                    .ok_or_else(|| Error::bad_query("group_by", value))?;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }
}

/// The value of one group key: a text, the sorted slugs of a project, or
/// null (deleted project or activity). Ordered nulls first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyValue {
    Null,
    Text(String),
    Slugs(Vec<String>),
}

impl Serialize for KeyValue {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            KeyValue::Null => s.serialize_none(),
            KeyValue::Text(t) => s.serialize_str(t),
            KeyValue::Slugs(v) => v.serialize(s),
        }
    }
}

/// Total seconds and number of times (or time-activity pairs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sums {
    pub duration: i64,
    pub count: i64,
}

/// One row: `{<key>: value, …, "duration": s, "count": n}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub keys: Vec<(GroupKey, KeyValue)>,
    pub sums: Sums,
}

impl Serialize for SummaryRow {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.keys.len() + 2))?;
        for (key, value) in &self.keys {
            map.serialize_entry(key.name(), value)?;
        }
        map.serialize_entry("duration", &self.sums.duration)?;
        map.serialize_entry("count", &self.sums.count)?;
        map.end()
    }
}

/// `GET /reports/summary`: `rows` per group and the `total` (each time
/// counted once).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    #[serde(skip)]
    pub group_by: Vec<GroupKey>,
    pub rows: Vec<SummaryRow>,
    pub total: Sums,
}

/// Summaries computed at once: half the cores (at least one). A summary
/// grouped finely holds up to a group per time; a burst of them waits.
fn summary_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

/// Summaries, reused until times or the catalogue change (`VersionedCache`):
/// a summary is a scan of every matching time, then up to a row per time
/// to name, merge and order (most of its cost at 10,000 rows).
pub type SummaryCache = VersionedCache<Arc<Summary>>;

impl Weigh for Arc<Summary> {
    /// A row's keys are short (names, dates); ~128 bytes each.
    fn weight(&self) -> usize {
        128 * (self.rows.len() + 1)
    }
}

/// Groups the times `query` selects for `caller` by `group_by`: from
/// `cache`, or computed (`compute_summary`).
pub async fn summary(
    db: &Db,
    cache: &SummaryCache,
    caller: &Caller,
    query: &TimeQuery,
    group_by: &[GroupKey],
) -> Result<Arc<Summary>> {
    let (catalogue, versions) = db.catalogue_and_versions().await?;
    let filter = resolve_filter(&catalogue, caller, query)?;
    let key = format!("{group_by:?} {filter:?}");
    Ok(cache
        .get_or_compute(versions, key, || async {
            let _slot = summary_slots().acquire().await.map_err(|_| {
                crate::storage::Error::missing("a summary slot (the semaphore closed)")
            })?;
            compute_summary(db, &catalogue, &filter, group_by)
                .await
                .map(Arc::new)
        })
        .await?)
}

/// SQL groups by every key and sums there; ids then become names here,
/// merging the SQL groups that fall together (the projects deleted since).
async fn compute_summary(
    db: &Db,
    catalogue: &Catalogue,
    filter: &TimeFilter,
    group_by: &[GroupKey],
) -> crate::storage::Result<Summary> {
    let conn = db.conn();
    let has = |k: GroupKey| group_by.contains(&k);
    let grouping = Grouping {
        user: has(GroupKey::User),
        project: has(GroupKey::Project),
        activity: has(GroupKey::Activity),
        date: has(GroupKey::Date),
        week: has(GroupKey::Week),
        month: has(GroupKey::Month),
    };
    let groups = store::group_sums(conn, filter, grouping).await?;
    let total = if grouping.activity {
        // Per activity a time may count more than once: sum again.
        let all = store::group_sums(conn, filter, Grouping::default()).await?;
        sum(all.iter())
    } else {
        // Otherwise the groups partition the times.
        sum(groups.iter())
    };

    let key_value = |key: GroupKey, g: &GroupRow| -> KeyValue {
        let text = |v: Option<&str>| v.map_or(KeyValue::Null, |v| KeyValue::Text(v.to_owned()));
        match key {
            GroupKey::User => text(
                g.user_id
                    .and_then(|id| catalogue.user(id))
                    .map(|u| u.username.as_str()),
            ),
            GroupKey::Project => g
                .project_uuid
                .as_ref()
                .map(|u| catalogue.project_slugs(u))
                .filter(|s| !s.is_empty())
                .map_or(KeyValue::Null, |s| KeyValue::Slugs(s.to_vec())),
            GroupKey::Activity => text(
                g.activity_uuid
                    .as_ref()
                    .and_then(|u| catalogue.live_slug(u)),
            ),
            GroupKey::Date => g.date_worked.map_or(KeyValue::Null, |d| {
                KeyValue::Text(d.format("%Y-%m-%d").to_string())
            }),
            GroupKey::Week => text(g.week.as_deref()),
            GroupKey::Month => text(g.month.as_deref()),
        }
    };
    let mut merged: BTreeMap<Vec<KeyValue>, Sums> = BTreeMap::new();
    for g in groups.iter() {
        let keys = group_by.iter().map(|&k| key_value(k, g)).collect();
        let sums = merged.entry(keys).or_default();
        sums.duration += g.duration;
        sums.count += g.count;
    }
    let rows = merged
        .into_iter()
        .map(|(values, sums)| SummaryRow {
            keys: group_by.iter().copied().zip(values).collect(),
            sums,
        })
        .collect();
    Ok(Summary {
        group_by: group_by.to_vec(),
        rows,
        total,
    })
}

fn sum<'a>(groups: impl Iterator<Item = &'a GroupRow>) -> Sums {
    groups.fold(Sums::default(), |s, g| Sums {
        duration: s.duration + g.duration,
        count: s.count + g.count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_lists_split_dedupe_and_refuse_unknown_names() {
        let keys = GroupKey::parse_list(&["user,week", "project", "user"]).unwrap();
        assert_eq!(
            keys,
            vec![GroupKey::User, GroupKey::Week, GroupKey::Project]
        );
        assert!(GroupKey::parse_list(&["user,"]).is_err());
        assert!(GroupKey::parse_list(&["year"]).is_err());
        assert_eq!(GroupKey::parse_list(&[]).unwrap(), vec![]);
    }

    #[test]
    fn keys_order_nulls_first() {
        assert!(KeyValue::Null < KeyValue::Text("a".into()));
        assert!(KeyValue::Null < KeyValue::Slugs(vec!["a".into()]));
    }
}
