//! Temporary file upload: URL, signed PUT, public GET.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn upload_then_download_the_same_bytes_and_bad_signatures_are_403() {
    let running = start_seeded().await;
    let answer = running
        .post(
            &format!("/{US}/latest/services/get_temporary_file_upload_url"),
            Some(&format!("proj-a:{KEY_A}")),
            r#"{"filename":"my report.pdf","extension":"pdf"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let upload_url = answer.body["upload_url"]
        .as_str()
        .expect("upload_url")
        .to_string();
    let download_url = answer.body["download_url"]
        .as_str()
        .expect("download_url")
        .to_string();
    let base = running.emulator.base_url();
    assert!(
        upload_url.starts_with(&format!("{base}/files/")),
        "{upload_url}"
    );
    assert!(
        download_url.starts_with(&format!("{base}/files/")),
        "{download_url}"
    );
    assert!(download_url.ends_with("/my%20report.pdf"), "{download_url}");

    let not_yet = running.http.get(&download_url).send().await.expect("sent");
    assert_eq!(not_yet.status(), StatusCode::NOT_FOUND);

    let bytes: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let put = running
        .http
        .put(&upload_url)
        .body(bytes.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), StatusCode::OK);
    let got = running.http.get(&download_url).send().await.expect("sent");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "application/pdf");
    assert_eq!(got.bytes().await.expect("body").to_vec(), bytes);

    // A second PUT replaces the file.
    let put = running
        .http
        .put(&upload_url)
        .body("v2")
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), StatusCode::OK);
    let got = running.http.get(&download_url).send().await.expect("sent");
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"v2");

    let (without_sig, _) = upload_url.split_once('?').expect("query");
    for url in [
        without_sig.to_string(),
        format!("{without_sig}?sig=wrong"),
        upload_url.replace("/files/", "/files/x"),
    ] {
        let refused = running
            .http
            .put(&url)
            .body("evil")
            .send()
            .await
            .expect("sent");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{url}");
    }
    let got = running.http.get(&download_url).send().await.expect("sent");
    assert_eq!(
        got.bytes().await.expect("body").as_ref(),
        b"v2",
        "refused PUTs changed nothing"
    );

    let unknown = running
        .http
        .get(format!("{base}/files/nope/my%20report.pdf"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let wrong_name = running
        .http
        .get(download_url.replace("report", "other"))
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong_name.status(), StatusCode::NOT_FOUND);

    let too_big = running
        .http
        .put(&upload_url)
        .body(vec![0u8; 25 * 1024 * 1024 + 1])
        .send()
        .await
        .expect("sent");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn upload_url_bodies_are_checked_and_unknown_extensions_are_octet_streams() {
    let running = start_seeded().await;
    let path = format!("/{US}/latest/services/get_temporary_file_upload_url");
    let auth = format!("proj-a:{KEY_A}");
    for (body, needle) in [
        ("{}", "filename"),
        (r#"{"filename":""}"#, "filename"),
        (r#"{"filename":3}"#, "filename"),
    ] {
        let answer = running.post(&path, Some(&auth), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer.message().contains(needle),
            "{body}: {}",
            answer.message()
        );
    }
    let answer = running
        .post(&path, Some(&auth), r#"{"filename":"blob.weird"}"#)
        .await;
    let upload = answer.body["upload_url"].as_str().expect("upload_url");
    let download = answer.body["download_url"].as_str().expect("download_url");
    running
        .http
        .put(upload)
        .body("x")
        .send()
        .await
        .expect("sent");
    let got = running.http.get(download).send().await.expect("sent");
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
}

async fn upload_url(running: &Running, auth: &str, name: &str) -> Answer {
    running
        .post(
            &format!("/{US}/latest/services/get_temporary_file_upload_url"),
            Some(auth),
            &format!(r#"{{"filename":"{name}"}}"#),
        )
        .await
}

#[tokio::test]
async fn upload_urls_are_capped_per_key_and_per_project() {
    let running = start_seeded_with(|config| {
        config.quotas.max_uploads_per_key = 2;
        config.quotas.max_uploads_per_project = 3;
    })
    .await;
    let (embed, _) = running.agent_embed_key("agent-public").await;
    let embed = format!("proj-a:{embed}");
    for name in ["a.txt", "b.txt"] {
        assert_eq!(
            upload_url(&running, &embed, name).await.status,
            StatusCode::OK
        );
    }
    let refused = upload_url(&running, &embed, "c.txt").await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert!(refused.message().contains("this key"), "{}", refused.text);
    // Another key of the project has its own allowance, up to the project's cap.
    let api = format!("proj-a:{KEY_A}");
    assert_eq!(
        upload_url(&running, &api, "d.txt").await.status,
        StatusCode::OK
    );
    let refused = upload_url(&running, &api, "e.txt").await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert!(refused.message().contains("project"), "{}", refused.text);
}

#[tokio::test]
async fn temporary_files_and_their_urls_expire() {
    let running = start_seeded_with(|config| config.quotas.temporary_file_ttl_ms = 300).await;
    let api = format!("proj-a:{KEY_A}");
    let answer = upload_url(&running, &api, "a.txt").await;
    let upload = answer.body["upload_url"]
        .as_str()
        .expect("upload_url")
        .to_string();
    let download = answer.body["download_url"]
        .as_str()
        .expect("download_url")
        .to_string();
    let put = running
        .http
        .put(&upload)
        .body("x")
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), StatusCode::OK);
    let mut gone = false;
    for _ in 0..200 {
        let got = running.http.get(&download).send().await.expect("sent");
        if got.status() == StatusCode::NOT_FOUND {
            gone = true;
            break;
        }
        assert_eq!(got.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "the download expires");
    let put = running
        .http
        .put(&upload)
        .body("y")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        put.status(),
        StatusCode::FORBIDDEN,
        "the upload URL expired too"
    );
}

#[tokio::test]
async fn uploaded_files_are_attachments_unless_safe_and_always_sandboxed() {
    let running = start_seeded().await;
    let api = format!("proj-a:{KEY_A}");
    for (name, disposition) in [
        ("page.html", "attachment"),
        ("image.svg", "attachment"),
        ("data.json", "attachment"),
        ("photo.png", "inline"),
        ("notes.txt", "inline"),
        ("paper.pdf", "inline"),
    ] {
        let answer = upload_url(&running, &api, name).await;
        let upload = answer.body["upload_url"].as_str().expect("upload_url");
        let download = answer.body["download_url"].as_str().expect("download_url");
        running
            .http
            .put(upload)
            .body("<script>alert(1)</script>")
            .send()
            .await
            .expect("sent");
        let got = running.http.get(download).send().await.expect("sent");
        let header = |name: &str| {
            got.headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            header("content-disposition").starts_with(disposition),
            "{name}"
        );
        assert!(!header("content-type").starts_with("text/html"), "{name}");
        assert!(!header("content-type").contains("svg"), "{name}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{name}");
        assert!(
            header("content-security-policy").starts_with("sandbox"),
            "{name}"
        );
    }
}

/// PROTOCOL A9: the official client's `PUT` names the file's media type and tags the
/// object `Expire=true`; the file is served back with that type.
#[tokio::test]
async fn the_put_names_the_media_type_the_file_is_served_with() {
    let running = start_seeded().await;
    let answer = running
        .post(
            &format!("/{US}/latest/services/get_temporary_file_upload_url"),
            Some(&format!("proj-a:{KEY_A}")),
            r#"{"filename":"export.bin","extension":"bin"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let upload_url = answer.body["upload_url"].as_str().expect("upload_url");
    let download_url = answer.body["download_url"].as_str().expect("download_url");
    let served_type = |response: &reqwest::Response| {
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_string()
    };

    let put = running
        .http
        .put(upload_url)
        .header("Content-Type", "text/csv; charset=utf-8")
        .header("x-amz-tagging", "Expire=true")
        .body("a,b\n1,2\n")
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), StatusCode::OK);
    let got = running.http.get(download_url).send().await.expect("sent");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(
        served_type(&got),
        "text/csv; charset=utf-8",
        "the stored type, not the extension's"
    );
    assert_eq!(got.text().await.expect("body"), "a,b\n1,2\n");

    // A malformed type is a 400 naming the header, and the stored file is unchanged.
    for bad in ["csv", "text/", "text/csv<x>"] {
        let refused = crate::support::answer(
            running
                .http
                .put(upload_url)
                .header("Content-Type", bad)
                .body("evil")
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            refused.message().contains("Content-Type"),
            "{}",
            refused.text
        );
    }
    let got = running.http.get(download_url).send().await.expect("sent");
    assert_eq!(served_type(&got), "text/csv; charset=utf-8");

    // An upload that names no type is served by its extension.
    let put = running
        .http
        .put(upload_url)
        .body("raw")
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status(), StatusCode::OK);
    let got = running.http.get(download_url).send().await.expect("sent");
    assert_eq!(served_type(&got), "application/octet-stream");
}
