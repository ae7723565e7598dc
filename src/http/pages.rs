//! A thread as an HTML fragment (for sites that include comments
//! server-side) and as an Atom feed. Comment HTML is the stored, safe
//! rendering; every other value is escaped here.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::api::{parse_order, site_id, thread_key, with_etag, ListQuery};
use super::extract::{ApiPath, ApiQuery};
use super::problem::ApiResult;
use super::AppState;
use crate::comment::Comment;
use crate::service::rfc3339;
use crate::store::Order;

fn esc(s: &str) -> String {
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
    let ids: std::collections::HashSet<i64> = comments.iter().map(|c| c.id).collect();
    let mut out = String::from("<ol class=\"colloquy-comments\">\n");
    for c in comments
        .iter()
        .filter(|c| c.parent.is_none_or(|p| !ids.contains(&p)))
    {
        write_comment(&mut out, c, comments, 0);
    }
    out.push_str("</ol>\n");
    out
}

fn write_comment(out: &mut String, c: &Comment, all: &[Comment], depth: usize) {
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
    out.push_str(&format!(
        " <time datetime=\"{0}\">{0}</time></header>\n",
        rfc3339(c.created)
    ));
    out.push_str("<div class=\"colloquy-body\">");
    out.push_str(&c.html);
    out.push_str("</div>\n</article>\n");
    // Deep chains are flattened at 32 levels; HTML nesting has limits too.
    let replies: Vec<&Comment> = all.iter().filter(|r| r.parent == Some(c.id)).collect();
    if !replies.is_empty() && depth < 32 {
        out.push_str("<ol class=\"colloquy-replies\">\n");
        for r in replies {
            write_comment(out, r, all, depth + 1);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</li>\n");
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
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        let one = html.find("comment-1").unwrap_or(0);
        let two = html.find("comment-2").unwrap_or(0);
        let replies = html.find("colloquy-replies").unwrap_or(0);
        assert!(one < replies && replies < two);
        assert!(html.contains("id=\"comment-3\""), "orphans stay visible");
    }
}
