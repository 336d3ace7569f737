//! Temporary file uploads (PROTOCOL A5, A9): ask for a pre-signed URL, then
//! `PUT` the bytes there.

use serde::{Deserialize, Serialize};

pub(crate) const UPLOAD_URL_PATH: &str = "services/get_temporary_file_upload_url";

/// `{"extension", "filename"}`.
#[derive(Serialize)]
pub(crate) struct UploadUrlBody<'a> {
    pub(crate) extension: &'a str,
    pub(crate) filename: &'a str,
}

impl<'a> UploadUrlBody<'a> {
    /// The body for `file_name`; the extension is the text after the last dot.
    pub(crate) fn for_file(file_name: &'a str) -> Self {
        UploadUrlBody {
            extension: extension(file_name),
            filename: file_name,
        }
    }
}

/// `{"upload_url", "download_url"}`, both required.
#[derive(Deserialize)]
pub(crate) struct UploadUrlAnswer {
    pub(crate) upload_url: String,
    pub(crate) download_url: String,
}

/// The text after the last dot ("" without one).
pub(crate) fn extension(file_name: &str) -> &str {
    file_name
        .rsplit_once('.')
        .map(|(_, extension)| extension)
        .unwrap_or("")
}
