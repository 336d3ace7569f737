//! The platform's list filters (PROTOCOL A7b): the `filters` query parameter, a JSON array
//! of `{"field", "filter_type", "condition", "condition_value"}`. Each list decides which
//! fields it honours; this module only reads the shape, once for every list.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;

/// One filter as the platform sends it (`filter_type` is read by no list here).
#[derive(Debug, Deserialize)]
pub(super) struct Filter {
    pub(super) field: String,
    #[serde(default)]
    pub(super) condition: Option<String>,
    #[serde(default)]
    pub(super) condition_value: Option<Value>,
}

/// The `filters` query parameter, or no filters when it is absent; 400 naming the shape
/// when it is not a JSON array of filters.
pub(super) fn parse(text: Option<&str>) -> Result<Vec<Filter>, ApiError> {
    const SHAPE: &str = r#"{"field", "filter_type", "condition", "condition_value"}"#;
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    serde_json::from_str(text).map_err(|error| {
        ApiError::bad_request(format!(
            "query parameter `filters` must be a JSON array of {SHAPE}: {error}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn filters_are_read_or_refused_naming_the_parameter_and_the_shape() {
        assert!(parse(None).expect("no filters").is_empty());
        let read = parse(Some(
            r#"[{"field": "conversation.state", "filter_type": "exact_match",
                 "condition": "==", "condition_value": ["idle"]}, {"field": "title"}]"#,
        ))
        .expect("filters");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].field, "conversation.state");
        assert_eq!(read[0].condition.as_deref(), Some("=="));
        assert_eq!(read[0].condition_value, Some(serde_json::json!(["idle"])));
        assert_eq!(
            (read[1].condition.as_ref(), read[1].condition_value.as_ref()),
            (None, None)
        );
        for bad in ["not json", r#"{"field": "x"}"#, r#"[{"condition": "=="}]"#] {
            let refused = parse(Some(bad)).expect_err(bad);
            let said = format!("{refused:?}");
            assert!(
                said.contains("`filters`") && said.contains("condition_value"),
                "{said}"
            );
            assert_eq!(
                refused.into_response().status(),
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
