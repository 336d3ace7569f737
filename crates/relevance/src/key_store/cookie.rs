//! Keys in cookies: [`CookieKeyStore`] keeps a page's embed key in a
//! `document.cookie` (browser only); [`KeyCookie`] turns a key into a
//! server's own `HttpOnly` `Set-Cookie` header and back from the `Cookie`
//! request header (every target, no web framework needed).
//!
//! Both write one cookie per key: its value is exactly [`Key::to_json`]
//! percent-encoded as JavaScript's `encodeURIComponent` does,
//! so a cookie a JavaScript app wrote with
//! `encodeURIComponent(JSON.stringify(key.toJSON()))` restores here without a
//! request, and a JavaScript app's `JSON.parse(decodeURIComponent(value))`
//! reads ours. A cookie that does not hold a key is [`Error::InvalidKey`], as
//! in every other [`KeyStore`], so an [`EmbedSession`](crate::EmbedSession)
//! reports and replaces it.
//!
//! Attributes, and why each default:
//!
//! | attribute | default | why |
//! |---|---|---|
//! | `Secure` | on | the key is a credential: it must never travel over plain HTTP. Browsers treat `http://localhost` and `http://127.0.0.1` as secure contexts (Chromium keeps a `Secure` cookie set there, which the browser tests check), so local development needs no switch. |
//! | `SameSite` | `Strict` | the cookie has no business on a request another site starts. `None` is not offered. |
//! | `Path` | `/` | one key per site; narrow it to keep keys of two apps on one host apart. |
//! | `Max-Age` | 400 days | the longest a browser keeps a cookie (RFC 6265bis, Chromium since 104): a longer one is cut to that. After it the cookie is gone, as if cleared, and a session makes a new key. |
//! | `HttpOnly` | only in [`KeyCookie`] | a page cannot read an `HttpOnly` cookie, so the browser store never sets it. |
//!
//! No `Domain` is written: the cookie is host-only, never sent to
//! subdomains. A `__Host-` name (the strictest cookie prefix: `Secure`,
//! `Path=/`, no `Domain`) is a good choice and is checked. Unlike
//! `localStorage`, a cookie is not isolated by port, and is sent with every
//! request to its host that the browser makes with credentials: a `fetch`
//! to another origin (the hosted platform) does not carry it.
//!
//! This module must never log or format a cookie value: it holds a secret.

use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{CookieError, Error, KeyDataError, Result};
use crate::key::Key;

/// The most a browser keeps of one cookie's name plus value, in bytes
/// (RFC 6265bis section 5.6; Chromium's `kMaxCookieNamePlusValueSize`).
/// A larger key cookie is refused with [`CookieError::TooLarge`].
pub const COOKIE_SIZE_LIMIT: usize = 4096;

/// The longest attribute value a browser keeps (RFC 6265bis, Chromium): a
/// longer `Path` would be ignored, so it is refused.
const ATTRIBUTE_VALUE_LIMIT: usize = 1024;

/// Browsers keep a cookie at most this long (RFC 6265bis): the default `Max-Age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// What `encodeURIComponent` leaves as it is: letters, digits and
/// `- _ . ! ~ * ' ( )`. Everything else is `%XX` of its UTF-8 bytes, so the
/// value holds only cookie-octets (no `"`, `,`, `;`, `\` or space).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// When the browser sends the cookie along with a request another site
/// started. `None` is not offered: a key has no use on a cross-site request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieSameSite {
    /// Only on requests of the cookie's own site (the default).
    #[default]
    Strict,
    /// Also on top-level navigations from another site (following a link).
    Lax,
}

/// The attributes of a key cookie: `Secure`, `SameSite`, `Path`, `Max-Age`.
/// [`CookieAttributes::default`] is the recommended set (see the module
/// documentation's table for why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttributes {
    path: String,
    max_age: Duration,
    same_site: CookieSameSite,
    secure: bool,
}

impl Default for CookieAttributes {
    /// `Secure; SameSite=Strict; Path=/; Max-Age=34560000` (400 days).
    fn default() -> CookieAttributes {
        CookieAttributes {
            path: "/".to_string(),
            max_age: DEFAULT_MAX_AGE,
            same_site: CookieSameSite::Strict,
            secure: true,
        }
    }
}

impl CookieAttributes {
    /// The `Path` the cookie is scoped to (default `/`). Must start with `/`
    /// and hold no `;` or control character; checked when a cookie is
    /// written ([`CookieError::InvalidAttribute`]).
    pub fn path(mut self, path: impl Into<String>) -> CookieAttributes {
        self.path = path.into();
        self
    }

    /// How long the browser keeps the cookie (default 400 days, the longest
    /// browsers allow), in whole seconds. Zero is refused when a cookie is
    /// written: it would delete the cookie instead.
    pub fn max_age(mut self, max_age: Duration) -> CookieAttributes {
        self.max_age = max_age;
        self
    }

    /// The `SameSite` attribute (default [`CookieSameSite::Strict`]).
    pub fn same_site(mut self, same_site: CookieSameSite) -> CookieAttributes {
        self.same_site = same_site;
        self
    }

    /// Whether the cookie is `Secure`: sent over HTTPS only (default on).
    /// Turning it off is for plain-HTTP test hosts other than
    /// localhost/127.0.0.1, where a browser drops `Secure` cookies; never in
    /// production.
    pub fn secure(mut self, secure: bool) -> CookieAttributes {
        self.secure = secure;
        self
    }

    /// The `Path` attribute.
    pub fn path_value(&self) -> &str {
        &self.path
    }

    /// The `Max-Age` attribute.
    pub fn max_age_value(&self) -> Duration {
        self.max_age
    }

    /// The `SameSite` attribute.
    pub fn same_site_value(&self) -> CookieSameSite {
        self.same_site
    }

    /// Whether `Secure` is set.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Every attribute checked against what a browser would keep, for the
    /// cookie `name`; answers `Max-Age` in seconds.
    fn check(&self, name: &str) -> Result<i64, CookieError> {
        check_name(name)?;
        let path = &self.path;
        if !path.starts_with('/') {
            return Err(invalid_attribute("Path", "must start with '/'"));
        }
        if path.len() > ATTRIBUTE_VALUE_LIMIT {
            return Err(invalid_attribute(
                "Path",
                format!("longer than {ATTRIBUTE_VALUE_LIMIT} bytes"),
            ));
        }
        if path.chars().any(|c| c == ';' || c.is_control()) {
            return Err(invalid_attribute(
                "Path",
                "must not hold ';' or a control character",
            ));
        }
        let seconds = self.max_age.as_secs();
        if seconds == 0 {
            return Err(invalid_attribute(
                "Max-Age",
                "must be at least one second (0 deletes the cookie)",
            ));
        }
        let prefix = |p: &str| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p);
        if (prefix("__Secure-") || prefix("__Host-")) && !self.secure {
            return Err(invalid_attribute(
                "Secure",
                format!("a cookie named '{name}' must be Secure (its prefix says so)"),
            ));
        }
        if prefix("__Host-") && path != "/" {
            return Err(invalid_attribute(
                "Path",
                format!("a cookie named '{name}' must have Path=/ (its prefix says so)"),
            ));
        }
        Ok(i64::try_from(seconds).unwrap_or(i64::MAX))
    }

    /// The cookie line `name=value; attributes` (a `Set-Cookie` value or
    /// what a page assigns to `document.cookie`).
    fn render(&self, name: &str, value: &str, max_age: i64, http_only: bool) -> String {
        let mut cookie = ::cookie::Cookie::new(name.to_string(), value.to_string());
        cookie.set_path(self.path.clone());
        cookie.set_max_age(::cookie::time::Duration::seconds(max_age));
        cookie.set_secure(self.secure);
        cookie.set_http_only(http_only);
        cookie.set_same_site(match self.same_site {
            CookieSameSite::Strict => ::cookie::SameSite::Strict,
            CookieSameSite::Lax => ::cookie::SameSite::Lax,
        });
        cookie.to_string()
    }

    /// The line that stores `key` under `name`, after every check.
    fn line_for(&self, name: &str, key: &Key, http_only: bool) -> Result<String> {
        let max_age = self.check(name)?;
        let value = encode(key);
        let size = name.len() + value.len();
        if size > COOKIE_SIZE_LIMIT {
            return Err(CookieError::TooLarge {
                name: name.to_string(),
                size,
                limit: COOKIE_SIZE_LIMIT,
            }
            .into());
        }
        Ok(self.render(name, &value, max_age, http_only))
    }

    /// The line that deletes the cookie `name` (empty value, `Max-Age=0`,
    /// the same `Path`: a cookie is only replaced by one of the same path).
    fn removal_for(&self, name: &str, http_only: bool) -> Result<String> {
        self.check(name)?;
        Ok(self.render(name, "", 0, http_only))
    }
}

fn invalid_attribute(attribute: &'static str, reason: impl Into<String>) -> CookieError {
    CookieError::InvalidAttribute {
        attribute,
        reason: reason.into(),
    }
}

/// A cookie name must be an RFC 6265 token: visible ASCII, no separator.
fn check_name(name: &str) -> Result<(), CookieError> {
    let invalid = |reason| CookieError::InvalidName {
        name: name.chars().take(80).collect(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    for byte in name.bytes() {
        if !(0x21..=0x7e).contains(&byte) {
            return Err(invalid(
                "only visible ASCII is allowed (no space or control character)",
            ));
        }
        if b"()<>@,;:\\\"/[]?={}".contains(&byte) {
            return Err(invalid("it holds one of ()<>@,;:\\\"/[]?={}"));
        }
    }
    Ok(())
}

/// [`Key::to_json`] as `encodeURIComponent` writes it.
fn encode(key: &Key) -> String {
    utf8_percent_encode(&key.to_json(), URI_COMPONENT).to_string()
}

/// A cookie value back to a key: percent-decoded (as `decodeURIComponent`
/// does; an unencoded JSON value passes through), then [`Key::from_json`].
fn decode(value: &str) -> Result<Key> {
    let json = percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| Error::InvalidKey(KeyDataError::InvalidEncoding))?;
    Key::from_json(&json)
}

/// The raw value of the first cookie called `name` in a `Cookie` header (or
/// `document.cookie`, which has the same `a=1; b=2` form). Browsers list the
/// cookie with the longest path first, which is the one meant. Other cookies,
/// malformed or not, are none of our business and are skipped.
fn find_value(header: &str, name: &str) -> Option<String> {
    ::cookie::Cookie::split_parse(header)
        .filter_map(|cookie| cookie.ok())
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value_trimmed().to_string())
}

/// A key in a server's own cookie: `Set-Cookie` for an answer, and the key
/// back from a request's `Cookie` header.
///
/// For servers (or server-rendered apps) that keep a visitor's embed key on
/// their side of the wire: the cookie is `HttpOnly`, so no script on the
/// page can read it, and it comes back with every request to the server.
/// The value has the same shape as `CookieKeyStore`'s (the persisted key JSON,
/// URL-encoded); only `HttpOnly` differs. Plain strings in and out, so it
/// fits any web framework.
///
/// ```
/// use relevance::{EmbedTarget, Key, KeyCookie, Region};
///
/// # fn run() -> relevance::Result<()> {
/// let cookie = KeyCookie::new("__Host-relevance-key");
/// let key = Key::embed("embed-...", Region::US, "proj", EmbedTarget::Agent("a1".into()), "pfx")?;
/// let set_cookie = cookie.set_cookie(&key)?; // the `Set-Cookie` header's value
/// assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Secure"));
///
/// // A later request's `Cookie` header:
/// let header = format!("theme=dark; {}", set_cookie.split(';').next().unwrap());
/// let restored = cookie.read(&header)?.expect("the key cookie is there");
/// assert_eq!(restored.to_json(), key.to_json());
/// # Ok(())
/// # }
/// # run().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCookie {
    name: String,
    attributes: CookieAttributes,
}

impl KeyCookie {
    /// The cookie `name` with the default attributes ([`CookieAttributes::default`]
    /// plus `HttpOnly`). The name is checked when a header is made or read.
    pub fn new(name: impl Into<String>) -> KeyCookie {
        KeyCookie {
            name: name.into(),
            attributes: CookieAttributes::default(),
        }
    }

    /// Other attributes (`HttpOnly` is always added).
    pub fn attributes(mut self, attributes: CookieAttributes) -> KeyCookie {
        self.attributes = attributes;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Set-Cookie` header value that stores `key`:
    /// `name=<URL-encoded key JSON>; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=...`.
    ///
    /// The answer holds the secret: send it, never log it. A cookie over
    /// [`COOKIE_SIZE_LIMIT`] is [`CookieError::TooLarge`]; a bad name or
    /// attribute is [`CookieError::InvalidName`] / [`CookieError::InvalidAttribute`].
    pub fn set_cookie(&self, key: &Key) -> Result<String> {
        self.attributes.line_for(&self.name, key, true)
    }

    /// The `Set-Cookie` header value that deletes the cookie (the visitor's
    /// next request then has no key, and a new one is made).
    pub fn removal(&self) -> Result<String> {
        self.attributes.removal_for(&self.name, true)
    }

    /// The key in a request's `Cookie` header value (`a=1; name=...; b=2`):
    /// `Ok(None)` when the header has no cookie of this name; other cookies
    /// are ignored. A cookie of this name that is not a key is
    /// [`Error::InvalidKey`] naming the problem (never the value).
    pub fn read(&self, cookie_header: &str) -> Result<Option<Key>> {
        check_name(&self.name)?;
        find_value(cookie_header, &self.name)
            .map(|value| decode(&value))
            .transpose()
    }
}

#[cfg(target_family = "wasm")]
pub use browser::CookieKeyStore;

#[cfg(target_family = "wasm")]
mod browser {
    use std::time::Duration;

    use wasm_bindgen::JsCast;

    use super::{decode, find_value, CookieAttributes, CookieSameSite};
    use crate::error::Result;
    use crate::key::Key;
    use crate::key_store::{store_error, KeyStore};

    /// Keys in the page's cookies (browser only): one cookie per name,
    /// written through `document.cookie` with `Secure; SameSite=Strict;
    /// Path=/; Max-Age=<400 days>` unless told otherwise.
    ///
    /// The value is the official JavaScript SDK's `toJSON` shape,
    /// URL-encoded: what `document.cookie = name + "=" +
    /// encodeURIComponent(JSON.stringify(key.toJSON()))` writes, so a cookie
    /// a JavaScript app wrote restores without a request. Prefer it over
    /// [`LocalStorageKeyStore`](crate::LocalStorageKeyStore) when your own
    /// server should see the key too (it is sent to your host with every
    /// request) or when the key should expire (`Max-Age`).
    ///
    /// `Secure` works on `https://` pages and on `http://localhost` and
    /// `http://127.0.0.1` (secure contexts: Chromium keeps the cookie there,
    /// as the browser tests show). A page on another plain-HTTP host would
    /// have it dropped without a word: a save checks that the browser kept
    /// the cookie, and says so with [`crate::Error::KeyStore`] if it did not
    /// (cookies disabled, `Secure` on plain HTTP, an `HttpOnly` cookie of the
    /// same name set by the server). A cookie too large to be kept is
    /// refused before anything is written ([`crate::CookieError::TooLarge`]).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct CookieKeyStore {
        attributes: CookieAttributes,
    }

    impl CookieKeyStore {
        /// The store with the default attributes ([`CookieAttributes::default`]).
        pub fn new() -> CookieKeyStore {
            CookieKeyStore::default()
        }

        /// The `Path` of the cookies (default `/`). A page reads only the
        /// cookies whose path its own URL is under.
        pub fn path(mut self, path: impl Into<String>) -> CookieKeyStore {
            self.attributes = self.attributes.path(path);
            self
        }

        /// How long the browser keeps a key (default 400 days, the most a
        /// browser allows). A session whose cookie expired makes a new key,
        /// as after the storage was cleared; saving the key again on each
        /// start (`store.save(name, session.key())`) makes the lifetime count
        /// from the last visit.
        pub fn max_age(mut self, max_age: Duration) -> CookieKeyStore {
            self.attributes = self.attributes.max_age(max_age);
            self
        }

        /// The `SameSite` attribute (default [`CookieSameSite::Strict`]).
        pub fn same_site(mut self, same_site: CookieSameSite) -> CookieKeyStore {
            self.attributes = self.attributes.same_site(same_site);
            self
        }

        /// Whether the cookie is `Secure` (default on; see
        /// [`CookieAttributes::secure`] for the one reason to turn it off).
        pub fn secure(mut self, secure: bool) -> CookieKeyStore {
            self.attributes = self.attributes.secure(secure);
            self
        }

        /// The attributes every cookie of this store is written with.
        pub fn attributes(&self) -> &CookieAttributes {
            &self.attributes
        }

        /// Whether the page's path is inside the cookie's `Path`, so that
        /// `document.cookie` shows the cookie to this page (RFC 6265
        /// path-match).
        fn page_sees_path(&self) -> bool {
            let Some(page) = web_sys::window().and_then(|w| w.location().pathname().ok()) else {
                return false;
            };
            let path = self.attributes.path_value();
            page == path
                || (page.starts_with(path)
                    && (path.ends_with('/') || page[path.len()..].starts_with('/')))
        }
    }

    fn document(action: &'static str, name: &str) -> Result<web_sys::HtmlDocument> {
        web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.dyn_into::<web_sys::HtmlDocument>().ok())
            .ok_or_else(|| {
                store_error(
                    action,
                    name,
                    browser_error("there is no HTML document (not a page?)"),
                )
            })
    }

    /// A browser exception as an I/O error. It names the problem (a
    /// `SecurityError` in a sandboxed frame); it never holds a cookie value.
    fn browser_error(message: &str) -> std::io::Error {
        std::io::Error::other(message.to_string())
    }

    fn read_cookies(action: &'static str, name: &str) -> Result<String> {
        document(action, name)?.cookie().map_err(|error| {
            store_error(
                action,
                name,
                browser_error(&format!("document.cookie refused: {error:?}")),
            )
        })
    }

    fn write_cookie(action: &'static str, name: &str, line: &str) -> Result<()> {
        document(action, name)?.set_cookie(line).map_err(|error| {
            store_error(
                action,
                name,
                browser_error(&format!("document.cookie refused: {error:?}")),
            )
        })
    }

    impl KeyStore for CookieKeyStore {
        fn load(&self, name: &str) -> Result<Option<Key>> {
            super::check_name(name)?;
            let cookies = read_cookies("read", name)?;
            find_value(&cookies, name)
                .map(|value| decode(&value))
                .transpose()
        }

        fn save(&self, name: &str, key: &Key) -> Result<()> {
            let line = self.attributes.line_for(name, key, false)?;
            write_cookie("write", name, &line)?;
            // `document.cookie = ...` never fails: a cookie the browser would
            // not keep is dropped in silence. Read it back to know.
            if self.page_sees_path() {
                let kept = find_value(&read_cookies("write", name)?, name);
                let expected = line.split(';').next().and_then(|pair| pair.split_once('='));
                if kept.as_deref() != expected.map(|(_, value)| value) {
                    return Err(store_error(
                        "write",
                        name,
                        browser_error(
                            "the browser did not keep the cookie (cookies disabled, Secure on a plain-HTTP host other than localhost, or an HttpOnly cookie of that name)",
                        ),
                    ));
                }
            }
            Ok(())
        }

        fn remove(&self, name: &str) -> Result<()> {
            let line = self.attributes.removal_for(name, false)?;
            write_cookie("remove", name, &line)
        }
    }
}

#[cfg(test)]
mod tests;
