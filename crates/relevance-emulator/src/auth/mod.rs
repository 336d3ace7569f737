//! Where a key is checked: `Authorization` header → [`Principal`] or 401, and
//! what each principal may see.
//!
//! Authentication happens only in [`Principal`]'s extractor; authorisation
//! only in the methods that turn a principal into store [`Visibility`] and in
//! [`ProjectKey`], which refuses embed keys with 403. Handlers never look at a
//! header or a key themselves. Nothing here ever puts a secret into a message.
//! The live stream's credential, a streaming token, is minted and checked in
//! `stream_token`.

mod admin;
mod issue;
mod principal;
pub(crate) mod redact;
pub(crate) mod secret;
mod stream_token;

pub(crate) use admin::require_admin;
pub(crate) use issue::{issue_api_key, issue_embed_key, register_api_key, EmbedTarget};
#[cfg(test)]
pub(crate) use principal::parse_authorization_for_tests;
pub(crate) use principal::{Principal, ProjectKey};
pub(crate) use stream_token::{IssuedToken, StreamTokens};
