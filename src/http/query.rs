//! Query parameters shared by several routes.

use utoipa::ToSchema;

use crate::domain::times::TimeQuery;
use crate::http::extract::Params;

/// The answer format of a list that can answer CSV.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents what `csv::wanted` reads
pub enum ListFormat {
    Json,
    Csv,
}

/// The filters of `GET /times` as sent (`GET /times` and the summary).
pub fn time_query(params: &Params) -> TimeQuery {
    let owned = |key: &str| params.all(key).into_iter().map(str::to_owned).collect();
    TimeQuery {
        users: owned("user"),
        projects: owned("project"),
        activities: owned("activity"),
        start: params.first("start").map(str::to_owned),
        end: params.first("end").map(str::to_owned),
        include_deleted: params.flag("include_deleted"),
        include_revisions: params.flag("include_revisions"),
    }
}
