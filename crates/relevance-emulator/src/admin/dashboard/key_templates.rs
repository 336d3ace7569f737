//! Templates of the key pages ([`super::keys`]): the list of API and embed
//! keys with the create form and the embed-key filter, the one answer that
//! shows a new key's value, and the revoke confirmation.

use maud::{html, Markup};

use super::html::{badge, dash, keys_url, post_form, project_url, seg, when, when_opt};
use crate::service::keys::{KeyKind, KeyView, NewApiKey};

/// Longest label the create form takes (its `maxlength`; the handler refuses longer).
pub(crate) const MAX_LABEL_CHARS: usize = 200;

/// What the key list shows.
#[derive(Debug)]
pub(crate) struct KeyList<'a> {
    pub(crate) project: &'a str,
    pub(crate) csrf: &'a str,
    /// The id of a key just revoked, for the notice on top.
    pub(crate) revoked_notice: Option<&'a str>,
    pub(crate) api_keys: Vec<&'a KeyView>,
    /// Embed keys that pass the filter.
    pub(crate) embed_keys: Vec<&'a KeyView>,
    pub(crate) agent_ids: &'a [String],
    pub(crate) workforce_ids: &'a [String],
    /// The filter as chosen: agent, workforce, status.
    pub(crate) filter: (Option<&'a String>, Option<&'a String>, Option<&'a str>),
}

fn status_badge(key: &KeyView) -> Markup {
    match &key.revoked_at {
        Some(at) => html! { (badge("bad", "revoked")) " " (when(at)) },
        None => badge("ok", "active"),
    }
}

fn hint(key: &KeyView) -> Markup {
    html! {
        @if key.hint.is_empty() {
            span.muted { "(too short for a hint)" }
        } @else {
            code { "…" (key.hint) }
        }
    }
}

fn revoke_cell(project: &str, key: &KeyView) -> Markup {
    html! {
        @if key.revoked_at.is_none() {
            a href={ (keys_url(project)) "/" (seg(&key.id)) "/revoke" } class="revoke" data-key-id=(key.id) {
                "Revoke…"
            }
        }
    }
}

fn options(values: &[String], selected: Option<&String>) -> Markup {
    html! {
        option value="" { "any" }
        @for value in values {
            option value=(value) selected[Some(value) == selected] { (value) }
        }
    }
}

fn api_keys_section(list: &KeyList<'_>) -> Markup {
    let create = html! {
        label {
            "Label (optional)"
            input type="text" name="label" id="label" maxlength=(MAX_LABEL_CHARS);
        }
        button type="submit" id="create-key" { "Create API key" }
    };
    html! {
        h2 { "API keys" }
        form method="post" action=(keys_url(list.project)) class="row" id="create-key-form" {
            (super::html::csrf_field(list.csrf))
            (create)
        }
        table id="api-keys" {
            thead { tr {
                th { "Id" } th { "Label" } th { "Ends in" } th { "Created" } th { "Last used" }
                th.num { "Requests" } th { "Status" } th {}
            } }
            tbody {
                @if list.api_keys.is_empty() {
                    tr { td colspan="8" class="muted" { "No API keys." } }
                }
                @for key in &list.api_keys {
                    tr data-key-id=(key.id) {
                        td { code { (key.id) } }
                        td { @match &key.label { Some(label) => { (label) } None => { (dash()) } } }
                        td { (hint(key)) }
                        td { (when(&key.created_at)) }
                        td { (when_opt(key.last_used_at.as_deref())) }
                        td.num { (key.request_count) }
                        td { (status_badge(key)) }
                        td { (revoke_cell(list.project, key)) }
                    }
                }
            }
        }
    }
}

fn embed_filter_form(list: &KeyList<'_>) -> Markup {
    let (agent, workforce, status) = list.filter;
    html! {
        form method="get" action=(keys_url(list.project)) class="row" id="embed-filter" {
            label { "Agent" select name="agent" { (options(list.agent_ids, agent)) } }
            label { "Workforce" select name="workforce" { (options(list.workforce_ids, workforce)) } }
            label {
                "Status"
                select name="status" {
                    option value="" { "any" }
                    option value="active" selected[status == Some("active")] { "active" }
                    option value="revoked" selected[status == Some("revoked")] { "revoked" }
                }
            }
            button type="submit" class="secondary" { "Filter" }
        }
    }
}

fn embed_scope(project: &str, key: &KeyView) -> Markup {
    let purl = project_url(project);
    html! {
        @match (&key.agent_id, &key.workforce_id) {
            (Some(agent), _) => { "agent " a href={ (purl) "/agents/" (seg(agent)) } { (agent) } }
            (None, Some(workforce)) => {
                "workforce " a href={ (purl) "/workforces/" (seg(workforce)) } { (workforce) }
            }
            (None, None) => { (dash()) }
        }
    }
}

fn embed_keys_section(list: &KeyList<'_>) -> Markup {
    html! {
        h2 { "Embed keys" }
        p.muted {
            "Created by anyone through " code { "get_embed_key" }
            " for a public agent or a workforce; each works until revoked here."
        }
        (embed_filter_form(list))
        table id="embed-keys" {
            thead { tr {
                th { "Id" } th { "Scope" } th { "Task prefix" } th { "Ends in" } th { "Created" }
                th { "Last used" } th.num { "Requests" } th { "Status" } th {}
            } }
            tbody {
                @if list.embed_keys.is_empty() {
                    tr { td colspan="9" class="muted" { "No embed keys match." } }
                }
                @for key in &list.embed_keys {
                    tr data-key-id=(key.id) {
                        td { code { (key.id) } }
                        td { (embed_scope(list.project, key)) }
                        td { code { (key.task_prefix.as_deref().unwrap_or("")) } }
                        td { (hint(key)) }
                        td { (when(&key.created_at)) }
                        td { (when_opt(key.last_used_at.as_deref())) }
                        td.num { (key.request_count) }
                        td { (status_badge(key)) }
                        td { (revoke_cell(list.project, key)) }
                    }
                }
            }
        }
    }
}

/// The key list: a notice after a revocation, API keys, embed keys.
pub(crate) fn list(list: &KeyList<'_>) -> Markup {
    html! {
        @if let Some(revoked) = list.revoked_notice {
            div.card.notice id="revoked-notice" {
                "Key " code { (revoked) } " is revoked: the next request made with it gets 401."
            }
        }
        p { a href=(project_url(list.project)) { "← Project " (list.project) } }
        (api_keys_section(list))
        (embed_keys_section(list))
    }
}

/// The answer to creating an API key: the value, this once.
pub(crate) fn created(project: &str, issued: &NewApiKey) -> Markup {
    html! {
        div.card.warning {
            p {
                strong { "Copy this key now." }
                " It is shown only on this page: the emulator stores only its hash, so no page \
                 will show it again."
            }
            code.secret id="new-key-value" { (issued.secret) }
            p.muted {
                "Key id " code id="new-key-id" { (issued.id) } ". Use it as "
                code { "Authorization: " (project) ":<key>" } "."
            }
        }
        p { a href=(keys_url(project)) id="back-to-keys" { "← Back to the keys of " (project) } }
    }
}

/// What is about to be revoked, in words.
fn key_description(key: &KeyView) -> Markup {
    html! {
        @match (&key.kind, &key.agent_id, &key.workforce_id) {
            (KeyKind::Api, _, _) => {
                "API key " code { (key.id) }
                @if let Some(label) = &key.label { " (" (label) ")" }
            }
            (KeyKind::Embed, Some(agent), _) => {
                "embed key " code { (key.id) } " for agent " code { (agent) }
            }
            (KeyKind::Embed, None, Some(workforce)) => {
                "embed key " code { (key.id) } " for workforce " code { (workforce) }
            }
            (KeyKind::Embed, None, None) => { "embed key " code { (key.id) } }
        }
    }
}

/// Asks before revoking; a key already revoked says when.
pub(crate) fn confirm_revoke(project: &str, csrf: &str, key: &KeyView) -> Markup {
    let url = keys_url(project);
    let what = key_description(key);
    let buttons = html! {
        button type="submit" class="danger" id="confirm-revoke" { "Revoke key" }
        " "
        a href=(url) id="cancel-revoke" { "Cancel" }
    };
    html! {
        @if let Some(at) = &key.revoked_at {
            div.card { "The " (what) " was already revoked " (when(at)) "." }
            p { a href=(url) { "← Back to the keys" } }
        } @else {
            div.card.warning {
                p { "Revoke the " (what) "?" }
                p {
                    "Every client using it gets " strong { "401" }
                    " from its very next request. This cannot be undone."
                }
                (post_form(&format!("{url}/{}/revoke", seg(&key.id)), "row", csrf, buttons))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::html::action_button;

    #[test]
    fn one_button_forms_carry_the_csrf_token() {
        let html = action_button("/dashboard/x", "t<o>k", ("b", "Go", "danger")).into_string();
        assert!(
            html.contains(r#"<form method="post" action="/dashboard/x" class="inline">"#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="csrf" value="t&lt;o&gt;k""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<button type="submit" class="danger" id="b">Go</button>"#),
            "{html}"
        );
    }
}
