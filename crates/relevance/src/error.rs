//! The one error type of the SDK.
//!
//! Every failure a caller can meet — a refused request, an unreachable server,
//! a malformed answer, a bad persisted key, a bad setting — is one variant of
//! [`Error`], so callers match in one place. No variant ever carries a key's
//! secret value: the server's messages are kept (the platform never echoes a
//! key), and key problems name the *field*, not its content.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Every accepted region value, as errors list them. Written out here so the
/// error type depends on nothing of ours; `region`'s tests check it against
/// `Region::NAMED`.
pub(crate) const VALID_REGION_VALUES: &str =
    "a code of 6 lowercase hex characters such as bcbe5a (US), d7b62b (EU), f1db6c (AU), 1e3042; or us, eu, au";

/// The result type of every fallible SDK call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a non-JSON error body may be before it is cut, so that an HTML
/// error page from a proxy does not flood a log line.
const BODY_SNIPPET_CHARS: usize = 200;

/// Everything that can go wrong in the SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform does not accept the key: 401 with no (or an empty)
    /// `Authorization` header, and the platform's **400** whose message
    /// begins `User key` (an unknown, revoked, other project's or other
    /// region's key, as measured on the live platform; PROTOCOL C).
    #[error("unauthorized ({status}){}: {}", suffix(.message), key_hint(.project, .region))]
    Unauthorized {
        /// The HTTP status: 401, or 400 for the platform's unknown-key answer.
        status: u16,
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type` (`authorization_header_missing`,
        /// `unset_error_type`, ...), when it sent one.
        error_type: Option<String>,
        /// The project the refused key was sent for, when the SDK sent one.
        project: Option<String>,
        /// The region (as displayed: `EU (d7b62b)`, `1e3042`) it was sent to.
        region: Option<String>,
    },
    /// 403: the key is valid but its kind may never do this.
    #[error("forbidden (403){}", suffix_or(.message, "this key may not do this; embed keys reach only their own agent or workforce"))]
    Forbidden {
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// 404: the object does not exist or lies outside the key's scope (the
    /// platform answers both the same way on purpose).
    #[error("not found (404){}", suffix(.message))]
    NotFound {
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// 400: the server refused the request's body or query.
    #[error("bad request (400){}", suffix(.message))]
    BadRequest {
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// 429: too many requests; wait `retry_after` when the server said how long.
    #[error("rate limited (429){}{}", retry_after_suffix(.retry_after), suffix(.message))]
    RateLimited {
        /// The server's `Retry-After`, when given in seconds.
        retry_after: Option<Duration>,
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// 5xx: the server failed.
    #[error("server error ({status}){}", suffix(.message))]
    Server {
        /// The HTTP status code.
        status: u16,
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// Any other non-2xx answer (for example 413, body too large).
    #[error("request failed ({status}){}", suffix(.message))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's `message`, or a snippet of a non-JSON body.
        message: Option<String>,
        /// The server's `error_type`, when it sent one.
        error_type: Option<String>,
    },
    /// The request never got an HTTP answer (connection, TLS, timeout).
    ///
    /// Secrets travel only in headers, never in URLs, and a URL carrying a
    /// query string is stripped from the source, so its Display is safe to log.
    #[error("could not reach the server")]
    Network(#[source] reqwest::Error),
    /// A 2xx answer whose body is not what the protocol promises.
    #[error("could not decode the {what}")]
    Decode {
        /// What was being decoded, e.g. "agents/list answer".
        what: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A key could not be made or restored.
    #[error(transparent)]
    InvalidKey(#[from] KeyDataError),
    /// A region that is neither a code nor a short name.
    #[error("unknown region '{value}' (valid: {VALID_REGION_VALUES})")]
    InvalidRegion {
        /// The value given.
        value: String,
    },
    /// A base URL (or request URL) that cannot be used.
    #[error("invalid base URL '{value}': {reason}")]
    InvalidBaseUrl {
        /// The value given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A text that is not an agent's webhook URL. The URL is never repeated: its last
    /// segment is a secret.
    #[error("invalid webhook URL: {reason}")]
    InvalidWebhookUrl {
        /// Why it was refused.
        reason: String,
    },
    /// A required environment variable is not set (or empty).
    #[error("environment variable {variable} is not set")]
    MissingEnv {
        /// The variable's name.
        variable: &'static str,
    },
    /// An environment variable is set to an unusable value.
    #[error("environment variable {variable} is invalid: {reason}")]
    InvalidEnv {
        /// The variable's name.
        variable: &'static str,
        /// Why it was refused (never the value of a secret variable).
        reason: String,
    },
    /// A file to attach could not be read.
    #[error("could not read the file '{path}'")]
    ReadFile {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A task status name that is not one of the statuses.
    #[error("unknown task status '{value}' (valid: not-started, idle, queued, running, action, paused, completed, cancelled, error)")]
    InvalidTaskStatus {
        /// The value given.
        value: String,
    },
    /// A time given to the SDK that is not ISO-8601 (e.g. a message cursor
    /// that has to be compared on the client).
    #[error("invalid timestamp '{value}': expected an ISO-8601 time")]
    InvalidTimestamp {
        /// The value given.
        value: String,
    },
    /// A 2xx answer that decodes but breaks a rule of the protocol, e.g. a
    /// list that hands back the cursor it was just given (paging on would
    /// never end).
    #[error("invalid {what}: {problem}")]
    InvalidAnswer {
        /// Which answer, e.g. "workforce/tasks/list answer".
        what: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A decision (approve or reject, PROTOCOL A10) about a tool run that does
    /// not wait for one: it needs no approval, was already decided, or the
    /// server (400) knows no waiting run by that id. Nothing was changed.
    #[error("tool run '{action_request_id}' is not waiting for a decision{}", suffix(.message))]
    RunNotWaiting {
        /// The run's `action_request_id` ("" when it has none).
        action_request_id: String,
        /// The server's `message`, when it refused.
        message: Option<String>,
    },
    /// An embed key acts only in its own tasks (ids that start with its task
    /// prefix); this task is another prefix's. Refused before any request.
    #[error("task '{task_id}' is not one of this embed key's tasks (its id does not start with the key's task prefix)")]
    NotOwnTask {
        /// The task's id.
        task_id: String,
    },
    /// An agent's run ended in an error (its job ended `chain-failed`, PROTOCOL A15).
    #[error("the agent's run in task '{task_id}' failed: {}", errors.join("; "))]
    RunFailed {
        /// The task the run went to.
        task_id: String,
        /// What the platform said went wrong, one entry per error.
        errors: Vec<String>,
    },
    /// The operation exists for agent tasks only (PROTOCOL A10, A11), and
    /// this is a workforce task.
    #[error("{operation} works on agent tasks only; this is a workforce task")]
    AgentTaskOnly {
        /// What was asked, e.g. "approve".
        operation: &'static str,
    },
    /// Knowledge data refused before any request (PROTOCOL A16): a row that
    /// is not a JSON object, a set name the platform would refuse.
    #[error("invalid knowledge: {problem}")]
    InvalidKnowledge {
        /// What is wrong, naming the row or the rule.
        problem: String,
    },
    /// The process-wide default client was used in the wrong order.
    #[error(transparent)]
    DefaultClient(#[from] DefaultClientError),
    /// A [`KeyStore`](crate::KeyStore) could not be read or written (a file
    /// system error, `localStorage` missing or full). A stored value that is
    /// not a key is [`Error::InvalidKey`] instead.
    #[error("could not {action} the stored key '{name}'")]
    KeyStore {
        /// `read`, `write` or `remove`.
        action: &'static str,
        /// The name the key is stored under.
        name: String,
        /// What the file system or the browser said (never the stored value).
        #[source]
        source: std::io::Error,
    },
    /// A key cookie could not be written as asked: too large for a browser
    /// to keep, an unusable cookie name or attribute. A cookie *value* that is
    /// not a key is [`Error::InvalidKey`] instead, as for every store.
    #[error(transparent)]
    Cookie(#[from] CookieError),
}

/// Why a key cookie was refused before anything was written. Names the
/// cookie and the rule, never the value (it holds the secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The cookie's name and encoded value together are over the browsers'
    /// limit (RFC 6265bis and Chromium: 4096 bytes); a browser would drop
    /// the cookie without a word, so it is refused here instead.
    #[error("cookie '{name}': name and encoded value are {size} bytes, over the {limit}-byte limit browsers keep")]
    TooLarge {
        /// The cookie name.
        name: String,
        /// Bytes of name plus encoded value.
        size: usize,
        /// The limit, [`COOKIE_SIZE_LIMIT`](crate::COOKIE_SIZE_LIMIT).
        limit: usize,
    },
    /// The name is not an RFC 6265 token (empty, or with a space, a control
    /// character or one of `()<>@,;:\"/[]?={}`).
    #[error("'{name}' is not a valid cookie name: {reason}")]
    InvalidName {
        /// The name given (a name, never a secret).
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// An attribute value that cannot be written (a `Path` that does not
    /// start with `/` or holds `;`, a `Max-Age` of zero, ...).
    #[error("cookie attribute {attribute}: {reason}")]
    InvalidAttribute {
        /// `Path`, `Max-Age`, `Secure`.
        attribute: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

/// Why a key could not be made or restored. Names the field, never a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyDataError {
    /// The persisted text is not JSON at all.
    #[error("persisted key: invalid JSON at line {line} column {column}")]
    InvalidJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// The persisted JSON is valid but not an object.
    #[error("persisted key: not a JSON object")]
    NotAnObject,
    /// A required persisted field is absent or `null`.
    #[error("persisted key: missing field `{field}`")]
    MissingField {
        /// The persisted (camelCase) field name.
        field: &'static str,
    },
    /// A required persisted field is an empty string.
    #[error("persisted key: field `{field}` is empty")]
    EmptyField {
        /// The persisted (camelCase) field name.
        field: &'static str,
    },
    /// A persisted field has the wrong JSON type.
    #[error("persisted key: field `{field}`: expected a string, found {found}")]
    WrongType {
        /// The persisted (camelCase) field name.
        field: &'static str,
        /// The JSON type found ("number", "object", ...).
        found: &'static str,
    },
    /// The persisted `region` is not a region.
    #[error(
        "persisted key: field `region`: unknown region '{value}' (valid: {VALID_REGION_VALUES})"
    )]
    UnknownRegion {
        /// The value found (a region, never a secret).
        value: String,
    },
    /// Both `agentId` and `workforceId` are present.
    #[error("persisted key: fields `agentId` and `workforceId` are both present; a key is scoped to one agent or one workforce")]
    ConflictingTargets,
    /// A value given to a key constructor is empty.
    #[error("key: {field} must not be empty")]
    EmptyValue {
        /// What was empty ("secret", "project", "agent id", ...).
        field: &'static str,
    },
    /// The key cannot be put into an `Authorization` header (e.g. it holds a
    /// line break). The value itself is never shown.
    #[error(
        "key: the secret or project contains characters that cannot be sent in an HTTP header"
    )]
    NotHeaderSafe,
    /// A stored value that had to be percent-decoded (a cookie) does not
    /// decode to UTF-8 text, so it cannot be the persisted JSON.
    #[error("persisted key: the stored value is not percent-encoded UTF-8")]
    InvalidEncoding,
}

/// Misuse of the process-wide default client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefaultClientError {
    /// `create_client` was called a second time.
    #[error("a default client already exists: create_client may be called once per process")]
    AlreadyCreated,
    /// `default_client` was called before any default client was registered.
    #[error("no default client: call relevance::create_client first")]
    NotCreated,
}

impl Error {
    /// The HTTP status of a refused request, if this error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { status, .. } => Some(*status),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::BadRequest { .. } => Some(400),
            Error::RateLimited { .. } => Some(429),
            Error::Server { status, .. } | Error::Http { status, .. } => Some(*status),
            Error::Network(source) => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed: network
    /// failures, rate limiting and server errors.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Network(_) | Error::RateLimited { .. } | Error::Server { .. }
        )
    }

    /// The server's own explanation of a refused request.
    pub fn server_message(&self) -> Option<&str> {
        self.answer().and_then(|(message, _)| message.as_deref())
    }

    /// The platform's `error_type` of a refused request (PROTOCOL C), e.g.
    /// `authorization_header_missing` or `unset_error_type`.
    pub fn error_type(&self) -> Option<&str> {
        self.answer()
            .and_then(|(_, error_type)| error_type.as_deref())
    }

    /// The `message` and `error_type` of a refused request.
    fn answer(&self) -> Option<(&Option<String>, &Option<String>)> {
        match self {
            Error::Unauthorized {
                message,
                error_type,
                ..
            }
            | Error::Forbidden {
                message,
                error_type,
            }
            | Error::NotFound {
                message,
                error_type,
            }
            | Error::BadRequest {
                message,
                error_type,
            }
            | Error::RateLimited {
                message,
                error_type,
                ..
            }
            | Error::Server {
                message,
                error_type,
                ..
            }
            | Error::Http {
                message,
                error_type,
                ..
            } => Some((message, error_type)),
            _ => None,
        }
    }

    /// Turns a non-2xx answer into the error for its status and body. The
    /// body decides where the status alone would mislead: the platform
    /// answers an unknown key with 400 `User key ... not found`, which is
    /// [`Error::Unauthorized`], not a bad request.
    pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        let ErrorBody {
            message,
            error_type,
        } = ErrorBody::read(body);
        match status {
            400 if is_unknown_key(message.as_deref()) || is_auth_type(error_type.as_deref()) => {
                Error::Unauthorized {
                    status,
                    message,
                    error_type,
                    project: None,
                    region: None,
                }
            }
            400 => Error::BadRequest {
                message,
                error_type,
            },
            401 => Error::Unauthorized {
                status,
                message,
                error_type,
                project: None,
                region: None,
            },
            403 => Error::Forbidden {
                message,
                error_type,
            },
            404 => Error::NotFound {
                message,
                error_type,
            },
            429 => Error::RateLimited {
                retry_after: retry_after(headers),
                message,
                error_type,
            },
            500..=599 => Error::Server {
                status,
                message,
                error_type,
            },
            _ => Error::Http {
                status,
                message,
                error_type,
            },
        }
    }

    /// Names the project and region a refused key was sent for, so the
    /// message says which of the three to check. Other errors pass as they are.
    pub(crate) fn for_key(self, project: &str, region: impl std::fmt::Display) -> Error {
        match self {
            Error::Unauthorized {
                status,
                message,
                error_type,
                ..
            } => Error::Unauthorized {
                status,
                message,
                error_type,
                project: Some(project.to_string()),
                region: Some(region.to_string()),
            },
            other => other,
        }
    }

    /// Wraps a transport error, dropping a URL that carries a query string
    /// (a signed upload URL or a stream token must not end up in a log).
    pub(crate) fn network(source: reqwest::Error) -> Error {
        let has_query = source.url().is_some_and(|url| url.query().is_some());
        if has_query {
            Error::Network(source.without_url())
        } else {
            Error::Network(source)
        }
    }
}

/// What an error body says: the platform's `{"message", "error_type"}`
/// (PROTOCOL C), or a short snippet of whatever text came back.
struct ErrorBody {
    message: Option<String>,
    error_type: Option<String>,
}

impl ErrorBody {
    fn read(body: &[u8]) -> ErrorBody {
        if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
            let text = |field: &str| match object.get(field) {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(other) if !other.is_null() => Some(other.to_string()),
                _ => None,
            };
            return ErrorBody {
                message: text("message"),
                error_type: text("error_type"),
            };
        }
        ErrorBody {
            message: snippet(body),
            error_type: None,
        }
    }
}

/// The start of a non-JSON body, cut so an HTML error page does not flood a log line.
fn snippet(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut snippet: String = text.chars().take(BODY_SNIPPET_CHARS).collect();
    if text.chars().count() > BODY_SNIPPET_CHARS {
        snippet.push('…');
    }
    Some(snippet)
}

/// The live platform's unknown-key answer: 400 whose message begins
/// `User key` ("User key with id … not found …").
fn is_unknown_key(message: Option<&str>) -> bool {
    message.is_some_and(|message| {
        message
            .trim_start()
            .get(..8)
            .is_some_and(|start| start.eq_ignore_ascii_case("user key"))
    })
}

/// `error_type`s that are about the credentials whatever the status.
fn is_auth_type(error_type: Option<&str>) -> bool {
    matches!(error_type, Some("authorization_header_missing"))
}

/// The advice of an [`Error::Unauthorized`]: which project and region the
/// key was sent for, when known, and the three things to check.
fn key_hint(project: &Option<String>, region: &Option<String>) -> String {
    match (project, region) {
        (Some(project), Some(region)) => format!(
            "the platform does not accept this key for project '{project}' in region {region}; \
             check the key, the project id and the region"
        ),
        _ => "check the key, the project id and the region".to_string(),
    }
}

/// `Retry-After` in delta-seconds; the HTTP-date form is not used by the
/// platform and is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

fn suffix(message: &Option<String>) -> String {
    match message {
        Some(message) => format!(": {message}"),
        None => String::new(),
    }
}

/// The server's message, or a hint of our own when the server gave none: a bare status code
/// leaves the user guessing.
fn suffix_or(message: &Option<String>, hint: &str) -> String {
    match message {
        Some(_) => suffix(message),
        None => format!(": {hint}"),
    }
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!(", retry after {}s", delay.as_secs()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    /// (status, retry-after, body, expected variant, expected message, retryable)
    type MappingCase<'a> = (
        u16,
        Option<&'a str>,
        &'a [u8],
        &'a str,
        Option<&'a str>,
        bool,
    );

    #[test]
    fn status_mapping_table() {
        let json = br#"{"message":"the reason"}"#.as_slice();
        let html = b"<html>Bad Gateway</html>".as_slice();
        // (status, retry-after, body, expected variant name, expected message, retryable)
        let cases: &[MappingCase] = &[
            (400, None, json, "BadRequest", Some("the reason"), false),
            (401, None, json, "Unauthorized", Some("the reason"), false),
            (401, None, b"", "Unauthorized", None, false),
            (403, None, json, "Forbidden", Some("the reason"), false),
            (404, None, json, "NotFound", Some("the reason"), false),
            (404, None, b"not here", "NotFound", Some("not here"), false),
            (
                429,
                Some("7"),
                json,
                "RateLimited",
                Some("the reason"),
                true,
            ),
            (429, None, json, "RateLimited", Some("the reason"), true),
            (500, None, json, "Server", Some("the reason"), true),
            (
                502,
                None,
                html,
                "Server",
                Some("<html>Bad Gateway</html>"),
                true,
            ),
            (503, None, br#"{"other":1}"#, "Server", None, true),
            (413, None, json, "Http", Some("the reason"), false),
            (418, None, b"  teapot \n", "Http", Some("teapot"), false),
            // The live platform's unknown key: a 400 that is about the key (PROTOCOL C).
            (
                400,
                None,
                br#"{"message":"User key with id k1 not found in project p1","error_type":"unset_error_type"}"#,
                "Unauthorized",
                Some("User key with id k1 not found in project p1"),
                false,
            ),
            (
                400,
                None,
                br#"{"message":"user key not found"}"#,
                "Unauthorized",
                Some("user key not found"),
                false,
            ),
            (
                400,
                None,
                br#"{"message":"missing","error_type":"authorization_header_missing"}"#,
                "Unauthorized",
                Some("missing"),
                false,
            ),
            // A 400 about anything else stays a bad request, even with the platform's type.
            (
                400,
                None,
                br#"{"message":"Userkeys must be a list","error_type":"unset_error_type"}"#,
                "BadRequest",
                Some("Userkeys must be a list"),
                false,
            ),
        ];
        for &(status, retry, body, variant, message, retryable) in cases {
            let error = Error::from_response(status, &headers(retry), body);
            let name = match &error {
                Error::BadRequest { .. } => "BadRequest",
                Error::Unauthorized { .. } => "Unauthorized",
                Error::Forbidden { .. } => "Forbidden",
                Error::NotFound { .. } => "NotFound",
                Error::RateLimited { .. } => "RateLimited",
                Error::Server { .. } => "Server",
                Error::Http { .. } => "Http",
                _ => "other",
            };
            assert_eq!(name, variant, "status {status}");
            assert_eq!(error.status(), Some(status), "status {status}");
            assert_eq!(error.server_message(), message, "status {status}");
            assert_eq!(error.is_retryable(), retryable, "status {status}");
            if let Some(message) = message {
                assert!(error.to_string().contains(message), "{error}");
            }
        }
    }

    #[test]
    fn error_type_is_kept_and_a_refused_key_names_project_and_region() {
        let missing = br#"{"message":"Authorization header cannot be missing or empty","error_type":"authorization_header_missing"}"#;
        let error = Error::from_response(401, &HeaderMap::new(), missing);
        assert_eq!(error.error_type(), Some("authorization_header_missing"));
        let unknown =
            br#"{"message":"User key with id k not found","error_type":"unset_error_type"}"#;
        let error = Error::from_response(400, &HeaderMap::new(), unknown).for_key("p1", "1e3042");
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.error_type(), Some("unset_error_type"));
        assert_eq!(
            error.to_string(),
            "unauthorized (400): User key with id k not found: the platform does not accept this \
             key for project 'p1' in region 1e3042; check the key, the project id and the region"
        );
        let other = Error::from_response(404, &HeaderMap::new(), unknown).for_key("p1", "EU");
        assert!(matches!(other, Error::NotFound { .. }));
        assert_eq!(other.error_type(), Some("unset_error_type"));
        let plain = Error::from_response(500, &HeaderMap::new(), b"oops");
        assert_eq!(plain.error_type(), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let cases: &[(Option<&str>, Option<Duration>)] = &[
            (Some("7"), Some(Duration::from_secs(7))),
            (Some(" 120 "), Some(Duration::from_secs(120))),
            (Some("Wed, 21 Oct 2015 07:28:00 GMT"), None),
            (Some("-3"), None),
            (None, None),
        ];
        for (header, expected) in cases {
            match Error::from_response(429, &headers(*header), b"{}") {
                Error::RateLimited { retry_after, .. } => {
                    assert_eq!(retry_after, *expected, "{header:?}")
                }
                other => panic!("expected RateLimited, got {other:?}"),
            }
        }
    }

    #[test]
    fn hints_are_in_the_display() {
        let unauthorized =
            Error::from_response(401, &HeaderMap::new(), br#"{"message":"bad key"}"#);
        assert_eq!(
            unauthorized.to_string(),
            "unauthorized (401): bad key: check the key, the project id and the region"
        );
        let forbidden = Error::from_response(403, &HeaderMap::new(), b"");
        assert!(forbidden
            .to_string()
            .contains("embed keys reach only their own"));
        let explained =
            Error::from_response(403, &HeaderMap::new(), br#"{"message":"needs an API key"}"#);
        assert_eq!(explained.to_string(), "forbidden (403): needs an API key");
        let limited = Error::from_response(429, &headers(Some("5")), br#"{"message":"slow down"}"#);
        assert_eq!(
            limited.to_string(),
            "rate limited (429), retry after 5s: slow down"
        );
    }

    #[test]
    fn long_non_json_bodies_are_cut() {
        let body = "x".repeat(1000);
        let error = Error::from_response(500, &HeaderMap::new(), body.as_bytes());
        let message = error.server_message().unwrap();
        assert_eq!(message.chars().count(), BODY_SNIPPET_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn default_client_errors_read_as_specified() {
        assert_eq!(
            Error::from(DefaultClientError::AlreadyCreated).to_string(),
            "a default client already exists: create_client may be called once per process"
        );
        assert_eq!(
            Error::from(DefaultClientError::NotCreated).to_string(),
            "no default client: call relevance::create_client first"
        );
    }

    #[test]
    fn non_http_errors_have_no_status_and_are_not_retryable() {
        let errors = [
            Error::MissingEnv {
                variable: "RELEVANCE_API_KEY",
            },
            Error::InvalidRegion { value: "zz".into() },
            Error::InvalidKey(KeyDataError::NotAnObject),
        ];
        for error in errors {
            assert_eq!(error.status(), None);
            assert!(!error.is_retryable());
            assert_eq!(error.server_message(), None);
        }
    }
}
