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
}
