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

/// A region of the platform: its 6-character code (PROTOCOL A1).
///
/// The platform has more regions than the three it names: its own API schema
/// lists `1e3042` beside them, and a later copy lists ten. Any code of six
/// lowercase hex characters is a region, so a key from any project can be
/// used and persisted; [`Region::US`], [`Region::EU`] and [`Region::AU`] are
/// the named ones (with the shorthands `us`, `eu`, `au`).
///
/// `Copy`, and compared by code, so `match region { Region::US => .., _ => .. }`
/// works as it did when this was an enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    /// Six ASCII characters `0-9a-f`, checked on the way in.
    code: [u8; 6],
}

impl Region {
    /// United States (`bcbe5a`).
    pub const US: Region = Region { code: *b"bcbe5a" };
    /// Europe (`d7b62b`).
    pub const EU: Region = Region { code: *b"d7b62b" };
    /// Australia (`f1db6c`).
    pub const AU: Region = Region { code: *b"f1db6c" };

    /// The regions with a name, in the platform's order. Other codes are
    /// regions too ([`Region::from_code`]).
    pub const NAMED: [Region; 3] = [Region::US, Region::EU, Region::AU];

    /// The region of a code exactly as URLs and persisted keys carry it: six
    /// lowercase hex characters (`1e3042`). Shorthands are for
    /// [`FromStr`](std::str::FromStr), which people type into.
    pub fn from_code(code: &str) -> Result<Region> {
        let bytes = code.as_bytes();
        let valid =
            bytes.len() == 6 && bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            return Err(Error::InvalidRegion {
                value: code.chars().take(40).collect(),
            });
        }
        let mut fixed = [0u8; 6];
        fixed.copy_from_slice(bytes);
        Ok(Region { code: fixed })
    }

    /// The region code used in host names and persisted keys.
    pub fn code(&self) -> &str {
        // Only `0-9a-f` ever get in (the constants and `from_code`).
        std::str::from_utf8(&self.code).unwrap_or_default()
    }

    /// The human name shown in the dashboard, for a named region.
    pub fn name(&self) -> Option<&'static str> {
        match *self {
            Region::US => Some("United States"),
            Region::EU => Some("Europe"),
            Region::AU => Some("Australia"),
            _ => None,
        }
    }

    /// The official SDK's constant name (`REGION_US` without the prefix), for
    /// a named region.
    pub fn constant(&self) -> Option<&'static str> {
        match *self {
            Region::US => Some("US"),
            Region::EU => Some("EU"),
            Region::AU => Some("AU"),
            _ => None,
        }
    }
}

impl fmt::Display for Region {
    /// `US (bcbe5a)` for a named region, the bare code for any other.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.constant() {
            Some(constant) => write!(f, "{constant} ({})", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.constant() {
            Some(constant) => write!(f, "Region::{constant}"),
            None => write!(f, "Region({:?})", self.code()),
        }
    }
}

/// Serialised as its code (`"d7b62b"`), the form persisted keys carry.
impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Read from a code as [`Region::from_code`] checks it.
impl<'de> serde::Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Region, D::Error> {
        let code = String::deserialize(deserializer)?;
        Region::from_code(&code).map_err(serde::de::Error::custom)
    }
}

impl FromStr for Region {
    type Err = Error;

    /// Accepts a code (`bcbe5a`, `1e3042`) or a short name (`us`), in any
    /// case and with surrounding space, because people type both into
    /// environment variables and flags.
    fn from_str(value: &str) -> Result<Region> {
        let wanted = value.trim();
        let named = Region::NAMED.into_iter().find(|region| {
            region
                .constant()
                .is_some_and(|constant| wanted.eq_ignore_ascii_case(constant))
        });
        if let Some(region) = named {
            return Ok(region);
        }
        Region::from_code(&wanted.to_ascii_lowercase()).map_err(|_| Error::InvalidRegion {
            value: value.chars().take(40).collect(),
        })
    }
}

/// The API and streaming URLs of one region.
///
/// Hosted by default; [`Endpoints::with_base_url`] points at one host that
/// serves every region under `/{code}/` (the emulator), so the same
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
    /// is: `+` is the space of `Bearer {token}`.
    pub fn stream_url(&self, token: &str) -> String {
        format!("{}?authorization=Bearer+{token}", self.stream_base)
    }
}

#[cfg(test)]
mod tests;
