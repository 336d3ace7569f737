//! What the chat asks when a tool run waits for a person (PROTOCOL A10), and how it
//! reads the answer: `Approve "send_email" with {…}? [y/N/e(dit)]`. Pure text in and
//! out, so the wording and the parsing are tested without a terminal; the chat does
//! the reading and the sending.

use anyhow::{bail, Result};
use relevance::{ToolParams, ToolRun};
use serde_json::{Map, Value};

use crate::cli::ApprovalPolicy;

/// What the person (or `--approve`) decided.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ApprovalChoice {
    Approve,
    /// Approve with these params replacing the agent's of the same names.
    ApproveWith(Map<String, Value>),
    Reject,
    /// Ask for the new params (the answer was `e`).
    Edit,
}

/// The decision `--approve` makes without asking, if it was given.
pub(super) fn decided_by_flag(policy: Option<ApprovalPolicy>) -> Option<ApprovalChoice> {
    match policy? {
        ApprovalPolicy::All => Some(ApprovalChoice::Approve),
        ApprovalPolicy::None => Some(ApprovalChoice::Reject),
    }
}

/// The tool's name as the person knows it.
pub(super) fn tool_name(run: &ToolRun) -> &str {
    run.tool_id
        .as_deref()
        .or(run.title.as_deref())
        .unwrap_or("tool")
}

/// The params the run would use, as compact JSON.
pub(super) fn params_text(run: &ToolRun) -> String {
    match &run.params {
        Some(ToolParams::Valid { json, .. }) => json.to_string(),
        Some(ToolParams::Invalid { raw }) => raw.clone(),
        _ => "{}".to_string(),
    }
}

/// `Approve "send_email" with {"to":"…"}? [y/N/e(dit)] `.
pub(super) fn question(run: &ToolRun) -> String {
    format!(
        "Approve \"{}\" with {}? [y/N/e(dit)] ",
        tool_name(run),
        params_text(run)
    )
}

/// `y`/`yes` approves, `e`/`edit` asks for params, anything else (also nothing) rejects:
/// `N` is the default, so a run is never approved by accident.
pub(super) fn answer(line: &str) -> ApprovalChoice {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => ApprovalChoice::Approve,
        "e" | "edit" => ApprovalChoice::Edit,
        _ => ApprovalChoice::Reject,
    }
}

/// The params a person typed after `e`: a JSON object (an empty line keeps the agent's).
pub(super) fn edited_params(line: &str) -> Result<ApprovalChoice> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(ApprovalChoice::Approve);
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(params)) => Ok(ApprovalChoice::ApproveWith(params)),
        Ok(_) => bail!("the params must be a JSON object, e.g. {{\"to\": \"a@example.com\"}}"),
        Err(error) => bail!("the params are not JSON: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_default_to_no() {
        for (line, decision) in [
            ("y", ApprovalChoice::Approve),
            (" YES \n", ApprovalChoice::Approve),
            ("e", ApprovalChoice::Edit),
            ("edit", ApprovalChoice::Edit),
            ("", ApprovalChoice::Reject),
            ("n", ApprovalChoice::Reject),
            ("maybe", ApprovalChoice::Reject),
        ] {
            assert_eq!(answer(line), decision, "{line:?}");
        }
    }

    #[test]
    fn edited_params_are_a_json_object() {
        assert_eq!(edited_params("").unwrap(), ApprovalChoice::Approve);
        let ApprovalChoice::ApproveWith(params) = edited_params(r#"{"to": "b@x"}"#).unwrap() else {
            panic!("not params");
        };
        assert_eq!(params["to"], "b@x");
        assert!(edited_params("[1]").is_err());
        assert!(edited_params("{nope").is_err());
    }
}
