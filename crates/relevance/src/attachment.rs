//! Files sent with a message.
//!
//! The trigger body only carries `{"file_name", "file_url"}` (PROTOCOL A5), so
//! bytes must live somewhere the platform can fetch them first: the platform
//! hands out a pre-signed upload URL, the bytes are `PUT` there **without**
//! the project key, and the download URL becomes the attachment. An
//! attachment that already has a URL is passed through untouched.

use std::fmt;

use url::Url;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Request;
use crate::message::AttachedFile;
use crate::wire::files::{UploadUrlAnswer, UploadUrlBody, UPLOAD_URL_PATH};

/// A file to send with a message.
#[derive(Clone, PartialEq, Eq)]
pub enum Attachment {
    /// Bytes to upload first; the platform then serves them at a URL.
    Bytes {
        /// The file's name as the agent will see it (its extension matters).
        file_name: String,
        /// The file's content.
        bytes: Vec<u8>,
    },
    /// A file the platform can already fetch.
    Url {
        /// The file's name as the agent will see it.
        file_name: String,
        /// Where the platform fetches it.
        file_url: String,
    },
}

impl Attachment {
    /// Bytes to upload under `file_name`.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Attachment {
        Attachment::Bytes {
            file_name: file_name.into(),
            bytes: bytes.into(),
        }
    }

    /// A file already reachable at `file_url`.
    pub fn url(file_name: impl Into<String>, file_url: impl Into<String>) -> Attachment {
        Attachment::Url {
            file_name: file_name.into(),
            file_url: file_url.into(),
        }
    }

    /// Reads a file into [`Attachment::Bytes`], named after the path's last
    /// component. Absent on wasm, where there is no file system.
    #[cfg(not(target_family = "wasm"))]
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Attachment> {
        let path = path.as_ref();
        let read_error = |source| Error::ReadFile {
            path: path.display().to_string(),
            source,
        };
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| {
                read_error(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path does not end in a file name",
                ))
            })?;
        let bytes = std::fs::read(path).map_err(read_error)?;
        Ok(Attachment::Bytes { file_name, bytes })
    }

    /// The file's name.
    pub fn file_name(&self) -> &str {
        match self {
            Attachment::Bytes { file_name, .. } | Attachment::Url { file_name, .. } => file_name,
        }
    }

    /// Makes the attachment sendable: uploads bytes, passes a URL through.
    pub(crate) async fn resolve(self, client: &Client) -> Result<AttachedFile> {
        match self {
            Attachment::Url {
                file_name,
                file_url,
            } => Ok(AttachedFile {
                file_name,
                file_url,
            }),
            Attachment::Bytes { file_name, bytes } => {
                let request = Request::create(UPLOAD_URL_PATH)
                    .json(&UploadUrlBody::for_file(&file_name))
                    .answer("file upload URL answer");
                let answer: UploadUrlAnswer = client.send(request).await?;
                let upload_url =
                    parse_upload_url(client.endpoints().api_base(), &answer.upload_url)?;
                let upload = Request::upload(upload_url, bytes, media_type(&file_name));
                client.transport().send_ignoring_answer(upload).await?;
                Ok(AttachedFile {
                    file_name,
                    file_url: answer.download_url,
                })
            }
        }
    }
}

fn media_type(file_name: &str) -> String {
    let guessed = mime_guess::from_path(file_name).first_or_octet_stream();
    if guessed.type_() == mime_guess::mime::TEXT && guessed.get_param("charset").is_none() {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_string()
    }
}

/// Bytes are summarised by their length: a file's content does not belong in
/// a log line.
impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attachment::Bytes { file_name, bytes } => f
                .debug_struct("Bytes")
                .field("file_name", file_name)
                .field("len", &bytes.len())
                .finish(),
            Attachment::Url {
                file_name,
                file_url,
            } => f
                .debug_struct("Url")
                .field("file_name", file_name)
                .field("file_url", file_url)
                .finish(),
        }
    }
}

fn parse_upload_url(api_base: &str, upload_url: &str) -> Result<Url> {
    let problem = |reason: &str| Error::Decode {
        what: "file upload URL answer".to_string(),
        source: <serde_json::Error as serde::de::Error>::custom(format!("`upload_url` {reason}")),
    };
    let url = match Url::parse(upload_url) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => Url::parse(api_base)
            .and_then(|base| base.join(upload_url))
            .map_err(|_| problem("is not a URL"))?,
        Err(_) => return Err(problem("is not a URL")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(problem("is not an http(s) URL"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::files::extension;
    use serde_json::json;
    use std::error::Error as _;

    fn upload_url_request(file_name: &str) -> serde_json::Value {
        serde_json::to_value(UploadUrlBody::for_file(file_name)).unwrap()
    }

    #[test]
    fn uploads_are_labelled_with_the_file_type() {
        let cases = [
            ("invoice.pdf", "application/pdf"),
            ("photo.JPG", "image/jpeg"),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("page.html", "text/html; charset=utf-8"),
            ("data", "application/octet-stream"),
            ("archive.unknownext", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(media_type(name), expected, "{name}");
        }
    }

    #[test]
    fn extension_is_the_text_after_the_last_dot() {
        let cases = [
            ("a.pdf", "pdf"),
            ("report.final.docx", "docx"),
            ("README", ""),
            ("archive.", ""),
            (".env", "env"),
            ("", ""),
        ];
        for (name, expected) in cases {
            assert_eq!(extension(name), expected, "{name}");
        }
    }

    #[test]
    fn upload_url_request_is_exact() {
        assert_eq!(
            upload_url_request("notes.tar.gz"),
            json!({"filename": "notes.tar.gz", "extension": "gz"})
        );
        assert_eq!(
            upload_url_request("Makefile"),
            json!({"filename": "Makefile", "extension": ""})
        );
    }

    #[test]
    fn upload_url_answer_needs_both_urls() {
        let ok: UploadUrlAnswer = serde_json::from_str(
            r#"{"upload_url":"https://s3/u?sig=1","download_url":"https://cdn/d","extra":1}"#,
        )
        .unwrap();
        assert_eq!(ok.upload_url, "https://s3/u?sig=1");
        assert_eq!(ok.download_url, "https://cdn/d");
        for (json, field) in [
            (r#"{"download_url":"x"}"#, "upload_url"),
            (r#"{"upload_url":"x"}"#, "download_url"),
        ] {
            let error = serde_json::from_str::<UploadUrlAnswer>(json).err().unwrap();
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn upload_url_parsing() {
        let base = "http://127.0.0.1:8787/bcbe5a/latest/";
        let cases: [(&str, Option<&str>); 6] = [
            (
                "https://bucket.s3.amazonaws.com/f?X-Sig=abc",
                Some("https://bucket.s3.amazonaws.com/f?X-Sig=abc"),
            ),
            (
                "/bcbe5a/files/upload/123",
                Some("http://127.0.0.1:8787/bcbe5a/files/upload/123"),
            ),
            (
                "files/9",
                Some("http://127.0.0.1:8787/bcbe5a/latest/files/9"),
            ),
            ("ftp://host/secret-sig", None),
            ("http://[bad", None),
            ("data:text/plain,secret-sig", None),
        ];
        for (given, expected) in cases {
            match (parse_upload_url(base, given), expected) {
                (Ok(url), Some(want)) => assert_eq!(url.as_str(), want),
                (Err(error), None) => {
                    assert!(matches!(error, Error::Decode { .. }));
                    let text = format!("{error} {:?}", error.source());
                    assert!(text.contains("upload_url"), "{text}");
                    assert!(!text.contains("secret-sig"), "{text}");
                }
                (got, want) => panic!("{given}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn debug_shows_the_length_not_the_content() {
        let attachment = Attachment::bytes("a.txt", b"private words".to_vec());
        let text = format!("{attachment:?}");
        assert!(text.contains("a.txt") && text.contains("13"), "{text}");
        assert!(!text.contains("112"), "{text}"); // 'p' as a byte
        assert_eq!(attachment.file_name(), "a.txt");
        assert_eq!(Attachment::url("b.pdf", "https://x/b").file_name(), "b.pdf");
    }

    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn from_path_reads_the_file_and_names_it() {
        let dir = std::env::temp_dir().join(format!("relevance-attach-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hello.md");
        std::fs::write(&path, b"# hi").unwrap();
        assert_eq!(
            Attachment::from_path(&path).unwrap(),
            Attachment::bytes("hello.md", b"# hi".to_vec())
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let missing = Attachment::from_path(dir.join("nope.txt")).unwrap_err();
        assert!(matches!(missing, Error::ReadFile { .. }));
        assert!(missing.to_string().contains("nope.txt"), "{missing}");
        let no_name = Attachment::from_path("/").unwrap_err();
        assert!(matches!(no_name, Error::ReadFile { .. }), "{no_name:?}");
    }
}
