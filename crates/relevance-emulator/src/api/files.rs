//! Temporary files: `services/get_temporary_file_upload_url`, then the
//! unauthenticated `PUT /files/{id}/upload?sig=...` and `GET /files/{id}/{name}`.
//!
//! The upload URL carries a random signature (stored as SHA-256) instead of a
//! key, as a presigned storage URL does; the download URL is public, as the
//! platform's is. Both live outside the region prefix and outside auth.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::files::{self as service, UploadSlot};
use crate::state::AppState;

/// The largest file the `PUT` route takes: 25 MiB.
pub(crate) const UPLOAD_LIMIT_BYTES: usize = 25 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct UploadUrlRequest {
    filename: String,
    #[serde(default)]
    extension: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UploadUrlAnswer {
    upload_url: String,
    download_url: String,
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The content type served for an extension.
fn content_type(extension: &str) -> &'static str {
    match extension {
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// `POST services/get_temporary_file_upload_url`: any key of the region.
pub(crate) async fn upload_url(
    principal: Principal,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<UploadUrlRequest>,
) -> Result<Json<UploadUrlAnswer>, ApiError> {
    // The emulator's own public URL, never the request's `Host` (any client sets that).
    let base = state.settings().public_url.clone();
    let UploadSlot { id, signature } = service::reserve_upload(
        &state,
        &principal,
        &body.filename,
        body.extension.as_deref(),
    )
    .await?;
    Ok(Json(UploadUrlAnswer {
        upload_url: format!("{base}/files/{id}/upload?sig={signature}"),
        download_url: format!("{base}/files/{id}/{}", encode_segment(&body.filename)),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FilePath {
    id: String,
    name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignatureQuery {
    #[serde(default)]
    sig: Option<String>,
}

/// The longest `Content-Type` an upload may name.
const MAX_MEDIA_TYPE_CHARS: usize = 255;

/// The media type a `PUT` names in `Content-Type` (PROTOCOL A9: the official client sends
/// the file's type), checked as `type/subtype` with optional `; parameters`; `None` when
/// the header is absent. Anything else is 400, so only a well-formed type is served back.
fn upload_media_type(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(format!(
            "`Content-Type` must be a media type like `application/pdf` (type/subtype, \
             optional `; parameters`, at most {MAX_MEDIA_TYPE_CHARS} characters)"
        ))
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() || text.len() > MAX_MEDIA_TYPE_CHARS {
        return Err(bad());
    }
    let essence = text.split(';').next().unwrap_or_default().trim();
    let is_token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if is_token(kind) && is_token(subtype) => Ok(Some(text.to_string())),
        _ => Err(bad()),
    }
}

/// `PUT /files/{id}/upload?sig=...`: stores (or replaces) the bytes, up to 25 MiB, with the
/// media type of its `Content-Type`. `x-amz-tagging: Expire=true`, which the official
/// client sends to a storage URL (PROTOCOL A9), is accepted and has no effect: the
/// emulator's files last as long as its data.
pub(crate) async fn upload(
    State(state): State<AppState>,
    ApiPath(FilePath { id, name }): ApiPath<FilePath>,
    ApiQuery(query): ApiQuery<SignatureQuery>,
    request: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    if name != "upload" {
        return Err(ApiError::method_not_allowed(
            "files are uploaded with PUT to their `upload_url` only",
        ));
    }
    service::check_signature(&state, &id, query.sig.as_deref()).await?;
    let media_type = upload_media_type(request.headers())?;
    let bytes = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(UPLOAD_LIMIT_BYTES)
            } else {
                ApiError::bad_request(format!(
                    "could not read the uploaded file: {}",
                    rejection.body_text()
                ))
            }
        })?;
    service::store_upload(&state, id, bytes, media_type).await?;
    Ok(Json(json!({})))
}

/// `GET /files/{id}/{name}`: the uploaded bytes, typed as the upload said, or by the file's
/// extension when it said nothing.
pub(crate) async fn download(
    State(state): State<AppState>,
    ApiPath(FilePath { id, name }): ApiPath<FilePath>,
) -> Result<Response, ApiError> {
    let file = service::download(&state, id, &name).await?;
    // The type the upload named, else one from the extension; either way neutralised below.
    let served = match &file.media_type {
        Some(media_type) => media_type.clone(),
        None => content_type(&file.extension).to_string(),
    };
    let mut response = file.bytes.into_response();
    add_serving_headers(response.headers_mut(), &served, &file.file_name);
    Ok(response)
}

/// Types a browser may show inline: they cannot run script in the page's origin.
/// Everything else (HTML, SVG, XML, JSON, Markdown, unknown bytes) is a download.
fn is_safe_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf" | "text/plain"
    )
}

/// HTML, SVG and XML: types a browser renders as a scriptable document.
fn is_active_document(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "text/html"
        || essence.ends_with("+xml")
        || essence.ends_with("/xml")
        || essence.contains("svg")
}

/// The headers of a served upload.
///
/// Uploads are written by anyone holding an embed key of a public agent and are served
/// from the emulator's own origin — the dashboard's. So an upload must never run as a
/// page of that origin: a download (`attachment`) unless its type is a safe image, PDF or
/// plain text; never sniffed into something else (`nosniff`); and even when a browser does
/// render it, `sandbox` gives it an opaque origin with no script, no cookies, no storage.
fn add_serving_headers(headers: &mut HeaderMap, content_type: &str, file_name: &str) {
    let disposition = if is_safe_inline(content_type) {
        "inline"
    } else {
        "attachment"
    };
    // A type a browser would run as a document never goes out, even as a download: a
    // client that ignores `Content-Disposition` then still sees only bytes.
    let octets = HeaderValue::from_static("application/octet-stream");
    let served_type = if is_active_document(content_type) {
        octets
    } else {
        // Upload types were checked when stored; anything unrepresentable is bytes.
        HeaderValue::from_str(content_type).unwrap_or(octets)
    };
    headers.insert(header::CONTENT_TYPE, served_type);
    // RFC 6266 / 8187: the UTF-8 name percent-encoded, so no name can break the header.
    let value = format!(
        "{disposition}; filename*=UTF-8''{}",
        encode_segment(file_name)
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_and_extensions_normalised() {
        assert_eq!(encode_segment("a b/ü.pdf"), "a%20b%2F%C3%BC.pdf");
        assert_eq!(service::normalise_extension(Some(".PDF"), "x"), "pdf");
        assert_eq!(service::normalise_extension(None, "report.Txt"), "txt");
        assert_eq!(service::normalise_extension(Some(""), "noext"), "");
        assert_eq!(content_type("pdf"), "application/pdf");
        assert_eq!(content_type(""), "application/octet-stream");
    }

    #[test]
    fn upload_media_types_are_checked() {
        let cases = [
            (Some("application/pdf"), Ok(Some("application/pdf"))),
            (
                Some("text/plain; charset=utf-8"),
                Ok(Some("text/plain; charset=utf-8")),
            ),
            (
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                Ok(Some(
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                )),
            ),
            (None, Ok(None)),
            (Some("pdf"), Err(())),
            (Some("/pdf"), Err(())),
            (Some("text/"), Err(())),
            (Some("text/html<script>"), Err(())),
            (Some(""), Err(())),
        ];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(header::CONTENT_TYPE, value.parse().expect("a header value"));
            }
            let got = upload_media_type(&headers).map_err(|_| ());
            assert_eq!(
                got,
                expected.map(|found| found.map(str::to_string)),
                "{value:?}"
            );
        }
    }

    #[test]
    fn only_images_pdf_and_plain_text_are_inline() {
        for (extension, inline) in [
            ("png", true),
            ("pdf", true),
            ("txt", true),
            ("html", false),
            ("htm", false),
            ("svg", false),
            ("json", false),
            ("md", false),
            ("", false),
        ] {
            let mut headers = HeaderMap::new();
            add_serving_headers(&mut headers, content_type(extension), "a\"b.x");
            let disposition = headers[header::CONTENT_DISPOSITION]
                .to_str()
                .expect("ascii");
            assert_eq!(disposition.starts_with("inline"), inline, "{extension}");
            assert!(disposition.ends_with("a%22b.x"), "{disposition}");
            assert!(headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .starts_with("sandbox"));
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }
}
