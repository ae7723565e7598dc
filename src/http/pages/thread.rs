//! The thread page, `/sites/{site}/threads/{thread}`: the published comments
//! and a plain HTML form, for readers with JavaScript off (or sites that link
//! to it instead of embedding). The form posts to the same address; success
//! redirects back (303) to the new comment or to the "held" notice, an error
//! shows the form again, filled in, with the message next to its field.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::comments::{nest, Step};
use super::escape::filters;
use super::{error_page, Document, Head, Page};
use crate::comment::Order;
use crate::comment::{Comment, SiteId, ThreadKey, ThreadState};
use crate::http::api::ThreadPath;
use crate::http::extract::{decode_form, ApiPath, ClientIp};
use crate::http::openapi::tags;
use crate::http::problem::{self, Problem};
use crate::http::AppState;
use crate::policy::Policy;
use crate::service::{FormFields, PostClient, PostInput};
use crate::urls::page_path;
use crate::SafeHtml;

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
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
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
    preview: Option<SafeHtml>,
    /// The site's spam model would hold the previewed comment (the nudge).
    may_be_held: bool,
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
#[utoipa::path(
    get,
    path = "/sites/{site}/threads/{thread}",
    operation_id = "thread_page",
    tag = tags::PAGES,
    summary = "The thread page: the published comments and a plain HTML form",
    params(ThreadPath, PageQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        problem::page::NotFound, problem::page::Invalid,
    ),
)]
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
#[utoipa::path(
    post,
    path = "/sites/{site}/threads/{thread}",
    operation_id = "thread_page_post",
    tag = tags::PAGES,
    summary = "The thread page's form: preview, or post and go back to the page",
    params(ThreadPath),
    request_body(content = FormValues, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page with the preview", content_type = "text/html", body = String),
        (status = 303, description = "Stored; back to the page, at the comment or the held notice"),
        problem::page::Post,
    ),
)]
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
            Ok(preview) => {
                view.preview = Some(preview.rendered.html);
                view.may_be_held = preview.may_be_held == Some(true);
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

/// `templates/thread.html`: the whole page.
#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage<'a> {
    head: Head,
    thread: &'a str,
    notice: Option<Notice>,
    /// Published comments in the whole thread.
    count: i64,
    /// The two sort orders: address, label, whether it is this one.
    orders: [(String, &'static str, bool); 2],
    comments: Vec<Step>,
    /// The next page of comments.
    more_href: Option<String>,
    /// `None` when the thread is closed.
    form: Option<CommentForm<'a>>,
}

impl Document for ThreadPage<'_> {
    fn head(&self) -> &Head {
        &self.head
    }
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
    let order_link = |value: &'static str, label| {
        let href = format!("{path}?{}", query_string(&[("order", value)]));
        (href, label, value == order_q)
    };
    let orders = [
        order_link("oldest", "Oldest first"),
        order_link("newest", "Newest first"),
    ];
    let more_href = page.next_cursor.as_deref().map(|next| {
        format!(
            "{path}?{}",
            query_string(&[("order", order_q), ("cursor", next)])
        )
    });

    let form = (info.state == ThreadState::Open).then(|| {
        let parent = view.reply_to.map(|id| {
            let name = page
                .comments
                .iter()
                .find(|c| c.id == id)
                .map_or_else(|| format!("comment {id}"), author_name);
            (id, name)
        });
        // A form shown again (preview, error) keeps the time it was first
        // served: the stamp is signed, so a forged one just fails the check.
        let stamp = view
            .values
            .colloquy_ts
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| app.colloquy.form_stamp());
        CommentForm {
            stamp,
            // A preview comes back at the form, not the top (a refusal
            // comes back with the focus on its summary, by autofocus, which
            // a fragment would cancel).
            preview_action: format!("{path}#colloquy-form"),
            action: path.clone(),
            formats: policies,
            default_format: row.default_format.clone(),
            values: view.values,
            errors: view.errors,
            parent,
            cancel_href: format!(
                "{path}?{}#colloquy-form",
                query_string(&[("order", order_q)])
            ),
            order,
            preview: view.preview,
            may_be_held: view.may_be_held,
            reply_mail: app.colloquy.config().smtp.is_some(),
        }
    });
    let mut comments = nest(page.comments, Some(&reply_href));
    if let Some(Notice::Published(id)) = &view.notice {
        super::comments::mark_posted(&mut comments, *id);
    }
    let page = ThreadPage {
        head: Head {
            title: format!("Comments on {}", thread.as_str()),
            styles: &["embed.css"],
            scripts: &[],
        },
        thread: thread.as_str(),
        notice: view.notice,
        count: info.count,
        orders,
        comments,
        more_href,
        form,
    };
    Page(status, page).into_response()
}

fn author_name(c: &Comment) -> String {
    c.author
        .as_deref()
        .map_or_else(|| "Anonymous".to_owned(), str::to_owned)
}

/// The comment form of `templates/thread.html` (closed threads have none).
/// It writes every field the form sends, so a new hidden field belongs in
/// the template with the others.
struct CommentForm<'a> {
    /// Where the form posts (the page itself).
    action: String,
    /// Where the Preview button posts: the page, at the form.
    preview_action: String,
    /// The site's formats, in order.
    formats: Vec<&'a Policy>,
    default_format: String,
    /// What the reader typed (after an error or a preview).
    values: FormValues,
    /// `(field, message)` pairs.
    errors: Vec<(String, String)>,
    /// The comment replied to: id and author.
    parent: Option<(i64, String)>,
    cancel_href: String,
    order: Order,
    /// Reply notifications can be sent (SMTP is configured): offer them.
    reply_mail: bool,
    /// A rendered preview.
    preview: Option<SafeHtml>,
    /// Tell the writer the previewed comment may be held for review.
    may_be_held: bool,
    /// The signed time the form was served (see `Colloquy::form_stamp`).
    stamp: String,
}

/// One of the form's text inputs.
struct Input<'a> {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: &'a str,
    /// Says that the address is never shown.
    private: bool,
}

impl CommentForm<'_> {
    /// The message of the error at `field`, if there is one.
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, m)| m.as_str())
    }

    /// The label of `field` in the list of errors.
    fn label_of<'f>(&self, field: &'f str) -> &'f str {
        FORM_FIELDS
            .iter()
            .find(|(name, _)| *name == field)
            .map_or(field, |(_, label)| label)
    }

    fn order_name(&self) -> &'static str {
        order_name(self.order)
    }

    fn inputs(&self) -> [Input<'_>; 3] {
        let v = &self.values;
        [
            Input {
                name: "author",
                label: "Name",
                kind: "text",
                autocomplete: "name",
                value: &v.author,
                private: false,
            },
            Input {
                name: "email",
                label: "E-mail",
                kind: "email",
                autocomplete: "email",
                value: &v.email,
                private: true,
            },
            Input {
                name: "homepage",
                label: "Homepage",
                kind: "url",
                autocomplete: "url",
                value: &v.homepage,
                private: false,
            },
        ]
    }

    fn notify_checked(&self) -> bool {
        self.values.notify_replies.as_deref() == Some("on")
    }

    /// The format shown selected: the one sent, or the site's default.
    fn selected(&self) -> &str {
        self.values
            .format
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.default_format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    /// `templates/thread.html`'s form alone, for the test below.
    #[derive(Template)]
    #[template(path = "test/form.html")]
    struct FormOnly<'a> {
        form: CommentForm<'a>,
    }

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
        let html = FormOnly {
            form: CommentForm {
                action: "/sites/default/threads/a%2Fb".into(),
                preview_action: "/sites/default/threads/a%2Fb#colloquy-form".into(),
                formats,
                default_format: "filtered_html".into(),
                values,
                errors,
                parent: Some((5, "<Ann>".into())),
                cancel_href: "/x".into(),
                order: Order::Newest,
                preview: None,
                may_be_held: false,
                stamp: "1.<x>".into(),
                reply_mail: true,
            },
        }
        .render()
        .unwrap_or_default();
        assert!(!html.contains("<script>") && !html.contains("</textarea><b>"));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        assert!(html.contains("Reply to &lt;Ann&gt;"));
        assert!(html.contains("name=\"colloquy_ts\" value=\"1.&lt;x&gt;\""));
        assert!(html.contains("name=\"colloquy_hp\" type=\"text\" tabindex=\"-1\""));
        assert!(html.contains("name=\"parent\" value=\"5\""));
        assert!(html.contains("name=\"order\" value=\"newest\""));
        assert!(html.contains("<option value=\"plain_text\" selected>"));
        assert!(html.contains(
            "id=\"colloquy-email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"\" aria-invalid=\"true\" aria-describedby=\"colloquy-email-error\""
        ));
        assert!(html.contains("<a href=\"#colloquy-email\">E-mail: Must be an address.</a>"));
        assert!(!html.contains("id=\"colloquy-author\" name=\"author\" type=\"text\" autocomplete=\"name\" value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" aria-invalid"));
        assert!(html.contains("aria-describedby=\"colloquy-tips\""));
        assert_eq!(sentence("the comment is empty"), "The comment is empty.");
    }
}
