//! HTML building blocks: the page layout and its CSS, small shared
//! fragments (times, badges, CSRF-checked forms), URL segments, and the
//! response type every page answers with.
//!
//! Markup is written with [`maud`]'s `html!`, which escapes every
//! interpolated value (text and attribute alike) at compile-time-checked
//! sites, so no page builds HTML by hand. URL path segments still go through
//! [`seg`] (percent-encoding is not HTML escaping). Pages carry no script at
//! all, and the Content-Security-Policy says so, so a slip still cannot run code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Percent-encodes everything but RFC 3986 unreserved characters: safe as a
/// path segment or a query value.
pub(crate) fn seg(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/dashboard/projects/{project}`, the root of every page about the project.
pub(crate) fn project_url(project: &str) -> String {
    format!("/dashboard/projects/{}", seg(project))
}

/// `/dashboard/projects/{project}/keys`, the key list (and its create form's action).
pub(crate) fn keys_url(project: &str) -> String {
    format!("{}/keys", project_url(project))
}

/// A stored ISO-8601 instant, shown compactly with the full value on hover.
pub(crate) fn when(iso: &str) -> Markup {
    let short = iso.replacen('T', " ", 1);
    let short = short.get(..19).unwrap_or(&short);
    html! { time datetime=(iso) title=(iso) { (short) } }
}

/// An optional instant, or "never".
pub(crate) fn when_opt(iso: Option<&str>) -> Markup {
    match iso {
        Some(iso) => when(iso),
        None => html! { span.muted { "never" } },
    }
}

/// A muted dash for an empty cell.
pub(crate) fn dash() -> Markup {
    html! { span.muted { "—" } }
}

/// A coloured status label; `class` must be one of the CSS badge classes below.
pub(crate) fn badge(class: &str, text: &str) -> Markup {
    html! { span class={ "badge " (class) } { (text) } }
}

/// The hidden CSRF field every POST form carries.
pub(crate) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A POST form to `action` carrying the session's CSRF token, with `fields`
/// (more inputs) and its buttons inside. Every state-changing control on a
/// page is one of these, so [`super::checked_form`] sees the token.
pub(crate) fn post_form(action: &str, class: &str, csrf: &str, fields: Markup) -> Markup {
    html! {
        form method="post" action=(action) class=(class) {
            (csrf_field(csrf))
            (fields)
        }
    }
}

/// A one-button POST form (revoke, sign out, a visibility switch, and later
/// approve / reject / delete): `(id, label, button class)`.
pub(crate) fn action_button(action: &str, csrf: &str, button: (&str, &str, &str)) -> Markup {
    let (id, label, class) = button;
    post_form(
        action,
        "inline",
        csrf,
        html! { button type="submit" class=(class) id=(id) { (label) } },
    )
}

/// What the top bar shows: the sign-out form needs the session's CSRF token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Chrome<'a> {
    /// Signed in: navigation and the sign-out button.
    SignedIn { csrf: &'a str },
    /// The sign-in page and errors before sign-in.
    SignedOut,
}

/// The top bar's links, in order (a new top-level page is one more row).
const NAV: [(&str, &str); 4] = [
    ("/dashboard", "Projects"),
    ("/dashboard/tools", "Tools"),
    ("/dashboard/knowledge", "Knowledge"),
    ("/dashboard/requests", "Request log"),
];

/// The frame of every page: head, top bar (navigation and sign-out when
/// signed in), the title and `body`.
pub(crate) fn layout(chrome: Chrome<'_>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · Relevance emulator" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    span.brand { "Relevance emulator" }
                    @if let Chrome::SignedIn { csrf } = chrome {
                        nav {
                            @for (href, label) in NAV { a href=(href) { (label) } }
                            (action_button("/dashboard/sign-out", csrf, ("sign-out", "Sign out", "link")))
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A full page as an answer: status, the rendered layout, an optional refresh.
#[derive(Debug)]
pub(crate) struct Page {
    status: StatusCode,
    html: String,
    refresh_seconds: Option<u32>,
}

impl Page {
    pub(crate) fn new(chrome: Chrome<'_>, title: &str, body: Markup) -> Page {
        Page::with_status(StatusCode::OK, chrome, title, body)
    }

    pub(crate) fn with_status(
        status: StatusCode,
        chrome: Chrome<'_>,
        title: &str,
        body: Markup,
    ) -> Page {
        Page {
            status,
            html: layout(chrome, title, body).into_string(),
            refresh_seconds: None,
        }
    }

    /// Reloads the page every `seconds` without any script (the live request log).
    pub(crate) fn refreshing(mut self, seconds: u32) -> Page {
        self.refresh_seconds = Some(seconds);
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Some(seconds) = self.refresh_seconds {
            headers.insert(header::REFRESH, HeaderValue::from(seconds));
        }
        response
    }
}

/// Adds to every dashboard answer (pages, redirects, errors): nothing cached
/// (a new key's value is on a page), no referrer (the one-click sign-in URL
/// holds the token), no framing, no script.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

const SECURITY_HEADERS: [(header::HeaderName, &str); 5] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

const CSS: &str = r#"
:root { --fg:#1d2330; --muted:#6b7385; --line:#e3e6ec; --bg:#f6f7f9; --card:#fff;
        --accent:#3357d6; --ok:#1f7a4d; --warn:#9a6200; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:1.5rem; padding:.7rem 1.5rem;
         background:#1d2330; color:#fff; }
header .brand { font-weight:600; }
header nav { display:flex; gap:1rem; align-items:center; flex:1; }
header nav a, header nav button.link { color:#cfd6ff; }
header nav form { margin-left:auto; }
main { max-width:1200px; margin:0 auto; padding:1rem 1.5rem 3rem; }
h1 { font-size:1.5rem; margin:.5rem 0 1rem; }
h2 { font-size:1.15rem; margin:1.8rem 0 .6rem; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
table { width:100%; border-collapse:collapse; background:var(--card);
        border:1px solid var(--line); border-radius:6px; }
th, td { text-align:left; padding:.45rem .7rem; border-bottom:1px solid var(--line);
         vertical-align:top; }
th { font-size:.8rem; text-transform:uppercase; letter-spacing:.03em; color:var(--muted);
     background:#fafbfc; }
tr:last-child td { border-bottom:none; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; }
pre { background:#f0f2f5; padding:.6rem .8rem; border-radius:4px; overflow:auto;
      white-space:pre-wrap; word-break:break-word; margin:.4rem 0; }
.muted { color:var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px;
        padding:1rem 1.2rem; margin:1rem 0; }
.notice { border-left:4px solid var(--ok); }
.error { border-left:4px solid var(--bad); }
.warning { border-left:4px solid var(--warn); }
.secret { display:block; font-size:1.05rem; padding:.6rem .8rem; background:#fff8e1;
          border:1px dashed var(--warn); border-radius:4px; user-select:all; word-break:break-all; }
.badge { display:inline-block; padding:0 .5rem; border-radius:999px; font-size:.78rem;
         font-weight:600; border:1px solid currentColor; white-space:nowrap; }
.badge.ok { color:var(--ok); } .badge.bad { color:var(--bad); }
.badge.warn { color:var(--warn); } .badge.info { color:var(--accent); }
.badge.neutral { color:var(--muted); }
form.inline { display:inline; margin:0; }
form.row { display:flex; gap:.6rem; align-items:end; flex-wrap:wrap; margin:.6rem 0; }
label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); gap:.2rem; }
input[type=text], input[type=password], select { font:inherit; padding:.35rem .5rem;
        border:1px solid #c7ccd6; border-radius:4px; min-width:14rem; background:#fff; }
textarea { display:block; width:100%; box-sizing:border-box; min-height:8rem; margin:.3rem 0 .6rem;
           padding:.4rem .5rem; border:1px solid #c7ccd6; border-radius:4px;
           font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; }
button { font:inherit; padding:.35rem .9rem; border-radius:4px; border:1px solid var(--accent);
         background:var(--accent); color:#fff; cursor:pointer; }
button.danger { background:var(--bad); border-color:var(--bad); }
button.secondary { background:#fff; color:var(--accent); }
button.link { background:none; border:none; padding:0; color:var(--accent); cursor:pointer; }
.messages { display:flex; flex-direction:column; gap:.7rem; }
.message { background:var(--card); border:1px solid var(--line); border-radius:6px;
           padding:.6rem .9rem; }
.message .meta { font-size:.8rem; color:var(--muted); display:flex; gap:.6rem;
                 align-items:center; flex-wrap:wrap; }
.message.user { border-left:4px solid var(--accent); }
.message.agent { border-left:4px solid var(--ok); }
.message.error { border-left:4px solid var(--bad); }
.message.tool { border-left:4px solid var(--warn); }
.message.workforce { border-left:4px solid #7a3fd6; }
.message .text { white-space:pre-wrap; word-break:break-word; margin:.3rem 0 0; }
dl.settings { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1.2rem; margin:0; }
dl.settings dt { color:var(--muted); }
dl.settings dd { margin:0; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_values_are_escaped_in_text_and_attributes() {
        let cases = [
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (r#"" onmouseover="x"#, "&quot; onmouseover=&quot;x"),
            ("a&c", "a&amp;c"),
            ("plain 🤖", "plain 🤖"),
        ];
        for (raw, escaped) in cases {
            let text = badge("ok", raw).into_string();
            assert!(text.contains(&format!(">{escaped}<")), "{raw}: {text}");
            let attribute = csrf_field(raw).into_string();
            assert!(
                attribute.contains(&format!(r#"value="{escaped}""#)),
                "{raw}: {attribute}"
            );
            let page = layout(Chrome::SignedIn { csrf: raw }, raw, html! {}).into_string();
            assert!(!page.contains(raw) || raw == escaped, "{raw}: {page}");
        }
    }

    #[test]
    fn segments_are_percent_encoded() {
        let cases = [
            ("agent-1_x.y~z", "agent-1_x.y~z"),
            ("a/b?c#d", "a%2Fb%3Fc%23d"),
            ("<x>", "%3Cx%3E"),
            ("é", "%C3%A9"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(seg(raw), encoded, "{raw}");
        }
    }
}
