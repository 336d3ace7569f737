//! Workforces: reading one workforce.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::region::Region;

/// The workforces of the client's project, borrowed from a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Workforces<'c> {
    client: &'c Client,
}

/// A workforce, as far as the SDK reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Workforce {
    /// The workforce id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The client's project.
    pub project: String,
    /// The client's region.
    pub region: Region,
}

impl<'c> Workforces<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Workforces { client }
    }

    /// One workforce by id (`GET workforce/items/{id}`).
    pub async fn get(&self, workforce_id: &str) -> Result<Workforce> {
        let path = format!("workforce/items/{workforce_id}");
        let answer: WorkforceItem = self
            .client
            .send(Method::GET, &path, None, "workforce/items answer")
            .await?;
        Ok(answer.into_workforce(self.client.project(), self.client.region()))
    }
}

/// The wire shape (PROTOCOL A6): `{"id", "workforce_metadata": {"name"}}`.
#[derive(Deserialize)]
struct WorkforceItem {
    id: String,
    #[serde(default)]
    workforce_metadata: Value,
}

impl WorkforceItem {
    fn into_workforce(self, project: &str, region: Region) -> Workforce {
        let name = self
            .workforce_metadata
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Workforce {
            id: self.id,
            name,
            project: project.to_string(),
            region,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let cases = [
            (
                r#"{"id":"w1","workforce_metadata":{"name":"Team"}}"#,
                Some(("w1", Some("Team"))),
            ),
            (
                r#"{"id":"w1","workforce_metadata":{},"other":1}"#,
                Some(("w1", None)),
            ),
            (r#"{"id":"w1"}"#, Some(("w1", None))),
            (
                r#"{"id":"w1","workforce_metadata":{"name":3}}"#,
                Some(("w1", None)),
            ),
            (r#"{"workforce_metadata":{"name":"Team"}}"#, None),
        ];
        for (json, expected) in cases {
            let decoded = serde_json::from_str::<WorkforceItem>(json)
                .map(|item| item.into_workforce("p", Region::AU));
            match expected {
                Some((id, name)) => {
                    let workforce = decoded.unwrap();
                    assert_eq!(workforce.id, id);
                    assert_eq!(workforce.name.as_deref(), name);
                    assert_eq!(workforce.project, "p");
                    assert_eq!(workforce.region, Region::AU);
                }
                None => assert!(decoded.is_err(), "{json}"),
            }
        }
    }
}
