//! What a tool call answers the host: a result (readable text, and the same facts as
//! structured content for programs), or a [`Failure`] — a user's mistake or a run that
//! failed, told as a tool result with `isError: true` so the host's model reads it and can
//! correct itself. Never a protocol error for those: hosts show protocol errors as an
//! opaque "internal error".
//!
//! Every failure text comes from the SDK's error `Display` (which never prints a key's
//! secret) or from this module's own wording; nothing here formats a key.

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::ErrorData;
use serde_json::Value;

use crate::output;

/// A tool call that did not do what was asked, and why, in one line a person (or a model)
/// can act on.
#[derive(Debug)]
pub struct Failure(String);

/// What a tool answers: a result, or a failure told as an error result.
pub type Outcome = Result<CallToolResult, Failure>;

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }

    /// A refusal or error of the platform while doing `what` ("reading the agents"). A key
    /// the platform does not accept is named as such, so the person fixes the key rather
    /// than the call.
    pub fn platform(what: &str, error: relevance::Error) -> Failure {
        let refused_key = matches!(error, relevance::Error::Unauthorized { .. });
        let (text, _) = output::describe_error(&anyhow::Error::new(error));
        match refused_key {
            true => Failure(format!(
                "{what}: the key is not valid (the platform refused it): {text}"
            )),
            false => Failure(format!("{what}: {text}")),
        }
    }
}

impl IntoCallToolResult for Failure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(self.0)]).into())
    }
}

/// A successful result: `text` for people and models, `structured` for programs. The
/// structured content is always a JSON object (MCP's `structuredContent`): anything else
/// is wrapped as `{"result": …}`.
pub fn done(text: impl Into<String>, structured: Value) -> CallToolResult {
    let structured = match structured {
        Value::Object(_) => structured,
        other => serde_json::json!({ "result": other }),
    };
    let mut result = CallToolResult::success(vec![ContentBlock::text(text.into())]);
    result.structured_content = Some(structured);
    result
}
