//! Where a credential is checked, and what each caller may see.
//!
//! * `policy` — every route's [`Policy`] and the guard that enforces it: the one
//!   place a request is let in or refused with 401/403;
//! * `principal` — `Authorization` header → [`Principal`] (authentication) and the
//!   methods that turn a principal into store scopes (authorisation of reads);
//! * `admin` — the admin token guard; `stream_auth` — the live stream's
//!   streaming token → grant → key still active;
//! * `stream_token` — minting and checking streaming tokens; `issue` / `secret` —
//!   key generation and hashing; `redact` — keeping secrets out of echoes.
//!
//! Handlers never look at a header or a key themselves: they take the
//! [`Principal`] the guard put into the request. Nothing here ever puts a
//! secret into a message.

mod admin;
mod issue;
mod policy;
mod principal;
pub(crate) mod redact;
pub(crate) mod secret;
mod stream_auth;
pub(crate) mod stream_token;

pub(crate) use issue::{issue_api_key, issue_embed_key, register_api_key, EmbedTarget};
pub(crate) use policy::{into_router, route, Policy, Route};
#[cfg(test)]
pub(crate) use principal::is_prefixed_uuid_v4;
#[cfg(test)]
pub(crate) use principal::parse_authorization_for_tests;
pub(crate) use principal::{KeyIfSent, Principal, ProjectKey, Scope, TaskIdRefusal};
pub(crate) use stream_auth::key_still_active;
pub(crate) use stream_token::{IssuedToken, StreamGrant};
