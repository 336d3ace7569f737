//! "Is my key right?": [`Client::whoami`] asks the platform which key and user the
//! client's credential is (`GET auth/info`, PROTOCOL A14).
//!
//! The answer is plain data ([`KeyInfo`]) and never holds a secret: the key's id, its
//! label, the user it belongs to and what it may reach. A key the platform does not
//! know fails as every call does, with [`Error::Unauthorized`](crate::Error::Unauthorized)
//! naming the project and region it was sent for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::http::Request;
use crate::wire::auth::{InfoAnswer, ItemWire, PermissionsWire};
use crate::wire::string;

/// Which key a credential is, as the platform tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's id (never its value).
    pub key_id: String,
    /// The user the key belongs to.
    pub user_id: String,
    /// The label given to the key in the dashboard, if any.
    pub label: Option<String>,
    /// The user's e-mail address, when the platform tells it.
    pub email: Option<String>,
    /// What the key may reach, by project.
    pub permissions: Permissions,
}

/// What a key may reach: the platform's `FullUserPermissions`, by project id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Permissions {
    /// Each project the key reaches, by id.
    pub projects: BTreeMap<String, ProjectPermissions>,
}

/// A key's permissions in one project: named items, each granting resources and actions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProjectPermissions {
    /// The permission items, by name.
    pub items: BTreeMap<String, PermissionItem>,
}

/// One permission item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionItem {
    /// Resources by kind (`agents`, `workforces`, `knowledge_sets`, ...) then id, `true`
    /// when granted.
    pub resources: BTreeMap<String, BTreeMap<String, bool>>,
    /// Actions by name, `true` when granted.
    pub actions: BTreeMap<String, bool>,
}

impl Client {
    /// Which key and user this client's credential is (`GET auth/info`): the natural
    /// first call of an integration. Works with API keys and embed keys.
    pub async fn whoami(&self) -> Result<KeyInfo> {
        let request = Request::get(crate::wire::auth::INFO_PATH).answer("auth/info answer");
        let answer: InfoAnswer = self.send(request).await?;
        Ok(KeyInfo::from(answer))
    }
}

impl From<InfoAnswer> for KeyInfo {
    fn from(answer: InfoAnswer) -> KeyInfo {
        // Permissions of an unexpected shape read as none rather than failing the call:
        // the key's identity is what the caller asked for.
        let wire: PermissionsWire = serde_json::from_value(answer.permissions).unwrap_or_default();
        let projects = wire
            .projects
            .into_iter()
            .map(|(project, permissions)| {
                let items = permissions
                    .items
                    .into_iter()
                    .map(|(name, item)| (name, PermissionItem::from(item)))
                    .collect();
                (project, ProjectPermissions { items })
            })
            .collect();
        KeyInfo {
            key_id: answer.key_id,
            user_id: answer.user_id,
            label: string(answer.label),
            email: string(answer.email),
            permissions: Permissions { projects },
        }
    }
}

impl From<ItemWire> for PermissionItem {
    fn from(item: ItemWire) -> PermissionItem {
        PermissionItem {
            resources: item.resources,
            actions: item.actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_reads_leniently_and_keeps_the_permissions() {
        let answer: InfoAnswer = serde_json::from_str(
            r#"{"key_id":"k1","user_id":"u1","label":"ci","email":7,"extra":true,
                "permissions":{"projects":{"p1":{"items":{"embed":{
                  "resources":{"agents":{"a1":true}},"actions":{"trigger":true}}}}}}}"#,
        )
        .unwrap();
        let info = KeyInfo::from(answer);
        assert_eq!((info.key_id.as_str(), info.user_id.as_str()), ("k1", "u1"));
        assert_eq!(info.label.as_deref(), Some("ci"));
        assert_eq!(
            info.email, None,
            "an ill-typed optional field reads as absent"
        );
        let item = &info.permissions.projects["p1"].items["embed"];
        assert!(item.resources["agents"]["a1"]);
        assert!(item.actions["trigger"]);
        let odd: InfoAnswer =
            serde_json::from_str(r#"{"key_id":"k","user_id":"u","permissions":[1]}"#).unwrap();
        assert_eq!(KeyInfo::from(odd).permissions, Permissions::default());
        assert!(serde_json::from_str::<InfoAnswer>(r#"{"user_id":"u"}"#).is_err());
    }
}
