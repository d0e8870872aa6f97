//! Durations as people type them: `1:30`, `1.5h`, `1.5`, `90m`, `1h 30m`,
//! `2h`, `45 min`. A bare number is hours. The result is whole seconds.

/// Seconds for `text`, or `None` when it is not a duration we understand
/// (or is longer than the API's largest duration).
pub fn parse(text: &str) -> Option<i64> {
    let text = text.trim().to_ascii_lowercase().replace(',', ".");
    if text.is_empty() {
        return None;
    }
    let seconds = if let Some((h, m)) = text.split_once(':') {
        let hours: i64 = digits(h.trim())?;
        let minutes: i64 = digits(m.trim())?;
        if minutes >= 60 {
            return None;
        }
        hours.checked_mul(3600)?.checked_add(minutes * 60)?
    } else {
        units(&text)?
    };
    (seconds <= crate::domain::validate::MAX_DURATION).then_some(seconds)
}

/// `1h 30m`, `1.5h`, `90m`, `1.5`: numbers each followed by an optional unit.
fn units(text: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut rest = text;
    let mut parts = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "" | "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            _ => return None,
        };
        rest = rest[unit_len..].trim_start();
        total += number * factor;
        parts += 1;
    }
    (parts > 0 && total.is_finite() && total < 1e12).then(|| total.round() as i64)
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 {
        return None;
    }
    s.parse().ok()
}

/// `1:30` for 5400 seconds (hours may exceed 24; seconds are dropped).
pub fn format(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_ways_of_writing_an_hour_and_a_half() {
        for text in [
            "1:30", "1.5h", "1.5", "90m", "1h 30m", "1h30m", "1,5 h", " 90 min ",
        ] {
            assert_eq!(parse(text), Some(5400), "{text}");
        }
        assert_eq!(parse("2h"), Some(7200));
        assert_eq!(parse("0:05"), Some(300));
        assert_eq!(parse("45m"), Some(2700));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for text in [
            "",
            "abc",
            "1:75",
            "h",
            "1x",
            ":30",
            "1:",
            "-1h",
            "1.2.3h",
            "99999999999h",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn formats_hours_and_minutes() {
        assert_eq!(format(5400), "1:30");
        assert_eq!(format(0), "0:00");
        assert_eq!(format(36_000 + 59), "10:00");
    }
}
