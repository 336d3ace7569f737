//! Temporary files (PROTOCOL A9): reserve an upload slot (with its quotas),
//! check an upload's signature, store the bytes, serve a download.
//!
//! The upload URL's signature is stored only as SHA-256 and compared in
//! constant time; a slot expires `temporary_file_ttl_ms` after it was made.
//! Building URLs and choosing response headers stays with the handler.

use crate::auth::secret::{hash_secret, random_token, secrets_equal};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::files::{self, NewFile, StoredFile};
use crate::store::StoreError;
use crate::time::{iso_from_ms, now_iso, now_ms};

/// A reserved upload: the file's id and the signature its upload URL carries.
#[derive(Clone)]
pub(crate) struct UploadSlot {
    pub(crate) id: String,
    pub(crate) signature: String,
}

impl std::fmt::Debug for UploadSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadSlot")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a file use case did not happen.
#[derive(Debug)]
pub(crate) enum FileError {
    /// The file name is empty or holds control characters.
    BadFileName,
    /// The project holds `count` unexpired upload URLs, its limit.
    ProjectQuota { count: usize, ttl_ms: u64 },
    /// The caller's key is over its own limit; the per-key counter words the 429 itself.
    KeyQuota(ApiError),
    /// The upload URL's signature is missing, wrong or expired.
    BadSignature,
    /// No uploaded file at this URL.
    NotFound,
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for FileError {
    fn from(error: StoreError) -> FileError {
        FileError::Store(error)
    }
}

impl From<FileError> for ApiError {
    fn from(error: FileError) -> ApiError {
        match error {
            FileError::BadFileName => ApiError::bad_request(
                "`filename` must be a non-empty name without control characters",
            ),
            FileError::ProjectQuota { count, ttl_ms } => ApiError::too_many_requests(
                format!(
                    "this project holds {count} unexpired upload URLs (the limit); \
                     they expire {ttl_ms} ms after they were made"
                ),
                (ttl_ms / 1000).clamp(1, 3600),
            ),
            FileError::KeyQuota(error) => error,
            FileError::BadSignature => {
                ApiError::forbidden("this upload URL's signature is missing or invalid")
            }
            FileError::NotFound => ApiError::not_found("no uploaded file at this URL"),
            FileError::Store(error) => error.into(),
        }
    }
}

/// The creation time before which a file slot has expired.
fn expiry_cutoff(state: &AppState) -> String {
    let ttl_ms = state.settings().quotas.temporary_file_ttl_ms;
    iso_from_ms(now_ms().saturating_sub(i64::try_from(ttl_ms).unwrap_or(i64::MAX)))
}

/// The extension a file is typed by: the one given, else the name's, lower case.
pub(crate) fn normalise_extension(extension: Option<&str>, filename: &str) -> String {
    let from_name = filename.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    extension
        .filter(|ext| !ext.trim().is_empty())
        .unwrap_or(from_name)
        .trim()
        .trim_start_matches('.')
        .to_ascii_lowercase()
}

/// Reserves an upload slot for `filename` in the caller's project, within the
/// project's and the key's limits (expired slots are deleted first, so they never count).
pub(crate) async fn reserve_upload(
    state: &AppState,
    principal: &Principal,
    filename: &str,
    extension: Option<&str>,
) -> Result<UploadSlot, FileError> {
    if filename.trim().is_empty() || filename.chars().any(char::is_control) {
        return Err(FileError::BadFileName);
    }
    let quotas = state.settings().quotas.clone();
    let cutoff = expiry_cutoff(state);
    let project = principal.project.clone();
    let project_uploads = state
        .store()
        .call(move |connection| {
            files::delete_created_before(connection, &cutoff)?;
            files::count_for_project(connection, &project, &cutoff)
        })
        .await?;
    if project_uploads >= quotas.max_uploads_per_project {
        return Err(FileError::ProjectQuota {
            count: project_uploads,
            ttl_ms: quotas.temporary_file_ttl_ms,
        });
    }
    state
        .upload_counter()
        .admit(
            &principal.key_id,
            quotas.max_uploads_per_key,
            quotas.temporary_file_ttl_ms,
        )
        .map_err(FileError::KeyQuota)?;
    let slot = UploadSlot {
        id: random_token(24),
        signature: random_token(32),
    };
    let file = NewFile {
        id: slot.id.clone(),
        project: principal.project.clone(),
        sig_hash: hash_secret(&slot.signature),
        file_name: filename.to_string(),
        extension: normalise_extension(extension, filename),
        created_at: now_iso(),
    };
    state
        .store()
        .call(move |connection| files::insert(connection, &file))
        .await?;
    Ok(slot)
}

/// Checks an upload URL's signature before any of its body is read.
pub(crate) async fn check_signature(
    state: &AppState,
    id: &str,
    signature: Option<&str>,
) -> Result<(), FileError> {
    let signature = signature.ok_or(FileError::BadSignature)?;
    let lookup = id.to_string();
    let cutoff = expiry_cutoff(state);
    let stored = state
        .store()
        .call(move |connection| files::sig_hash(connection, &lookup, &cutoff))
        .await?
        .ok_or(FileError::BadSignature)?;
    if secrets_equal(&stored, &hash_secret(signature)) {
        Ok(())
    } else {
        Err(FileError::BadSignature)
    }
}

/// Stores (or replaces) the bytes of a checked upload with the media type it named.
pub(crate) async fn store_upload<B>(
    state: &AppState,
    id: String,
    bytes: B,
    media_type: Option<String>,
) -> Result<(), FileError>
where
    B: AsRef<[u8]> + Send + 'static,
{
    let now = now_iso();
    state
        .store()
        .call(move |connection| {
            files::store_bytes(connection, &id, bytes.as_ref(), media_type.as_deref(), &now)
        })
        .await?;
    Ok(())
}

/// The unexpired upload with this id whose name is `name`.
pub(crate) async fn download(
    state: &AppState,
    id: String,
    name: &str,
) -> Result<StoredFile, FileError> {
    let cutoff = expiry_cutoff(state);
    state
        .store()
        .call(move |connection| files::download(connection, &id, &cutoff))
        .await?
        .filter(|file| file.file_name == name)
        .ok_or(FileError::NotFound)
}
