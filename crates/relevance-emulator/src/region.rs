//! The platform's regions, as the emulator serves them side by side.
//!
//! One process answers for every region under `/{region code}/...`, so a
//! region is only a label on a project: a key must be used under its
//! project's region code, exactly as the hosted platform refuses a key sent
//! to another region's base URL.
//!
//! Any code of six lowercase hex characters is a region (PROTOCOL A1): the
//! platform's schema lists `1e3042` beside the three named ones, and later
//! copies list more. The named three keep their short names (`us`, `eu`,
//! `au`) in seeds and messages.

use std::fmt;

/// A region of the hosted platform: its 6-character code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Region {
    /// Six ASCII characters `0-9a-f`, checked on the way in.
    code: [u8; 6],
}

impl Region {
    /// United States.
    pub(crate) const US: Region = Region { code: *b"bcbe5a" };
    /// Europe.
    pub(crate) const EU: Region = Region { code: *b"d7b62b" };
    /// Australia.
    pub(crate) const AU: Region = Region { code: *b"f1db6c" };

    /// The regions with a short name, in the order the docs list them.
    pub(crate) const NAMED: [Region; 3] = [Region::US, Region::EU, Region::AU];

    /// The code that appears in URLs and persisted keys (PROTOCOL A1).
    pub(crate) fn code(&self) -> &str {
        // Only `0-9a-f` ever get in (the constants and `from_code`).
        std::str::from_utf8(&self.code).unwrap_or_default()
    }

    /// The short human name of a named region (`US`), used to make messages self-explaining.
    pub(crate) fn name(&self) -> Option<&'static str> {
        match *self {
            Region::US => Some("US"),
            Region::EU => Some("EU"),
            Region::AU => Some("AU"),
            _ => None,
        }
    }

    /// Parses a region code exactly as it appears in a URL: six lowercase hex characters.
    pub(crate) fn from_code(code: &str) -> Option<Region> {
        let bytes = code.as_bytes();
        let valid =
            bytes.len() == 6 && bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| {
            let mut fixed = [0u8; 6];
            fixed.copy_from_slice(bytes);
            Region { code: fixed }
        })
    }

    /// Parses what a person writes in a seed file or the admin API: a short name or a code,
    /// any case.
    pub(crate) fn from_seed(value: &str) -> Option<Region> {
        let value = value.trim();
        Region::NAMED
            .into_iter()
            .find(|region| {
                region
                    .name()
                    .is_some_and(|name| value.eq_ignore_ascii_case(name))
            })
            .or_else(|| Region::from_code(&value.to_ascii_lowercase()))
    }

    /// What messages list as the valid choices.
    pub(crate) fn valid_codes() -> String {
        let named: Vec<String> = Region::NAMED.iter().map(Region::to_string).collect();
        format!(
            "any 6 lowercase hex characters, such as {} or 1e3042",
            named.join(", ")
        )
    }
}

impl fmt::Display for Region {
    /// `bcbe5a (US)` for a named region, the bare code for any other.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values_accept_names_and_codes_in_any_case() {
        let other = Region::from_code("1e3042");
        let cases = [
            ("us", Some(Region::US)),
            ("US", Some(Region::US)),
            ("Eu", Some(Region::EU)),
            ("au", Some(Region::AU)),
            ("bcbe5a", Some(Region::US)),
            ("D7B62B", Some(Region::EU)),
            ("f1db6c", Some(Region::AU)),
            ("1e3042", other),
            (" 1E3042 ", other),
            ("uk", None),
            ("", None),
            ("1e304g", None),
        ];
        for (input, expected) in cases {
            assert_eq!(Region::from_seed(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn url_codes_are_exact() {
        assert_eq!(Region::from_code("bcbe5a"), Some(Region::US));
        let other = Region::from_code("1e3042").expect("any hex code is a region");
        assert_eq!((other.code(), other.name()), ("1e3042", None));
        assert_eq!(other.to_string(), "1e3042");
        assert_eq!(Region::EU.to_string(), "d7b62b (EU)");
        for refused in ["BCBE5A", "us", "", "1e304", "1e30421", "zzzzzz"] {
            assert_eq!(Region::from_code(refused), None, "{refused:?}");
        }
    }
}
