//! The one timestamp format the emulator writes: ISO-8601 UTC with milliseconds.
//!
//! Stored and served timestamps share this format so that string order is
//! time order (SQLite sorts them as text).

/// Now, as `2026-11-26T14:23:44.123Z`.
pub(crate) fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Now, in milliseconds since the Unix epoch: the engine's due times and message order.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A millisecond instant in the one format (`1970-01-01T00:00:00.000Z` if out of range).
pub(crate) fn iso_from_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The first whole millisecond at or after an ISO-8601 / RFC 3339 instant, or `None` if
/// `text` is not one. Cursors compare as instants, whatever offset or precision they carry.
pub(crate) fn ms_at_or_after(text: &str) -> Option<i64> {
    let instant = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    let floor = instant.timestamp_millis();
    let sub_millisecond = instant.timestamp_subsec_nanos() % 1_000_000 != 0;
    Some(if sub_millisecond { floor + 1 } else { floor })
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_is_iso_utc_with_millis() {
        let stamp = super::now_iso();
        assert_eq!(stamp.len(), "2026-11-26T14:23:44.123Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'));
        assert_eq!(&stamp[10..11], "T");
        assert_eq!(&stamp[19..20], ".");
    }

    #[test]
    fn cursors_compare_as_instants() {
        let ms = super::ms_at_or_after("2026-01-01T00:00:00.123Z").expect("valid");
        assert_eq!(super::iso_from_ms(ms), "2026-01-01T00:00:00.123Z");
        let cases = [
            ("2026-01-01T01:00:00.123+01:00", Some(ms)),
            ("2026-01-01T00:00:00.1225Z", Some(ms)),
            ("2026-01-01T00:00:00.123001Z", Some(ms + 1)),
            ("yesterday", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(super::ms_at_or_after(text), expected, "{text}");
        }
    }
}
