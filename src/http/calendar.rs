//! `GET /v0/times.ics`: the times of `GET /v0/times` as an RFC 5545
//! calendar (issue 16), for calendar subscriptions with a `read` API token
//! in the URL. One all-day event per time entry, its UID from the time's
//! uuid, so a re-fetched feed updates events instead of duplicating them.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::times::{self, TimeView};
use crate::error::Result;
use crate::http::extract::Auth;
use crate::http::openapi::ListErrors;
use crate::http::pagination::Paging;
use crate::http::query::{Query, TimeFilters};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

/// The times as an iCalendar feed (`text/calendar`): one all-day event per
/// time (summary: project, activities and duration; description: notes and
/// issue URI). Takes the filters and paging of `GET /times`.
#[utoipa::path(
    get, path = "/times.ics", operation_id = "calendar_times", tag = "times",
    params(TimeFilters, Paging),
    responses(
        (status = 200, description = "An RFC 5545 calendar", content_type = "text/calendar", body = String),
        ListErrors,
    )
)]
async fn feed(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(paging): Query<Paging>,
    Query(filters): Query<TimeFilters>,
) -> Result<Response> {
    let query = filters.into_query(false);
    // Every matching time unless `skip`/`limit` say otherwise.
    let page = paging.page(0);
    let listing = times::list(&state.db, &state.caches.time_pages, &caller, &query, page).await?;
    let body = calendar(&state.config.instance_name, &listing.items);
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(response)
}

/// The whole VCALENDAR, CRLF line ends, long lines folded.
pub fn calendar(instance: &str, times: &[TimeView]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//TimeSync//timesync-rs//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape(instance)));
    for time in times {
        event(&mut out, instance, time);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, instance: &str, time: &TimeView) {
    let date = compact(&time.date_worked);
    let next = chrono::NaiveDate::parse_from_str(&time.date_worked, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_else(|| date.clone());
    let stamp = compact(time.updated_at.as_deref().unwrap_or(&time.created_at));
    let project = time
        .project
        .first()
        .map(String::as_str)
        .unwrap_or("(deleted project)");
    let mut summary = project.to_owned();
    if !time.activities.is_empty() {
        summary.push_str(&format!(" ({})", time.activities.join(", ")));
    }
    summary.push_str(&format!(": {}", duration(time.duration)));
    let description: Vec<&str> = [time.notes.as_deref(), time.issue_uri.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    push_line(out, "BEGIN:VEVENT");
    push_line(out, &format!("UID:{}@{}", time.uuid, escape(instance)));
    push_line(out, &format!("DTSTAMP:{stamp}T000000Z"));
    push_line(out, &format!("DTSTART;VALUE=DATE:{date}"));
    push_line(out, &format!("DTEND;VALUE=DATE:{next}"));
    push_line(out, &format!("SUMMARY:{}", escape(&summary)));
    if !description.is_empty() {
        push_line(
            out,
            &format!("DESCRIPTION:{}", escape(&description.join("\n"))),
        );
    }
    push_line(out, &format!("SEQUENCE:{}", time.revision.max(1) - 1));
    push_line(out, "TRANSP:TRANSPARENT");
    push_line(out, "END:VEVENT");
}

/// `2026-01-15` → `20260115`.
fn compact(date: &str) -> String {
    date.replace('-', "")
}

/// Seconds as `1h 30m`, `45m`, `20s`.
fn duration(seconds: i32) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// RFC 5545 TEXT escaping (3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` with CRLF, folded into lines of at most 75 octets
/// (3.1), never inside a UTF-8 character.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> TimeView {
        TimeView {
            duration: 5400,
            user: "alice".into(),
            project: vec!["gwm".into()],
            activities: vec!["dev".into(), "docs".into()],
            notes: Some("Fixed; then, a \\ test\nline two".into()),
            issue_uri: Some("https://example.org/issues/1".into()),
            date_worked: "2026-01-31".into(),
            revision: 2,
            uuid: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            created_at: "2026-01-31".into(),
            updated_at: Some("2026-02-01".into()),
            deleted_at: None,
            parents: None,
        }
    }

    #[test]
    fn one_all_day_event_per_time() {
        let ics = calendar("timesync", &[time()]);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        for line in [
            "UID:0f8fad5b-d9cb-469f-a165-70867728950e@timesync",
            "DTSTART;VALUE=DATE:20260131",
            "DTEND;VALUE=DATE:20260201",
            "DTSTAMP:20260201T000000Z",
            "SUMMARY:gwm (dev\\, docs): 1h 30m",
            "SEQUENCE:1",
        ] {
            assert!(ics.contains(&format!("\r\n{line}\r\n")), "{line} in {ics}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(
            "DESCRIPTION:Fixed\\; then\\, a \\\\ test\\nline two\\nhttps://example.org/issues/1\r\n"
        ));
        assert!(ics.lines().all(|l| l.len() <= 76), "{ics}");
    }

    #[test]
    fn long_lines_fold_between_characters() {
        let mut out = String::new();
        push_line(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(
            out.replace("\r\n ", ""),
            format!("SUMMARY:{}\r\n", "é".repeat(100))
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(60), "1m");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(5400), "1h 30m");
    }
}
