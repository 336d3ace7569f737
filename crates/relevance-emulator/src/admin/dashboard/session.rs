//! Dashboard sessions: a random cookie id mapped server-side to a session
//! that holds the CSRF token for its forms.
//!
//! The cookie carries only the id (>=128 random bits); the map is keyed by
//! the id's SHA-256 so a lookup never compares the secret itself. Sessions
//! live in memory: a restart signs everyone out, which for a local emulator
//! is a feature. The map is bounded so that a script hammering the sign-in
//! form cannot grow it without limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use super::html::Chrome;
use super::DashboardState;
use crate::auth::secret::{hash_secret, random_token, secrets_equal};

/// The cookie's name.
pub(crate) const COOKIE_NAME: &str = "relevance_dashboard";

/// A session unused for this long is forgotten.
const IDLE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

/// At most this many sessions at once; signing in past it drops the least recently used.
const MAX_SESSIONS: usize = 256;

/// 32 base62 characters: ~190 bits, for both the session id and the CSRF token.
const TOKEN_CHARS: usize = 32;

struct Session {
    csrf: String,
    last_seen: Instant,
}

/// Every open session.
#[derive(Default)]
pub(crate) struct Sessions {
    by_id_hash: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A poisoned map only means a panic elsewhere mid-update; its entries are still valid.
        self.by_id_hash
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a session and answers the cookie id to hand to the browser.
    pub(crate) fn open(&self) -> String {
        let id = random_token(TOKEN_CHARS);
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, session| now.duration_since(session.last_seen) < IDLE_TIMEOUT);
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, session)| session.last_seen)
                .map(|(hash, _)| hash.clone());
            match oldest {
                Some(hash) => sessions.remove(&hash),
                None => break,
            };
        }
        sessions.insert(
            hash_secret(&id),
            Session {
                csrf: random_token(TOKEN_CHARS),
                last_seen: now,
            },
        );
        id
    }

    /// The session's CSRF token, if `id` names a live session (and marks it used).
    fn touch(&self, id: &str) -> Option<String> {
        let now = Instant::now();
        let mut sessions = self.lock();
        let hash = hash_secret(id);
        let session = sessions.get_mut(&hash)?;
        if now.duration_since(session.last_seen) >= IDLE_TIMEOUT {
            sessions.remove(&hash);
            return None;
        }
        session.last_seen = now;
        Some(session.csrf.clone())
    }

    /// Ends a session; unknown ids are ignored.
    pub(crate) fn close(&self, id: &str) {
        self.lock().remove(&hash_secret(id));
    }
}

/// The `Set-Cookie` value that hands a new session id to the browser.
pub(crate) fn session_cookie(id: &str) -> HeaderValue {
    // The id is base62, so the header value is always valid.
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={id}; HttpOnly; SameSite=Strict; Path=/dashboard"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("relevance_dashboard=; Max-Age=0"))
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "relevance_dashboard=; HttpOnly; SameSite=Strict; Path=/dashboard; Max-Age=0",
    )
}

/// The session id from the request's cookies, if any.
pub(crate) fn cookie_session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// A request from a signed-in browser; extracting it from a request without
/// a live session answers a 303 redirect to the sign-in page.
#[derive(Clone)]
pub(crate) struct SignedIn {
    id: String,
    csrf: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn").finish_non_exhaustive()
    }
}

impl SignedIn {
    /// The signed-in top bar (navigation and the sign-out form) for this session.
    pub(crate) fn chrome(&self) -> Chrome<'_> {
        Chrome::SignedIn { csrf: &self.csrf }
    }

    /// The token this session's forms must send back.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The cookie id, to close the session on sign-out.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Whether a submitted form's `csrf` field is this session's token (constant time).
    pub(crate) fn csrf_matches(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|token| secrets_equal(token, &self.csrf))
    }
}

impl FromRequestParts<DashboardState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &DashboardState,
    ) -> Result<Self, Response> {
        cookie_session_id(&parts.headers)
            .and_then(|id| {
                let csrf = state.sessions.touch(&id)?;
                Some(SignedIn { id, csrf })
            })
            .ok_or_else(|| Redirect::to(super::SIGN_IN_PATH).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_closed_and_its_csrf_is_stable() {
        let sessions = Sessions::default();
        let id = sessions.open();
        assert!(id.len() >= 22, "at least 128 bits of base62");
        let csrf = sessions.touch(&id).expect("open session");
        assert_eq!(sessions.touch(&id), Some(csrf));
        assert_eq!(sessions.touch("not-a-session"), None);
        sessions.close(&id);
        assert_eq!(sessions.touch(&id), None);
    }

    #[test]
    fn the_map_is_bounded() {
        let sessions = Sessions::default();
        let first = sessions.open();
        for _ in 0..MAX_SESSIONS {
            sessions.open();
        }
        assert_eq!(sessions.lock().len(), MAX_SESSIONS);
        assert_eq!(sessions.touch(&first), None, "the oldest was dropped");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let cases = [
            ("relevance_dashboard=abc", Some("abc")),
            ("a=1; relevance_dashboard=xyz; b=2", Some("xyz")),
            ("relevance_dashboard=", None),
            ("other=abc", None),
        ];
        for (cookie, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, HeaderValue::from_static(cookie));
            assert_eq!(cookie_session_id(&headers).as_deref(), expected, "{cookie}");
        }
    }
}
