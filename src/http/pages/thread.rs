//! The thread page, `/sites/{site}/threads/{thread}`: the published comments
//! and a plain HTML form, for readers with JavaScript off (or sites that link
//! to it instead of embedding). The form posts to the same address; success
//! redirects back (303) to the new comment or to the "held" notice, an error
//! shows the form again, filled in, with the message next to its field.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{document, error_page, esc, html_response, path_segment, render_thread_with};
use crate::comment::{Comment, SiteId, ThreadKey, ThreadState};
use crate::http::extract::{decode_form, ApiPath, ClientIp};
use crate::http::problem::Problem;
use crate::http::AppState;
use crate::policy::Policy;
use crate::service::{FormFields, PostClient, PostInput};
use crate::store::Order;

/// Comments per page.
const PAGE_SIZE: i64 = 50;

/// Fields the form knows how to show an error next to.
const FORM_FIELDS: [(&str, &str); 5] = [
    ("author", "Name"),
    ("email", "E-mail"),
    ("homepage", "Homepage"),
    ("body", "Comment"),
    ("format", "Text format"),
];

/// The query of the page (unknown parameters are ignored: people type URLs).
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    order: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    reply: Option<String>,
    #[serde(default)]
    posted: Option<String>,
    #[serde(default)]
    held: Option<String>,
}

/// What the form sends (and what it shows again after an error).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FormValues {
    #[serde(default)]
    author: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    homepage: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    /// The reader's sort order, kept across the post.
    #[serde(default)]
    order: Option<String>,
    /// `preview` or `post` (the button pressed).
    #[serde(default)]
    op: Option<String>,
    /// The "e-mail me when someone replies" box (`on` when ticked).
    #[serde(default)]
    notify_replies: Option<String>,
    /// The honeypot, which people leave empty.
    #[serde(default)]
    colloquy_hp: Option<String>,
    /// The signed time the form was first served.
    #[serde(default)]
    colloquy_ts: Option<String>,
}

/// A message above the list.
enum Notice {
    Published(i64),
    Held,
    Failed(String),
}

/// Everything one rendering of the page needs beyond the stored data.
#[derive(Default)]
struct View {
    order: Option<Order>,
    cursor: Option<String>,
    reply_to: Option<i64>,
    values: FormValues,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
    preview: Option<String>,
}

fn parse_order(s: Option<&str>) -> Order {
    match s {
        Some("newest") => Order::Newest,
        _ => Order::Oldest,
    }
}

fn order_name(order: Order) -> &'static str {
    match order {
        Order::Oldest => "oldest",
        Order::Newest => "newest",
    }
}

fn positive_id(s: Option<&str>) -> Option<i64> {
    s.and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|&n| n > 0)
}

/// `/sites/{site}/threads/{thread}` (the thread key percent-encoded).
pub fn page_path(site: &SiteId, thread: &ThreadKey) -> String {
    format!(
        "/sites/{}/threads/{}",
        path_segment(site.as_str()),
        path_segment(thread.as_str())
    )
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}

/// The site and thread of the path, or the status and message of the page
/// that says why not.
fn parse_ids(site: &str, thread: &str) -> Result<(SiteId, ThreadKey), (StatusCode, String)> {
    let site = SiteId::parse(site)
        .map_err(|_| (StatusCode::NOT_FOUND, format!("There is no site “{site}”.")))?;
    let thread = ThreadKey::parse(thread).map_err(|e| {
        let p = Problem::from(e);
        (p.status(), sentence(p.detail()))
    })?;
    Ok((site, thread))
}

/// `GET /sites/{site}/threads/{thread}?order=&cursor=&reply=`
pub async fn page(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    uri: Uri,
) -> Response {
    let (site, thread) = match parse_ids(&site, &thread) {
        Ok(ids) => ids,
        Err((status, message)) => return error_page(status, &message),
    };
    let q: PageQuery = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let notice = match (positive_id(q.posted.as_deref()), q.held.is_some()) {
        (Some(id), _) => Some(Notice::Published(id)),
        (None, true) => Some(Notice::Held),
        _ => None,
    };
    let view = View {
        order: Some(parse_order(q.order.as_deref())),
        cursor: q.cursor.filter(|c| !c.is_empty()),
        reply_to: positive_id(q.reply.as_deref()),
        notice,
        ..View::default()
    };
    render(&app, &site, &thread, view, StatusCode::OK).await
}

/// `POST /sites/{site}/threads/{thread}` from the page's form: preview, or
/// post and redirect back.
pub async fn submit(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (site, thread) = match parse_ids(&site, &thread) {
        Ok(ids) => ids,
        Err((status, message)) => return error_page(status, &message),
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|e| {
                e.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "This address takes the comment form (application/x-www-form-urlencoded).",
        );
    }
    // The API's own form decoding: invalid UTF-8 is refused, not stored as
    // U+FFFD.
    let values: FormValues = match decode_form(&body) {
        Ok(v) => v,
        Err(problem) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The form could not be read: {}.", problem.detail()),
            )
        }
    };
    let order = parse_order(values.order.as_deref());
    let parent = positive_id(values.parent.as_deref());
    let mut view = View {
        order: Some(order),
        reply_to: parent,
        values: values.clone(),
        ..View::default()
    };
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let format = values.format.as_deref().and_then(non_empty);

    if values.op.as_deref() == Some("preview") {
        return match app
            .colloquy
            .preview(&site, format.as_deref(), &values.body, ip)
            .await
        {
            Ok(rendered) => {
                view.preview = Some(rendered.html.into_string());
                render(&app, &site, &thread, view, StatusCode::OK).await
            }
            Err(e) => failed(&app, &site, &thread, view, Problem::from(e)).await,
        };
    }

    let input = PostInput {
        author: non_empty(&values.author),
        email: non_empty(&values.email),
        homepage: non_empty(&values.homepage),
        body: values.body.clone(),
        format,
        parent,
        notify_replies: values.notify_replies.as_deref() == Some("on"),
        form: Some(FormFields {
            honeypot: values.colloquy_hp.clone(),
            stamp: values.colloquy_ts.clone(),
        }),
        client: PostClient::Browser,
    };
    match app.colloquy.post(&site, &thread, input, ip).await {
        Ok(posted) => {
            let status = posted.comment.status.as_str();
            app.metrics.comment_posted(status);
            let id = posted.comment.id.to_string();
            let base = page_path(&site, &thread);
            let target = if status == "published" {
                let q = query_string(&[("order", order_name(order)), ("posted", &id)]);
                format!("{base}?{q}#comment-{id}")
            } else {
                let q = query_string(&[("order", order_name(order)), ("held", &id)]);
                format!("{base}?{q}#colloquy-notice")
            };
            Redirect::to(&target).into_response()
        }
        Err(e) => failed(&app, &site, &thread, view, Problem::from(e)).await,
    }
}

/// Shows the form again with the problem: next to its field when it names
/// one the form has, above the form otherwise.
async fn failed(
    app: &AppState,
    site: &SiteId,
    thread: &ThreadKey,
    mut view: View,
    problem: Problem,
) -> Response {
    let status = problem.status();
    let field = problem
        .field()
        .filter(|f| FORM_FIELDS.iter().any(|(name, _)| name == f));
    match field {
        Some(f) => {
            let prefix = format!("{f}: ");
            let message = problem
                .detail()
                .strip_prefix(&prefix)
                .unwrap_or(problem.detail());
            view.errors.push((f.to_owned(), sentence(message)));
        }
        None => {
            let mut message = sentence(problem.detail());
            if let Some(secs) = problem.retry_after() {
                message.push_str(&format!(" Try again in {secs} seconds."));
            }
            view.notice = Some(Notice::Failed(message));
        }
    }
    render(app, site, thread, view, status).await
}

/// `the comment is empty` → `The comment is empty.`
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

async fn render(
    app: &AppState,
    site: &SiteId,
    thread: &ThreadKey,
    view: View,
    status: StatusCode,
) -> Response {
    let order = view.order.unwrap_or(Order::Oldest);
    let loaded = async {
        let (row, policies) = app.colloquy.formats(site).await?;
        let info = app.colloquy.thread(site, thread).await?;
        let page = app
            .colloquy
            .list(site, thread, order, Some(PAGE_SIZE), view.cursor.as_deref())
            .await?;
        Ok::<_, crate::error::Error>((row, policies, info, page))
    }
    .await;
    let (row, policies, info, page) = match loaded {
        Ok(v) => v,
        Err(e) => {
            let p = Problem::from(e);
            let message = match p.status() {
                StatusCode::NOT_FOUND => "There are no comments here: the site or the thread does not exist, or the thread is hidden.".to_owned(),
                _ => sentence(p.detail()),
            };
            return error_page(p.status(), &message);
        }
    };
    let path = page_path(site, thread);
    let order_q = order_name(order);
    let cursor = view.cursor.clone().unwrap_or_default();
    let reply_href = |id: i64| {
        let mut pairs = vec![("order", order_q)];
        if !cursor.is_empty() {
            pairs.push(("cursor", cursor.as_str()));
        }
        let id = id.to_string();
        pairs.push(("reply", id.as_str()));
        format!("?{}#colloquy-form", query_string(&pairs))
    };

    let mut body =
        String::from("<body class=\"colloquy-page\">\n<main class=\"colloquy\" id=\"colloquy\">\n");
    body.push_str(&format!(
        "<h1>Comments on <q>{}</q></h1>\n",
        esc(thread.as_str())
    ));
    body.push_str(&notice_html(view.notice.as_ref()));

    let count = match info.count {
        1 => "1 comment".to_owned(),
        n => format!("{n} comments"),
    };
    body.push_str(&format!(
        "<section class=\"colloquy-thread\" aria-labelledby=\"colloquy-count\">\n<div class=\"colloquy-bar\">\n<h2 id=\"colloquy-count\">{count}</h2>\n<nav class=\"colloquy-order\" aria-label=\"Sort comments\">"
    ));
    for (value, label) in [("oldest", "Oldest first"), ("newest", "Newest first")] {
        let current = if value == order_q {
            " aria-current=\"page\""
        } else {
            ""
        };
        body.push_str(&format!(
            "<a href=\"{}?{}\"{current}>{label}</a> ",
            esc(&path),
            esc(&query_string(&[("order", value)]))
        ));
    }
    body.push_str("</nav>\n</div>\n");
    if page.comments.is_empty() {
        body.push_str("<p class=\"colloquy-empty\">No comments yet.</p>\n");
    } else {
        body.push_str(&render_thread_with(&page.comments, Some(&reply_href)));
    }
    if let Some(next) = &page.next_cursor {
        body.push_str(&format!(
            "<p class=\"colloquy-more\"><a href=\"{}?{}\">More comments</a></p>\n",
            esc(&path),
            esc(&query_string(&[("order", order_q), ("cursor", next)]))
        ));
    }
    body.push_str("</section>\n");

    if info.state == ThreadState::Open {
        let parent = view.reply_to.map(|id| {
            let name = page
                .comments
                .iter()
                .find(|c| c.id == id)
                .map_or_else(|| format!("comment {id}"), author_name);
            (id, name)
        });
        let mut cancel = path.clone();
        cancel.push('?');
        cancel.push_str(&query_string(&[("order", order_q)]));
        cancel.push_str("#colloquy-form");
        let default_format = row.default_format.clone();
        // A form shown again (preview, error) keeps the time it was first
        // served: the stamp is signed, so a forged one just fails the check.
        let stamp = view
            .values
            .colloquy_ts
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| app.colloquy.form_stamp());
        body.push_str(&comment_form(&FormView {
            stamp: &stamp,
            action: &path,
            formats: &policies,
            default_format: &default_format,
            values: &view.values,
            errors: &view.errors,
            parent,
            cancel_href: &cancel,
            order,
            preview: view.preview.as_deref(),
            reply_mail: app.colloquy.config().smtp.is_some(),
        }));
    } else {
        body.push_str(
            "<p class=\"colloquy-closed\">This thread is closed: it takes no new comments.</p>\n",
        );
    }
    body.push_str("</main>\n</body>\n");
    let title = format!("Comments on {}", thread.as_str());
    html_response(status, false, document(&title, &["embed.css"], &[], &body))
}

fn author_name(c: &Comment) -> String {
    c.author.clone().unwrap_or_else(|| "Anonymous".to_owned())
}

fn notice_html(notice: Option<&Notice>) -> String {
    let (class, role, text) = match notice {
        None => return String::new(),
        Some(Notice::Published(id)) => (
            "colloquy-notice colloquy-ok",
            "status",
            format!("Thank you: your comment is published. <a href=\"#comment-{id}\">See it</a>."),
        ),
        Some(Notice::Held) => (
            "colloquy-notice colloquy-held",
            "status",
            "Thank you: your comment is held for moderation. It will appear here once a moderator approves it."
                .to_owned(),
        ),
        Some(Notice::Failed(message)) => (
            "colloquy-notice colloquy-failed",
            "alert",
            format!("Your comment was not posted: {}", esc(message)),
        ),
    };
    format!(
        "<p class=\"{class}\" id=\"colloquy-notice\" role=\"{role}\" tabindex=\"-1\">{text}</p>\n"
    )
}

/// What [`comment_form`] shows.
struct FormView<'a> {
    /// Where the form posts (the page itself).
    action: &'a str,
    /// The site's formats, in order.
    formats: &'a [&'a Policy],
    default_format: &'a str,
    /// What the reader typed (after an error or a preview).
    values: &'a FormValues,
    /// `(field, message)` pairs.
    errors: &'a [(String, String)],
    /// The comment replied to: id and author.
    parent: Option<(i64, String)>,
    cancel_href: &'a str,
    order: Order,
    /// Reply notifications can be sent (SMTP is configured): offer them.
    reply_mail: bool,
    /// A rendered preview (safe HTML).
    preview: Option<&'a str>,
    /// The signed time the form was served (see `Colloquy::form_stamp`).
    stamp: &'a str,
}

/// The thread page's comment form. Every field the page's form sends is
/// written here, so a new hidden field belongs in this one function.
fn comment_form(f: &FormView<'_>) -> String {
    let error_of = |field: &str| {
        f.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, m)| m.as_str())
    };
    let mut out = String::from(
        "<section class=\"colloquy-compose\" aria-labelledby=\"colloquy-form-title\">\n",
    );
    let title = match &f.parent {
        Some((_, name)) => format!("Reply to {}", esc(name)),
        None => "Add a comment".to_owned(),
    };
    out.push_str(&format!("<h2 id=\"colloquy-form-title\">{title}</h2>\n"));
    out.push_str(&format!(
        "<form class=\"colloquy-form\" id=\"colloquy-form\" method=\"post\" action=\"{}\" novalidate>\n",
        esc(f.action)
    ));
    if let Some((id, name)) = &f.parent {
        out.push_str(&format!(
            "<p class=\"colloquy-replying\">Replying to <a href=\"#comment-{id}\">{}</a>. <a href=\"{}\">Cancel reply</a></p>\n<input type=\"hidden\" name=\"parent\" value=\"{id}\">\n",
            esc(name),
            esc(f.cancel_href)
        ));
    }
    out.push_str(&format!(
        "<input type=\"hidden\" name=\"order\" value=\"{}\">\n",
        order_name(f.order)
    ));
    // Spam checks: a field people never see (bots fill it in) and the
    // signed time the form was served (bots post at once).
    out.push_str(&format!(
        "<div class=\"colloquy-hp\" aria-hidden=\"true\"><label for=\"colloquy-hp\">Leave this field empty</label>\n<input id=\"colloquy-hp\" name=\"colloquy_hp\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\" value=\"\"></div>\n<input type=\"hidden\" name=\"colloquy_ts\" value=\"{}\">\n",
        esc(f.stamp)
    ));
    if !f.errors.is_empty() {
        // Focused on load, so keyboard and screen-reader users land on it.
        out.push_str("<div class=\"colloquy-errors\" id=\"colloquy-errors\" role=\"alert\" tabindex=\"-1\" autofocus>\n<p>Your comment was not posted:</p>\n<ul>\n");
        for (field, message) in f.errors {
            let label = FORM_FIELDS
                .iter()
                .find(|(name, _)| name == field)
                .map_or(field.as_str(), |(_, l)| l);
            out.push_str(&format!(
                "<li><a href=\"#colloquy-{}\">{}: {}</a></li>\n",
                esc(field),
                esc(label),
                esc(message)
            ));
        }
        out.push_str("</ul>\n</div>\n");
    }
    if let Some(html) = f.preview {
        out.push_str(&format!(
            "<section class=\"colloquy-preview\" aria-label=\"Preview\">\n<h3>Preview</h3>\n<div class=\"colloquy-body\">{html}</div>\n</section>\n"
        ));
    }
    out.push_str("<div class=\"colloquy-fields\">\n");
    let inputs = [
        (
            "author",
            "Name",
            "text",
            "name",
            f.values.author.as_str(),
            "",
        ),
        (
            "email",
            "E-mail",
            "email",
            "email",
            f.values.email.as_str(),
            "<span class=\"colloquy-hint\"> (never shown)</span>",
        ),
        (
            "homepage",
            "Homepage",
            "url",
            "url",
            f.values.homepage.as_str(),
            "",
        ),
    ];
    for (name, label, kind, autocomplete, value, hint) in inputs {
        let error = error_of(name);
        out.push_str(&format!(
            "<p class=\"colloquy-field\"><label for=\"colloquy-{name}\">{label}{hint}</label>\n<input id=\"colloquy-{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" value=\"{}\"{}>\n{}</p>\n",
            esc(value),
            invalid_attrs(name, error, None),
            error_html(name, error)
        ));
    }
    out.push_str("</div>\n");
    if f.reply_mail {
        let checked = if f.values.notify_replies.as_deref() == Some("on") {
            " checked"
        } else {
            ""
        };
        out.push_str(&format!(
            "<p class=\"colloquy-field colloquy-check\"><input id=\"colloquy-notify\" name=\"notify_replies\" type=\"checkbox\" value=\"on\"{checked}>\n<label for=\"colloquy-notify\">Send me an email when someone replies (give your address above; the first time, we ask you to confirm it)</label></p>\n"
        ));
    }
    let body_error = error_of("body");
    out.push_str(&format!(
        "<p class=\"colloquy-field\"><label for=\"colloquy-body\">Comment</label>\n<textarea id=\"colloquy-body\" name=\"body\" rows=\"6\" required{}>{}</textarea>\n{}</p>\n",
        invalid_attrs("body", body_error, Some("colloquy-tips")),
        esc(&f.values.body),
        error_html("body", body_error)
    ));
    let selected = f
        .values
        .format
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(f.default_format);
    let format_error = error_of("format");
    out.push_str(&format!(
        "<p class=\"colloquy-field\"><label for=\"colloquy-format\">Text format</label>\n<select id=\"colloquy-format\" name=\"format\"{}>\n",
        invalid_attrs("format", format_error, None)
    ));
    for p in f.formats {
        let sel = if p.id() == selected { " selected" } else { "" };
        out.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>\n",
            esc(p.id()),
            esc(p.name())
        ));
    }
    out.push_str(&format!(
        "</select>\n{}</p>\n",
        error_html("format", format_error)
    ));
    // Without JavaScript the tips cannot follow the selection: all are shown.
    out.push_str("<div class=\"colloquy-tips\" id=\"colloquy-tips\">\n");
    for p in f.formats {
        out.push_str(&format!(
            "<div class=\"colloquy-format-tips\" data-format=\"{}\">\n<h3>{}</h3>\n<ul>\n",
            esc(p.id()),
            esc(p.name())
        ));
        for tip in p.tips() {
            out.push_str(&format!("<li>{}</li>\n", esc(tip)));
        }
        out.push_str("</ul>\n</div>\n");
    }
    out.push_str("</div>\n");
    out.push_str(
        "<div class=\"colloquy-actions\">\n<button type=\"submit\" name=\"op\" value=\"post\" class=\"colloquy-primary\">Post comment</button>\n<button type=\"submit\" name=\"op\" value=\"preview\">Preview</button>\n</div>\n</form>\n</section>\n",
    );
    out
}

fn invalid_attrs(field: &str, error: Option<&str>, describedby: Option<&str>) -> String {
    let mut ids: Vec<String> = describedby.map(str::to_owned).into_iter().collect();
    let mut out = String::new();
    if error.is_some() {
        ids.insert(0, format!("colloquy-{field}-error"));
        out.push_str(" aria-invalid=\"true\"");
    }
    if !ids.is_empty() {
        out.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
    }
    out
}

fn error_html(field: &str, error: Option<&str>) -> String {
    error.map_or_else(String::new, |m| {
        format!(
            "<span class=\"colloquy-error\" id=\"colloquy-{field}-error\">{}</span>\n",
            esc(m)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    #[test]
    fn the_form_escapes_what_was_typed_and_marks_the_invalid_field() {
        let set = PolicySet::bundled();
        let formats: Vec<&Policy> = ["filtered_html", "plain_text"]
            .iter()
            .filter_map(|id| set.get(id))
            .collect();
        let values = FormValues {
            author: "\"><script>x</script>".into(),
            body: "</textarea><b>".into(),
            format: Some("plain_text".into()),
            ..FormValues::default()
        };
        let errors = vec![("email".to_owned(), "Must be an address.".to_owned())];
        let html = comment_form(&FormView {
            action: "/sites/default/threads/a%2Fb",
            formats: &formats,
            default_format: "filtered_html",
            values: &values,
            errors: &errors,
            parent: Some((5, "<Ann>".into())),
            cancel_href: "/x",
            order: Order::Newest,
            preview: None,
            stamp: "1.<x>",
            reply_mail: true,
        });
        assert!(!html.contains("<script>") && !html.contains("</textarea><b>"));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        assert!(html.contains("Reply to &lt;Ann&gt;"));
        assert!(html.contains("name=\"colloquy_ts\" value=\"1.&lt;x&gt;\""));
        assert!(html.contains("name=\"colloquy_hp\" type=\"text\" tabindex=\"-1\""));
        assert!(html.contains("name=\"parent\" value=\"5\""));
        assert!(html.contains("<option value=\"plain_text\" selected>"));
        assert!(html.contains(
            "id=\"colloquy-email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"\" aria-invalid=\"true\" aria-describedby=\"colloquy-email-error\""
        ));
        assert!(!html.contains("id=\"colloquy-author\" name=\"author\" type=\"text\" autocomplete=\"name\" value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" aria-invalid"));
        assert_eq!(sentence("the comment is empty"), "The comment is empty.");
    }
}
