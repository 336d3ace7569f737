//! `auth/info` (PROTOCOL A14): which key and user a credential is.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// `GET auth/info`.
pub(crate) const INFO_PATH: &str = "auth/info";

/// The answer: `key_id` and `user_id` are required (they say which key this is);
/// the rest is read leniently, as every answer is.
#[derive(Deserialize)]
pub(crate) struct InfoAnswer {
    pub(crate) key_id: String,
    pub(crate) user_id: String,
    #[serde(default)]
    pub(crate) label: Value,
    #[serde(default)]
    pub(crate) email: Value,
    #[serde(default)]
    pub(crate) permissions: Value,
}

/// `permissions.projects`: the platform's `FullUserPermissions`, by project, then by item.
#[derive(Deserialize, Default)]
pub(crate) struct PermissionsWire {
    #[serde(default)]
    pub(crate) projects: BTreeMap<String, ProjectPermissionsWire>,
}

/// One project's `{"items": {item: {"resources", "actions"}}}`.
#[derive(Deserialize, Default)]
pub(crate) struct ProjectPermissionsWire {
    #[serde(default)]
    pub(crate) items: BTreeMap<String, ItemWire>,
}

/// One item: resources by kind then id, and actions, each `true` when granted.
#[derive(Deserialize, Default)]
pub(crate) struct ItemWire {
    #[serde(default)]
    pub(crate) resources: BTreeMap<String, BTreeMap<String, bool>>,
    #[serde(default)]
    pub(crate) actions: BTreeMap<String, bool>,
}
