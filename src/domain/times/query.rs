//! Reading times: `GET /times` (filters resolved to ids, visibility in
//! SQL) and `GET /times/:uuid`.

use std::sync::Arc;

use crate::storage::Conn;

use super::view::{one, render_with_activities, TimeView};
use crate::domain::ids::TimeId;
use crate::domain::validate::{self, is_slug, parse_date};
use crate::domain::{Caller, Listing, Page};
use crate::error::catalogue::action;
use crate::error::{Error, Result};
use crate::storage::times::{self as store, TimeFilter, Viewer};
use crate::storage::{self, Catalogue, Db};

/// The raw filter values of `GET /times` (validated here).
#[derive(Debug, Clone, Default)]
pub struct TimeQuery {
    pub users: Vec<String>,
    pub projects: Vec<String>,
    pub activities: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub include_deleted: bool,
    pub include_revisions: bool,
    /// Only times created, updated or deleted at or after (ms), deleted
    /// ones included whatever `include_deleted` says.
    pub since: Option<i64>,
}

/// Pages of `GET /times`, reused until times or the catalogue change
/// (`storage::VersionedCache`): a page costs a query whose rows the driver
/// hands over one by one, and a view per time; a repeated page (a week
/// reloaded, a client polling) costs the change counters' check alone.
pub type PageCache = storage::VersionedCache<Arc<Listing<TimeView>>>;

impl storage::Weigh for Arc<Listing<TimeView>> {
    fn weight(&self) -> usize {
        self.items.iter().map(weigh).sum::<usize>() + 64
    }
}

/// About the bytes a view holds: its texts (notes may be long) and ~256
/// for the rest; parents included.
fn weigh(time: &TimeView) -> usize {
    let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
    let parents = time.parents.iter().flatten().map(weigh).sum::<usize>();
    256 + text(&time.notes) + text(&time.issue_uri) + parents
}

/// `GET /times`: the page of times the caller may see that match `query`,
/// from `pages` or read.
pub async fn list(
    db: &Db,
    pages: &PageCache,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
) -> Result<Arc<Listing<TimeView>>> {
    let (catalogue, versions) = db.catalogue_and_versions().await?;
    // The resolved filter (visibility included) and the page name the
    // rows; `include_revisions` their shape.
    let filter = resolve_filter(&catalogue, caller, query)?;
    let key = format!("{filter:?} {page:?} {}", query.include_revisions);
    pages
        .get_or_compute(versions, key, || async {
            let counts = (versions, db.counts());
            let listing = list_on(
                db.conn(),
                &catalogue,
                Some(counts),
                &filter,
                query.include_revisions,
                page,
            );
            listing.await.map(Arc::new)
        })
        .await
}

/// How many times the caller may see match `query` (`X-Total-Count`).
pub async fn count(db: &Db, caller: &Caller, query: &TimeQuery) -> Result<u64> {
    let (catalogue, versions) = db.catalogue_and_versions().await?;
    let filter = resolve_filter(&catalogue, caller, query)?;
    let counts = (versions, db.counts());
    total(db.conn(), Some(counts), &filter).await
}

/// How many times match `filter`: from the count cache, when given one.
async fn total(
    conn: &impl Conn,
    counts: Option<(storage::Versions, &storage::CountCache)>,
    filter: &TimeFilter,
) -> Result<u64> {
    Ok(match counts {
        Some((versions, cache)) => {
            cache
                .get_or_compute(versions, format!("times {filter:?}"), || {
                    store::count(conn, filter)
                })
                .await?
        }
        None => store::count(conn, filter).await?,
    })
}

/// Reads a page of `list` on any connection (the query-count test wraps
/// it), with the server's count cache (and the counters it is valid for)
/// or without one.
async fn list_on(
    conn: &impl Conn,
    catalogue: &Catalogue,
    counts: Option<(storage::Versions, &storage::CountCache)>,
    filter: &TimeFilter,
    include_revisions: bool,
    page: Page,
) -> Result<Listing<TimeView>> {
    let total = total(conn, counts, filter).await?;
    let rows = store::page_with_activities(conn, filter, page).await?;
    let items = render_with_activities(conn, catalogue, rows, include_revisions).await?;
    Ok(Listing { items, total })
}

/// Turns the query's names into ids (see `validate::filter_ids`) with the
/// catalogue; bad dates and `start` after `end` are `Bad query value`.
pub(crate) fn resolve_filter(
    catalogue: &Catalogue,
    caller: &Caller,
    query: &TimeQuery,
) -> Result<TimeFilter> {
    let date = |key: &str, value: &Option<String>| -> Result<_> {
        value
            .as_deref()
            .map(|v| parse_date(v).ok_or_else(|| Error::bad_query(key, v)))
            .transpose()
    };
    let start = date("start", &query.start)?;
    let end = date("end", &query.end)?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(Error::bad_query(
                "start",
                query.start.as_deref().unwrap_or(""),
            ));
        }
    }
    let user_ids = crate::domain::users::filter_ids(catalogue, &query.users)?;
    let project_uuids = validate::filter_ids("project", &query.projects, |slug| {
        is_slug(slug)
            .then(|| catalogue.project_uuid_by_slug(slug).map(str::to_owned))
            .flatten()
    })?;
    let activity_uuids = validate::filter_ids("activity", &query.activities, |slug| {
        is_slug(slug)
            .then(|| catalogue.activity_by_slug(slug).map(|a| a.uuid.clone()))
            .flatten()
    })?;
    Ok(TimeFilter {
        user_ids,
        project_uuids,
        activity_uuids,
        start,
        end,
        include_deleted: query.include_deleted,
        since: query.since,
        visible_to: (!caller.sees_all_times()).then(|| Viewer {
            user_id: caller.id,
            watched_projects: catalogue.watched_projects(caller.id).to_vec(),
        }),
    })
}

/// `GET /times/:uuid`.
pub async fn get(
    db: &Db,
    caller: &Caller,
    uuid: &TimeId,
    include_deleted: bool,
    include_revisions: bool,
) -> Result<TimeView> {
    let conn = db.conn();
    let catalogue = db.catalogue().await?;
    let row = store::find_current(conn, uuid)
        .await?
        .ok_or(Error::NotFound("time"))?;
    let visible = caller.sees_all_times()
        || row.user_id == caller.id
        || catalogue
            .roles_of(&row.project_uuid, caller.id)
            .is_some_and(|r| r.spectator || r.manager);
    caller.require(visible, &action::view_time(uuid))?;
    if row.deleted_at.is_some() && !include_deleted {
        return Err(Error::NotFound("time"));
    }
    one(conn, &catalogue, row, include_revisions).await
}

#[cfg(test)]
mod tests {
    //! A list page must cost the same number of queries whatever its size
    //! (no query per time): counted through a wrapper connection.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::{
        ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    };
    use sea_orm_migration::async_trait::async_trait;

    use super::*;
    use crate::storage::times::NewRevision;
    use crate::storage::users::{self, NewUser};

    /// Delegates to a real connection, counting the statements sent.
    struct Counting<'a> {
        inner: &'a DatabaseConnection,
        queries: AtomicUsize,
    }

    #[async_trait]
    impl ConnectionTrait for Counting<'_> {
        fn get_database_backend(&self) -> DbBackend {
            self.inner.get_database_backend()
        }
        async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.execute_raw(stmt).await
        }
        async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.execute_unprepared(sql).await
        }
        async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.query_one_raw(stmt).await
        }
        async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.query_all_raw(stmt).await
        }
    }

    /// A current activity named and slugged `slug`; its uuid.
    async fn insert_activity(conn: &DatabaseConnection, slug: &str, now: i64) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        storage::activities::create(conn, &uuid, slug, slug, now)
            .await
            .unwrap();
        uuid
    }

    /// A current project named and slugged `slug` that `spectator`
    /// spectates; its uuid.
    async fn insert_project(
        conn: &DatabaseConnection,
        slug: &str,
        spectator: i64,
        now: i64,
    ) -> String {
        use storage::projects::{NewMember, ProjectFields};
        let uuid = uuid::Uuid::new_v4().to_string();
        let fields = ProjectFields {
            name: slug.into(),
            uri: None,
            default_activity: None,
        };
        storage::projects::create(conn, &uuid, &fields, now)
            .await
            .unwrap();
        storage::projects::set_slugs(conn, &uuid, &[slug.into()])
            .await
            .unwrap();
        let viewer = NewMember {
            user_id: spectator,
            member: false,
            spectator: true,
            manager: false,
        };
        storage::projects::set_members(conn, &uuid, &[viewer])
            .await
            .unwrap();
        uuid
    }

    /// A database with `n` times (two activities and two revisions each)
    /// spread over `n` users and `n` projects; returns it and a plain
    /// caller who spectates every project.
    async fn database_with_times(dir: &std::path::Path, n: usize) -> (Db, Caller) {
        let url = format!("sqlite://{}", dir.join("t.sqlite3").display());
        let db = Db::connect(&url.parse().unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        let conn = db.conn();
        let now = storage::now_millis();
        let viewer = users::insert(
            conn,
            NewUser {
                username: "viewer".into(),
                active: true,
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let mut activity_uuids = Vec::new();
        for slug in ["dev", "docs"] {
            activity_uuids.push(insert_activity(conn, slug, now).await);
        }
        for i in 0..n {
            let user = users::insert(
                conn,
                NewUser {
                    username: format!("user{i}"),
                    active: true,
                    ..Default::default()
                },
                now,
            )
            .await
            .unwrap();
            let project_uuid = insert_project(conn, &format!("p{i}"), viewer.id, now).await;
            let base = NewRevision {
                uuid: uuid::Uuid::new_v4().to_string(),
                revision: 1,
                user_id: user.id,
                project_uuid,
                duration: 60,
                notes: None,
                issue_uri: None,
                date_worked: chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                created_at: now,
                updated_at: None,
                activity_uuids: activity_uuids.clone(),
            };
            let first = store::insert_revision(conn, base.clone()).await.unwrap();
            store::retire(conn, first.id).await.unwrap();
            let second = NewRevision {
                revision: 2,
                duration: 90,
                updated_at: Some(now + 1),
                ..base
            };
            store::insert_revision(conn, second).await.unwrap();
        }
        let caller = Caller {
            id: viewer.id,
            username: "viewer".into(),
            site_spectator: false,
            site_manager: false,
            site_admin: false,
            credential: crate::domain::caller::Credential::Login,
        };
        (db, caller)
    }

    /// Queries spent listing every time with revisions and filters.
    async fn queries_for(n: usize) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let (db, caller) = database_with_times(dir.path(), n).await;
        let counting = Counting {
            inner: db.conn(),
            queries: AtomicUsize::new(0),
        };
        let query = TimeQuery {
            activities: vec!["dev".into()],
            start: Some("2014-12-31".into()),
            include_revisions: true,
            ..Default::default()
        };
        let catalogue = db.catalogue().await.unwrap();
        let filter = resolve_filter(&catalogue, &caller, &query).unwrap();
        let listing = list_on(
            &counting,
            &catalogue,
            None,
            &filter,
            query.include_revisions,
            Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(listing.items.len(), n);
        assert_eq!(listing.total, n as u64);
        for item in &listing.items {
            assert_eq!(item.activities, vec!["dev", "docs"]);
            assert_eq!(item.project.len(), 1);
            assert!(item.user.starts_with("user"));
            let parents = item.parents.as_ref().unwrap();
            assert_eq!(parents.len(), 1);
            assert_eq!(parents[0].activities, vec!["dev", "docs"]);
        }
        counting.queries.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn list_query_count_does_not_grow_with_the_page() {
        let small = queries_for(2).await;
        let large = queries_for(60).await;
        assert_eq!(small, large);
        // count, page, parents, time activities: names and slugs come
        // from the catalogue.
        assert_eq!(small, 4);
    }
}
