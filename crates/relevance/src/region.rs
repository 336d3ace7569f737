//! Regions and where their APIs live.
//!
//! A project exists in exactly one region and its keys work only there, so
//! every URL the SDK builds starts from a [`Region`]. [`Endpoints`] is the one
//! place that turns a region (and, for the emulator, a base URL) into the API
//! and streaming URLs; nothing else in the crate formats a host name.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{Error, Result};

/// A region of the platform.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// United States (`bcbe5a`).
    US,
    /// Europe (`d7b62b`).
    EU,
    /// Australia (`f1db6c`).
    AU,
}

impl Region {
    /// Every region, in the platform's order.
    pub const ALL: [Region; 3] = [Region::US, Region::EU, Region::AU];

    /// The region code used in host names and persisted keys.
    pub fn code(self) -> &'static str {
        match self {
            Region::US => "bcbe5a",
            Region::EU => "d7b62b",
            Region::AU => "f1db6c",
        }
    }

    /// The human name shown in the dashboard.
    pub fn name(self) -> &'static str {
        match self {
            Region::US => "United States",
            Region::EU => "Europe",
            Region::AU => "Australia",
        }
    }

    /// The official SDK's constant name (`REGION_US` without the prefix).
    pub fn constant(self) -> &'static str {
        match self {
            Region::US => "US",
            Region::EU => "EU",
            Region::AU => "AU",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.constant(), self.code())
    }
}

impl FromStr for Region {
    type Err = Error;

    /// Accepts a code (`bcbe5a`) or a short name (`us`), in any case, because
    /// people type both into environment variables and flags.
    fn from_str(value: &str) -> Result<Region> {
        let wanted = value.trim();
        Region::ALL
            .into_iter()
            .find(|region| {
                wanted.eq_ignore_ascii_case(region.code())
                    || wanted.eq_ignore_ascii_case(region.constant())
            })
            .ok_or_else(|| Error::InvalidRegion {
                value: value.to_string(),
            })
    }
}

/// The API and streaming URLs of one region.
///
/// Hosted by default; [`Endpoints::with_base_url`] points at one host that
/// serves every region under `/{code}/` (the emulator, PROTOCOL B), so the same
/// code runs against either without other changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoints {
    /// Always ends in `/latest/`, so paths join under it.
    api_base: Url,
    /// The stream URL without its query.
    stream_base: String,
}

impl Endpoints {
    /// The platform's own URLs for `region`.
    pub fn hosted(region: Region) -> Endpoints {
        let code = region.code();
        let api = format!("https://api-{code}.stack.tryrelevance.com/latest/");
        Endpoints {
            api_base: Url::parse(&api).expect("the hosted API URL is a valid URL"),
            stream_base: format!("https://{code}.streaming.tryrelevance.com/v1/stream"),
        }
    }

    /// The URLs of `region` on a single host that serves all regions, e.g.
    /// `http://127.0.0.1:8787` → `http://127.0.0.1:8787/bcbe5a/latest/`.
    /// A path prefix on the base is kept; trailing slashes are ignored.
    pub fn with_base_url(base: &str, region: Region) -> Result<Endpoints> {
        let invalid = |reason: &str| Error::InvalidBaseUrl {
            value: base.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = base.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let parsed =
            Url::parse(trimmed).map_err(|error| invalid(&format!("not a URL ({error})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if parsed.host_str().map_or(true, str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if parsed.query().is_some() {
            return Err(invalid("it must not have a query"));
        }
        if parsed.fragment().is_some() {
            return Err(invalid("it must not have a fragment"));
        }
        // Re-serialise (normalises case and default ports), then drop the
        // slash that a bare host gets.
        let root = parsed.as_str().trim_end_matches('/').to_string();
        let code = region.code();
        let api = format!("{root}/{code}/latest/");
        let api_base =
            Url::parse(&api).map_err(|error| invalid(&format!("not a URL ({error})")))?;
        Ok(Endpoints {
            api_base,
            stream_base: format!("{root}/{code}/v1/stream"),
        })
    }

    /// The API base, ending in `/latest/`.
    pub fn api_base(&self) -> &str {
        self.api_base.as_str()
    }

    /// The live stream URL without its query.
    pub fn stream_base(&self) -> &str {
        &self.stream_base
    }

    /// The URL of an API path such as `agents/list` (leading slashes are
    /// collapsed); an absolute `http(s)://` URL is used as it is.
    ///
    /// The path is appended as text, not resolved as a relative reference, so
    /// an id that looks like `a:b` cannot turn into a scheme.
    pub fn api_url(&self, path: &str) -> Result<Url> {
        let lower = path.get(..8).unwrap_or(path).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Url::parse(path).map_err(|error| Error::InvalidBaseUrl {
                value: path.to_string(),
                reason: format!("not a URL ({error})"),
            });
        }
        let relative = path.trim_start_matches('/');
        let joined = format!("{}{relative}", self.api_base);
        Url::parse(&joined).map_err(|error| Error::InvalidBaseUrl {
            value: joined.clone(),
            reason: format!("not a URL ({error})"),
        })
    }

    /// The live stream URL for a streaming token. The token is pasted as it
    /// is: `+` is the space of `Bearer {token}` (PROTOCOL A8).
    pub fn stream_url(&self, token: &str) -> String {
        format!("{}?authorization=Bearer+{token}", self.stream_base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every accepted value, from `Region::ALL`.
    fn valid_region_values() -> String {
        let codes: Vec<String> = Region::ALL
            .iter()
            .map(|region| format!("{} ({})", region.code(), region.constant()))
            .collect();
        let short: Vec<String> = Region::ALL
            .iter()
            .map(|region| region.constant().to_ascii_lowercase())
            .collect();
        format!("{}, or {}", codes.join(", "), short.join(", "))
    }

    #[test]
    fn the_errors_list_every_region() {
        assert_eq!(valid_region_values(), crate::error::VALID_REGION_VALUES);
    }

    #[test]
    fn region_parse_table() {
        let cases: &[(&str, Option<Region>)] = &[
            ("bcbe5a", Some(Region::US)),
            ("d7b62b", Some(Region::EU)),
            ("f1db6c", Some(Region::AU)),
            ("BCBE5A", Some(Region::US)),
            ("us", Some(Region::US)),
            ("US", Some(Region::US)),
            ("Eu", Some(Region::EU)),
            (" au \n", Some(Region::AU)),
            ("  f1db6c ", Some(Region::AU)),
            ("zz", None),
            ("", None),
            ("usa", None),
            ("bcbe5", None),
            ("United States", None),
        ];
        for (input, expected) in cases {
            let parsed = input.parse::<Region>();
            match expected {
                Some(region) => assert_eq!(parsed.ok(), Some(*region), "{input:?}"),
                None => {
                    let error = parsed.expect_err(input);
                    assert!(matches!(error, Error::InvalidRegion { .. }), "{input:?}");
                    let text = error.to_string();
                    for region in Region::ALL {
                        assert!(text.contains(region.code()), "{text}");
                        assert!(
                            text.contains(&region.constant().to_ascii_lowercase()),
                            "{text}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn region_names_and_display() {
        let cases = [
            (Region::US, "bcbe5a", "United States", "US", "US (bcbe5a)"),
            (Region::EU, "d7b62b", "Europe", "EU", "EU (d7b62b)"),
            (Region::AU, "f1db6c", "Australia", "AU", "AU (f1db6c)"),
        ];
        for (region, code, name, constant, display) in cases {
            assert_eq!(region.code(), code);
            assert_eq!(region.name(), name);
            assert_eq!(region.constant(), constant);
            assert_eq!(region.to_string(), display);
            assert_eq!(code.parse::<Region>().ok(), Some(region));
        }
    }

    #[test]
    fn hosted_endpoints() {
        for region in Region::ALL {
            let code = region.code();
            let endpoints = Endpoints::hosted(region);
            assert_eq!(
                endpoints.api_base(),
                format!("https://api-{code}.stack.tryrelevance.com/latest/")
            );
            assert_eq!(
                endpoints.stream_base(),
                format!("https://{code}.streaming.tryrelevance.com/v1/stream")
            );
        }
    }

    #[test]
    fn base_url_resolution_table() {
        // (base, region, api base, stream base)
        let cases = [
            (
                "http://127.0.0.1:8787",
                Region::US,
                "http://127.0.0.1:8787/bcbe5a/latest/",
                "http://127.0.0.1:8787/bcbe5a/v1/stream",
            ),
            (
                "http://127.0.0.1:8787/",
                Region::EU,
                "http://127.0.0.1:8787/d7b62b/latest/",
                "http://127.0.0.1:8787/d7b62b/v1/stream",
            ),
            (
                "http://127.0.0.1:8787///",
                Region::AU,
                "http://127.0.0.1:8787/f1db6c/latest/",
                "http://127.0.0.1:8787/f1db6c/v1/stream",
            ),
            (
                "https://emu.example/prefix",
                Region::US,
                "https://emu.example/prefix/bcbe5a/latest/",
                "https://emu.example/prefix/bcbe5a/v1/stream",
            ),
            (
                "https://emu.example/prefix/",
                Region::US,
                "https://emu.example/prefix/bcbe5a/latest/",
                "https://emu.example/prefix/bcbe5a/v1/stream",
            ),
            (
                " http://LOCALHOST:80/a/b ",
                Region::EU,
                "http://localhost/a/b/d7b62b/latest/",
                "http://localhost/a/b/d7b62b/v1/stream",
            ),
        ];
        for (base, region, api, stream) in cases {
            let endpoints = Endpoints::with_base_url(base, region).unwrap();
            assert_eq!(endpoints.api_base(), api, "{base}");
            assert_eq!(endpoints.stream_base(), stream, "{base}");
        }
    }

    #[test]
    fn invalid_base_urls_are_refused_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("127.0.0.1:8787", "not a URL"),
            ("localhost:8787", "scheme"),
            ("ftp://host", "scheme"),
            ("not a url", "not a URL"),
            ("http://host/?a=1", "query"),
            ("http://host/#frag", "fragment"),
            ("file:///tmp/x", "scheme"),
        ];
        for (base, reason_part) in cases {
            match Endpoints::with_base_url(base, Region::US) {
                Err(Error::InvalidBaseUrl { value, reason }) => {
                    assert_eq!(value, base);
                    assert!(reason.contains(reason_part), "{base:?}: {reason}");
                }
                other => panic!("{base:?}: expected InvalidBaseUrl, got {other:?}"),
            }
        }
    }

    #[test]
    fn api_url_table() {
        let hosted = Endpoints::hosted(Region::US);
        let local = Endpoints::with_base_url("http://127.0.0.1:9/pre", Region::EU).unwrap();
        let cases = [
            (
                &hosted,
                "agents/list",
                "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/list",
            ),
            (
                &hosted,
                "/agents/list",
                "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/list",
            ),
            (
                &hosted,
                "///agents/a1/get",
                "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/a1/get",
            ),
            (
                &local,
                "agents/list",
                "http://127.0.0.1:9/pre/d7b62b/latest/agents/list",
            ),
            (
                &local,
                "//workforce/items/w1",
                "http://127.0.0.1:9/pre/d7b62b/latest/workforce/items/w1",
            ),
            (
                &local,
                "a:b/get",
                "http://127.0.0.1:9/pre/d7b62b/latest/a:b/get",
            ),
            (
                &local,
                "https://files.example/up?sig=1",
                "https://files.example/up?sig=1",
            ),
            (&hosted, "HTTP://other.example/x", "http://other.example/x"),
        ];
        for (endpoints, path, expected) in cases {
            assert_eq!(
                endpoints.api_url(path).unwrap().as_str(),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn stream_url_pastes_the_token() {
        let hosted = Endpoints::hosted(Region::AU);
        assert_eq!(
            hosted.stream_url("tok-1_2.3"),
            "https://f1db6c.streaming.tryrelevance.com/v1/stream?authorization=Bearer+tok-1_2.3"
        );
        let local = Endpoints::with_base_url("http://127.0.0.1:8787/", Region::US).unwrap();
        assert_eq!(
            local.stream_url("abc"),
            "http://127.0.0.1:8787/bcbe5a/v1/stream?authorization=Bearer+abc"
        );
    }
}
