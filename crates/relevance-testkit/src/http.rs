//! Raw HTTP for the tests that check the protocol itself (statuses, bodies, headers), below
//! the SDK.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

/// An answer: status, JSON body (`Null` when not JSON), the body's text, headers.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body as JSON, `Null` when it is not JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
    /// The answer's headers.
    pub headers: HeaderMap,
}

impl Answer {
    /// The `message` of an error answer (panics naming the answer when there is none).
    pub fn message(&self) -> &str {
        self.body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("answer has no JSON message: {} {}", self.status, self.text))
    }
}

/// Reads a whole response.
pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("read body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        text,
        headers,
    }
}

/// Sends `request` with an optional `Authorization` value and reads the answer.
pub async fn send(request: reqwest::RequestBuilder, authorization: Option<&str>) -> Answer {
    let request = match authorization {
        Some(value) => request.header("Authorization", value),
        None => request,
    };
    answer(request.send().await.expect("request sent")).await
}
