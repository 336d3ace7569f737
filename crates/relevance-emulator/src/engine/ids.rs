//! Ids the engine makes: UUID v4 text from the OS random source, and the ids the
//! platform's message schema (PROTOCOL A7c) asks of every message.

use rand::rngs::OsRng;
use rand::RngCore;

/// A random UUID v4, e.g. `0b7e3e1c-58f1-4c83-9d2b-3c2f2a4f7a10`: task and message ids.
pub(crate) fn new_item_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The key under which a message names its own platform message in
/// `original_message_ids` (PROTOCOL A7c): `user`, `agent`, `agent-error`, `action-request`
/// (a tool run); the workforce message types, which the platform's schema does not
/// describe, use their own type as the key. Migration 5 (`store::schema`) uses the same map.
pub(crate) fn origin_key(kind: &str) -> &str {
    match kind {
        "user-message" => "user",
        "agent-message" => "agent",
        "tool-run" => "action-request",
        other => other,
    }
}

/// The stable action id of one tool (`kind` `tool` or `agent`, `tool_id` its name or the
/// sub-agent's id) of one agent: `action_details.action` of its tool runs (PROTOCOL A7c).
/// Readable rather than random so that migration 5 can compute the same id in SQL.
pub(crate) fn action_id(agent_id: &str, kind: &str, tool_id: &str) -> String {
    format!("{agent_id}:{kind}:{tool_id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_uuid_v4() {
        let id = super::new_item_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, super::new_item_id());
    }
}
