//! HTML for people: a thread as a fragment (for sites that include comments
//! server-side), as an Atom feed, and as a whole page with a comment form
//! ([`thread`]); the moderation page ([`moderation`]). Comment HTML is the
//! stored, safe rendering; every other value is escaped here.

pub mod moderation;
pub mod thread;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::api::{parse_order, site_id, thread_key, with_etag, ListQuery};
use super::extract::{ApiPath, ApiQuery};
use super::problem::ApiResult;
use super::AppState;
use crate::comment::Comment;
use crate::service::rfc3339;
use crate::store::Order;

/// Escapes text for HTML and XML, dropping the characters neither may hold
/// (a form feed or U+FFFF in a name would make the feed unreadable).
pub(crate) fn esc(s: &str) -> String {
    let s = crate::text::without_forbidden(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes comments as nested lists: replies under their parent when the
/// parent is on the page, otherwise at the top level.
pub fn render_thread(comments: &[Comment]) -> String {
    render_thread_with(comments, None)
}

/// Makes the address of a comment's reply link (the thread page has them,
/// the fragment does not).
type ReplyHref<'a> = &'a dyn Fn(i64) -> String;

fn render_thread_with(comments: &[Comment], reply: Option<ReplyHref<'_>>) -> String {
    let ids: std::collections::HashSet<i64> = comments.iter().map(|c| c.id).collect();
    let mut out = String::from("<ol class=\"colloquy-comments\">\n");
    for c in comments
        .iter()
        .filter(|c| c.parent.is_none_or(|p| !ids.contains(&p)))
    {
        write_comment(&mut out, c, comments, 0, reply);
    }
    out.push_str("</ol>\n");
    out
}

fn write_comment(
    out: &mut String,
    c: &Comment,
    all: &[Comment],
    depth: usize,
    reply: Option<ReplyHref<'_>>,
) {
    let author = c.author.as_deref().unwrap_or("Anonymous");
    out.push_str(&format!(
        "<li class=\"colloquy-comment\" id=\"comment-{}\">\n<article>\n<header>",
        c.id
    ));
    match &c.homepage {
        Some(h) => out.push_str(&format!(
            "<a class=\"colloquy-author\" href=\"{}\" rel=\"nofollow ugc\">{}</a>",
            esc(h),
            esc(author)
        )),
        None => out.push_str(&format!(
            "<span class=\"colloquy-author\">{}</span>",
            esc(author)
        )),
    }
    let created = rfc3339(c.created);
    if reply.is_some() {
        // The page shows a readable time and links to the comment itself.
        out.push_str(&format!(
            " <a class=\"colloquy-permalink\" href=\"#comment-{}\"><time datetime=\"{created}\">{}</time></a></header>\n",
            c.id,
            readable_time(&created)
        ));
    } else {
        out.push_str(&format!(
            " <time datetime=\"{created}\">{created}</time></header>\n"
        ));
    }
    out.push_str("<div class=\"colloquy-body\">");
    out.push_str(&c.html);
    out.push_str("</div>\n");
    if let Some(href) = reply {
        out.push_str(&format!(
            "<footer><a class=\"colloquy-reply\" href=\"{}\" aria-label=\"Reply to {}\">Reply</a></footer>\n",
            esc(&href(c.id)),
            esc(author)
        ));
    }
    out.push_str("</article>\n");
    // Deep chains are flattened at 32 levels; HTML nesting has limits too.
    let replies: Vec<&Comment> = all.iter().filter(|r| r.parent == Some(c.id)).collect();
    if !replies.is_empty() && depth < 32 {
        out.push_str("<ol class=\"colloquy-replies\">\n");
        for r in replies {
            write_comment(out, r, all, depth + 1, reply);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</li>\n");
}

/// `2026-11-26T15:10:00.123Z` → `2026-11-26 15:10 UTC`.
fn readable_time(rfc: &str) -> String {
    match (rfc.get(..10), rfc.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
        _ => rfc.to_owned(),
    }
}

/// Percent-encodes a path segment (a thread key with `/` stays one segment).
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a page may load: its own styles (and scripts, when it has any),
/// nothing inline, nothing from elsewhere; no framing.
fn content_security_policy(scripts: bool) -> &'static str {
    if scripts {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    }
}

/// A whole HTML document around `body`, with stylesheets and scripts from
/// `/assets/` only.
fn document(title: &str, styles: &[&str], scripts: &[&str], body: &str) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    out.push_str(&format!("<title>{}</title>\n", esc(title)));
    for s in styles {
        out.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"/assets/{}\">\n",
            esc(s)
        ));
    }
    for s in scripts {
        out.push_str(&format!(
            "<script src=\"/assets/{}\" defer></script>\n",
            esc(s)
        ));
    }
    out.push_str("</head>\n");
    out.push_str(body);
    out.push_str("</html>\n");
    out
}

/// An HTML page response with its security policy; pages are never cached
/// by shared caches (they may show a poster's own form values).
fn html_response(status: StatusCode, scripts: bool, html: String) -> Response {
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy(scripts)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A short page for a request that cannot be answered (unknown site, hidden
/// thread, unreadable form), in HTML rather than JSON: people read it.
fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<body class=\"colloquy-page\">\n<main class=\"colloquy\">\n<h1>{}</h1>\n<p>{}</p>\n</main>\n</body>\n",
        esc(title),
        esc(message)
    );
    html_response(status, false, document(title, &["embed.css"], &[], &body))
}

/// `GET /api/v1/sites/{site}/threads/{thread}/fragment`
pub async fn fragment(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let order = parse_order(q.order.as_deref())?;
    let page = app
        .colloquy
        .list(&site, &thread, order, q.limit, q.cursor.as_deref())
        .await?;
    let html = render_thread(&page.comments);
    Ok(with_etag(
        &headers,
        html.into_bytes(),
        "text/html; charset=utf-8",
    ))
}

/// `GET /api/v1/sites/{site}/threads/{thread}/feed` — Atom, newest first.
pub async fn feed(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let page = app
        .colloquy
        .list(&site, &thread, Order::Newest, None, None)
        .await?;
    let updated = page
        .comments
        .first()
        .map_or(0, |c| c.modified.unwrap_or(c.created));
    let base = app.colloquy.config().public_url.clone().unwrap_or_default();
    let self_link = format!(
        "{base}/api/v1/sites/{}/threads/{}/feed",
        site,
        url::form_urlencoded::byte_serialize(thread.as_str().as_bytes()).collect::<String>()
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "<id>urn:colloquy:{}:{}</id>\n",
        esc(site.as_str()),
        esc(&urlish(thread.as_str()))
    ));
    xml.push_str(&format!(
        "<title>Comments on {}</title>\n",
        esc(thread.as_str())
    ));
    xml.push_str(&format!("<updated>{}</updated>\n", rfc3339(updated)));
    xml.push_str(&format!(
        "<link rel=\"self\" href=\"{}\"/>\n",
        esc(&self_link)
    ));
    for c in &page.comments {
        let author = c.author.as_deref().unwrap_or("Anonymous");
        xml.push_str("<entry>\n");
        xml.push_str(&format!("<id>urn:colloquy:comment:{}</id>\n", c.id));
        xml.push_str(&format!("<title>Comment by {}</title>\n", esc(author)));
        xml.push_str(&format!("<author><name>{}</name></author>\n", esc(author)));
        xml.push_str(&format!("<published>{}</published>\n", rfc3339(c.created)));
        xml.push_str(&format!(
            "<updated>{}</updated>\n",
            rfc3339(c.modified.unwrap_or(c.created))
        ));
        xml.push_str(&format!(
            "<content type=\"html\">{}</content>\n",
            esc(&c.html)
        ));
        xml.push_str("</entry>\n");
    }
    xml.push_str("</feed>\n");
    Ok(with_etag(
        &headers,
        xml.into_bytes(),
        "application/atom+xml; charset=utf-8",
    ))
}

/// A thread key made safe for a URN (percent-encoded).
fn urlish(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::Status;

    fn c(id: i64, parent: Option<i64>, author: &str) -> Comment {
        Comment {
            id,
            site: "s".into(),
            thread: "t".into(),
            parent,
            status: Status::Published,
            format: "plain_text".into(),
            body: String::new(),
            html: format!("<p>{id}</p>"),
            policy_version: String::new(),
            author: Some(author.into()),
            email: None,
            homepage: None,
            ip_hash: None,
            created: 0,
            modified: None,
            reasons: Vec::new(),
            notify_replies: false,
        }
    }

    #[test]
    fn replies_nest_under_their_parent_and_names_are_escaped() {
        let html = render_thread(&[
            c(1, None, "<b>x</b>"),
            c(2, Some(1), "y"),
            c(3, Some(99), "z"),
        ]);
        assert!(
            !html.contains("colloquy-reply"),
            "the fragment has no reply links"
        );
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        let one = html.find("comment-1").unwrap_or(0);
        let two = html.find("comment-2").unwrap_or(0);
        let replies = html.find("colloquy-replies").unwrap_or(0);
        assert!(one < replies && replies < two);
        assert!(html.contains("id=\"comment-3\""), "orphans stay visible");
    }

    #[test]
    fn page_listing_links_replies_and_reads_times() {
        let href = |id: i64| format!("?reply={id}&x=<y>");
        let html = render_thread_with(&[c(7, None, "a")], Some(&href));
        assert!(html.contains("href=\"?reply=7&amp;x=&lt;y&gt;\""), "{html}");
        assert!(html.contains(">1970-01-01 00:00 UTC</time>"), "{html}");
        assert_eq!(path_segment("news/2026 é"), "news%2F2026%20%C3%A9");
    }
}
