//! The moderation page, `/sites/{site}/moderation`: a shell that
//! `/assets/moderation.js` fills from the admin API. The admin token is typed
//! into the page and kept in the tab's session storage; it is sent as a
//! bearer header, never as a cookie, so other sites cannot act with it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{document, error_page, esc, html_response};
use crate::comment::SiteId;
use crate::http::extract::ApiPath;
use crate::http::problem::Problem;
use crate::http::AppState;

/// `GET /sites/{site}/moderation`
pub async fn page(State(app): State<AppState>, ApiPath(site): ApiPath<String>) -> Response {
    let Ok(site) = SiteId::parse(&site) else {
        return error_page(StatusCode::NOT_FOUND, "There is no such site.");
    };
    if let Err(e) = app.colloquy.site(&site).await {
        let p = Problem::from(e);
        return error_page(p.status(), p.detail());
    }
    // Every loaded format, so a moderator can offer one the site lacks yet.
    let mut offered = String::new();
    let mut defaults = String::new();
    for p in app.colloquy.policies().iter() {
        offered.push_str(&format!(
            "<li><label><input type=\"checkbox\" name=\"formats\" value=\"{0}\"> {1} <code>{0}</code></label></li>\n",
            esc(p.id()),
            esc(p.name())
        ));
        defaults.push_str(&format!(
            "<option value=\"{}\">{}</option>\n",
            esc(p.id()),
            esc(p.name())
        ));
    }
    let site_html = esc(site.as_str());
    let body = format!(
        r#"<body class="colloquy-page">
<main class="colloquy colloquy-moderation" id="moderation" data-site="{site_html}">
<h1>Moderation: {site_html}</h1>
<p class="colloquy-notice" id="mod-status" role="status" tabindex="-1" hidden></p>
<noscript><p class="colloquy-notice colloquy-failed">The moderation page needs JavaScript.</p></noscript>
<form class="colloquy-form" id="mod-login" novalidate>
<h2>Sign in</h2>
<p class="colloquy-field"><label for="mod-token">Admin token</label>
<input id="mod-token" name="token" type="password" autocomplete="current-password" required aria-describedby="mod-login-error">
<span class="colloquy-error" id="mod-login-error" hidden></span></p>
<div class="colloquy-actions"><button type="submit" class="colloquy-primary">Sign in</button></div>
</form>
<div id="mod-app" hidden>
<p class="colloquy-bar">Signed in as a moderator of {site_html}. <button type="button" id="mod-logout">Sign out</button></p>
<section aria-labelledby="mod-queue-title">
<div class="colloquy-bar">
<h2 id="mod-queue-title">Comments</h2>
<p><label for="mod-filter">Show</label>
<select id="mod-filter">
<option value="pending" selected>Held for moderation</option>
<option value="published">Published</option>
<option value="spam">Spam</option>
<option value="trash">Trash</option>
<option value="all">All</option>
</select>
<button type="button" id="mod-refresh">Refresh</button></p>
</div>
<div class="mod-bulk" role="group" aria-label="Act on the selected comments">
<label><input type="checkbox" id="mod-select-all"> Select all</label>
<button type="button" data-bulk="approve">Approve selected</button>
<button type="button" data-bulk="spam">Spam selected</button>
<button type="button" data-bulk="trash">Trash selected</button>
</div>
<ol class="mod-queue" id="mod-queue" aria-live="polite"></ol>
<p class="colloquy-empty" id="mod-empty" hidden>No comments here.</p>
<p class="colloquy-more"><button type="button" id="mod-more" hidden>More comments</button></p>
</section>
<section aria-labelledby="mod-formats-title">
<h2 id="mod-formats-title">Text formats</h2>
<form class="colloquy-form" id="mod-formats" novalidate>
<fieldset><legend>Formats offered to commenters, in this order</legend>
<ul class="mod-format-list">
{offered}</ul>
</fieldset>
<p class="colloquy-field"><label for="mod-default">Default format</label>
<select id="mod-default" name="default_format">
{defaults}</select></p>
<span class="colloquy-error" id="mod-formats-error" role="alert" hidden></span>
<div class="colloquy-actions"><button type="submit">Save formats</button></div>
</form>
</section>
</div>
</main>
</body>
"#
    );
    let title = format!("Moderation: {}", site.as_str());
    html_response(
        StatusCode::OK,
        true,
        document(
            &title,
            &["embed.css", "moderation.css"],
            &["moderation.js"],
            &body,
        ),
    )
}
