//! The platform's three regions, as the emulator serves them side by side.
//!
//! One process answers for every region under `/{region code}/...`, so a
//! region is only a label on a project: a key must be used under its
//! project's region code, exactly as the hosted platform refuses a key sent
//! to another region's base URL.

use std::fmt;

/// A region of the hosted platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Region {
    Us,
    Eu,
    Au,
}

impl Region {
    /// Every region, in the order the docs list them.
    pub(crate) const ALL: [Region; 3] = [Region::Us, Region::Eu, Region::Au];

    /// The code that appears in URLs and persisted keys (PROTOCOL A1).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Region::Us => "bcbe5a",
            Region::Eu => "d7b62b",
            Region::Au => "f1db6c",
        }
    }

    /// The short human name, used to make error messages self-explaining.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Region::Us => "US",
            Region::Eu => "EU",
            Region::Au => "AU",
        }
    }

    /// Parses a region code exactly as it appears in a URL.
    pub(crate) fn from_code(code: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|region| region.code() == code)
    }

    /// Parses what a person writes in a seed file: a name or a code, any case.
    pub(crate) fn from_seed(value: &str) -> Option<Region> {
        let value = value.trim();
        Region::ALL.into_iter().find(|region| {
            value.eq_ignore_ascii_case(region.name()) || value.eq_ignore_ascii_case(region.code())
        })
    }

    /// `bcbe5a (US), d7b62b (EU), f1db6c (AU)` — for messages that must list the valid choices.
    pub(crate) fn valid_codes() -> String {
        Region::ALL
            .iter()
            .map(|region| region.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values_accept_names_and_codes_in_any_case() {
        let cases = [
            ("us", Some(Region::Us)),
            ("US", Some(Region::Us)),
            ("Eu", Some(Region::Eu)),
            ("au", Some(Region::Au)),
            ("bcbe5a", Some(Region::Us)),
            ("D7B62B", Some(Region::Eu)),
            ("f1db6c", Some(Region::Au)),
            ("uk", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(Region::from_seed(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn url_codes_are_exact() {
        assert_eq!(Region::from_code("bcbe5a"), Some(Region::Us));
        assert_eq!(Region::from_code("BCBE5A"), None);
        assert_eq!(Region::from_code("us"), None);
    }
}
