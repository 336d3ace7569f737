//! Sending an event to an agent's webhook URL, as an outside system does.
//!
//! An agent's webhook trigger (the platform's docs: "Webhook Triggers") is a URL,
//! `…/latest/agents/hooks/custom-trigger/{project}/{trigger_id}`, that takes any JSON
//! payload without a key: the URL is the secret. The platform turns the payload into a
//! message through the trigger's template. This module is for Rust services that emit such
//! events and for tests; it needs no [`crate::Client`] and sends nothing else.
//!
//! The URL's last segment is a secret, so [`WebhookUrl`]'s `Debug` and `Display`, the
//! request's log span and every error show it as `(redacted)`.

use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::http::{default_http_client, Request, Transport};
use crate::job::JobRef;
use crate::region::Region;
use crate::retry::RetryPolicy;

/// The path an agent's webhook URL ends with, before `{project}/{trigger_id}`.
const HOOK_PATH: [&str; 4] = ["latest", "agents", "hooks", "custom-trigger"];

/// An agent's webhook URL, checked: `http(s)`, ending in
/// `latest/agents/hooks/custom-trigger/{project}/{trigger_id}`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: Url,
    project: String,
    region: Option<Region>,
}

impl WebhookUrl {
    /// Parses a webhook URL as the dashboard shows it. The error never repeats the URL.
    pub fn parse(text: &str) -> Result<WebhookUrl> {
        let refuse = |reason: &str| Error::InvalidWebhookUrl {
            reason: reason.to_string(),
        };
        let url = Url::parse(text.trim()).map_err(|_| refuse("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse(
                "a webhook URL starts with https:// (or http:// for the emulator)",
            ));
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|segments| segments.filter(|segment| !segment.is_empty()).collect())
            .unwrap_or_default();
        let Some(start) = segments.len().checked_sub(HOOK_PATH.len() + 2) else {
            return Err(refuse(
                "expected …/latest/agents/hooks/custom-trigger/{project}/{trigger id}",
            ));
        };
        if segments[start..start + HOOK_PATH.len()] != HOOK_PATH {
            return Err(refuse(
                "expected …/latest/agents/hooks/custom-trigger/{project}/{trigger id}",
            ));
        }
        let project = segments[start + HOOK_PATH.len()].to_string();
        let region = region_of(&url, &segments[..start]);
        Ok(WebhookUrl {
            url,
            project,
            region,
        })
    }

    /// The project the webhook belongs to.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The region, when the URL names one (the hosted `api-{code}` host or the emulator's
    /// `/{code}/latest/` path).
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// Sends `payload` as the webhook's JSON body and reads the answer. Sent again only when
    /// it surely did not arrive (a refused connection): a webhook may not be idempotent.
    pub async fn send(&self, payload: &impl Serialize) -> Result<WebhookReceipt> {
        self.send_with(&default_http_client(None, None)?, payload)
            .await
    }

    /// As [`WebhookUrl::send`], through your own `reqwest` client.
    pub async fn send_with(
        &self,
        http: &reqwest::Client,
        payload: &impl Serialize,
    ) -> Result<WebhookReceipt> {
        let transport = Transport {
            http,
            endpoints: None,
            key: None,
            policy: &RetryPolicy::default(),
        };
        let answer: Value = transport
            .send(Request::webhook(self.url.clone(), payload))
            .await
            .map_err(without_url)?;
        Ok(WebhookReceipt::from_answer(answer))
    }

    /// The URL with its trigger id, for where it must be written out (a config file).
    pub fn expose_url(&self) -> &str {
        self.url.as_str()
    }
}

/// A network error's text names the URL it was sending to: here that is the secret.
fn without_url(error: Error) -> Error {
    match error {
        Error::Network(source) => Error::Network(source.without_url()),
        other => other,
    }
}

/// The region a webhook URL names: `/{code}/latest/...` on the emulator, else the hosted
/// host `api-{code}.stack.tryrelevance.com`.
fn region_of(url: &Url, before_latest: &[&str]) -> Option<Region> {
    if let Some(code) = before_latest.last() {
        if let Ok(region) = Region::from_code(code) {
            return Some(region);
        }
    }
    let host = url.host_str()?;
    let code = host.strip_prefix("api-")?.split('.').next()?;
    Region::from_code(code).ok()
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.url.as_str();
        match text.trim_end_matches('/').rsplit_once('/') {
            Some((head, _)) => write!(f, "{head}/(redacted)"),
            None => f.write_str("(redacted)"),
        }
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookUrl")
            .field("url", &self.to_string())
            .field("project", &self.project)
            .field("region", &self.region)
            .finish()
    }
}

/// What a webhook answered. The platform does not publish this answer, so every field is
/// read if present and `raw` keeps the whole of it; the emulator's answer fills them all.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WebhookReceipt {
    /// The conversation (task) the event went to.
    pub conversation_id: Option<String>,
    /// The job following the run the event started (poll it with
    /// [`crate::Tools::job`]); `None` for a duplicate, which started nothing.
    pub job: Option<JobRef>,
    /// `true` when an event with the same unique id was taken before: nothing was written.
    pub duplicate: bool,
    /// The message template's fields the payload had no value for (they rendered empty).
    pub missing_fields: Vec<String>,
    /// The answer as it came.
    pub raw: Value,
}

impl WebhookReceipt {
    fn from_answer(raw: Value) -> WebhookReceipt {
        let text = |value: &Value| value.as_str().map(str::to_string);
        let job = match (
            text(&raw["job_info"]["studio_id"]),
            text(&raw["job_info"]["job_id"]),
        ) {
            (Some(studio_id), Some(job_id)) => Some(JobRef { studio_id, job_id }),
            _ => None,
        };
        WebhookReceipt {
            conversation_id: text(&raw["conversation_id"]),
            job,
            duplicate: raw["duplicate"].as_bool().unwrap_or(false),
            missing_fields: raw["missing_fields"]
                .as_array()
                .map(|fields| fields.iter().filter_map(text).collect())
                .unwrap_or_default(),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_parse_with_their_project_and_region() {
        // The URL, then its project and region (`None`: refused).
        type Expected<'a> = Option<(&'a str, Option<Region>)>;
        let cases: &[(&str, Expected)] = &[
            (
                "https://api-d7b62b.stack.tryrelevance.com/latest/agents/hooks/custom-trigger/p1/abc123",
                Some(("p1", Some(Region::EU))),
            ),
            (
                "http://127.0.0.1:8787/bcbe5a/latest/agents/hooks/custom-trigger/demo-project/demo-orders-hook",
                Some(("demo-project", Some(Region::US))),
            ),
            (
                "https://proxy.example/latest/agents/hooks/custom-trigger/p2/xyz789/",
                Some(("p2", None)),
            ),
            ("https://api-bcbe5a.stack.tryrelevance.com/latest/agents/trigger", None),
            ("ftp://example.com/latest/agents/hooks/custom-trigger/p/t", None),
            ("not a url", None),
            ("https://x.example/agents/hooks/custom-trigger/p/t", None),
        ];
        for (text, expected) in cases {
            let parsed = WebhookUrl::parse(text);
            match expected {
                Some((project, region)) => {
                    let url = parsed.unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_eq!(url.project(), *project, "{text}");
                    assert_eq!(url.region(), *region, "{text}");
                }
                None => {
                    let error = parsed.expect_err(text).to_string();
                    assert!(!error.contains("custom-trigger/p/t"), "{error}");
                }
            }
        }
    }

    #[test]
    fn the_trigger_id_never_shows() {
        let url = WebhookUrl::parse(
            "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/hooks/custom-trigger/p1/s3cr3t-trigger",
        )
        .unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("custom-trigger/p1/(redacted)"), "{shown}");
        }
        assert!(url.expose_url().ends_with("/s3cr3t-trigger"));
    }

    #[test]
    fn receipts_read_what_the_answer_has() {
        let full = serde_json::json!({
            "conversation_id": "c1", "job_info": {"studio_id": "a1", "job_id": "j1"},
            "duplicate": false, "missing_fields": ["customer.name"],
        });
        let receipt = WebhookReceipt::from_answer(full);
        assert_eq!(receipt.conversation_id.as_deref(), Some("c1"));
        assert_eq!(
            receipt.job,
            Some(JobRef {
                studio_id: "a1".into(),
                job_id: "j1".into()
            })
        );
        assert_eq!(receipt.missing_fields, vec!["customer.name"]);
        let bare = WebhookReceipt::from_answer(serde_json::json!({}));
        assert_eq!(
            (bare.conversation_id, bare.job, bare.duplicate),
            (None, None, false)
        );
    }
}
