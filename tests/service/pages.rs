//! Pages and browser plumbing over HTTP: the thread page and its form, the
//! moderation page, the embedded assets, and CORS for a site's origins.
//! (The same pages in a real browser: tests/browser.)

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{encode, spawn, spawn_with, Db, TestApp, ADMIN};

both_backends!(
    the_thread_page_lists_and_its_form_posts_and_redirects_back,
    the_thread_page_shows_refusals_in_html_and_stores_nothing,
    the_thread_page_form_carries_the_spam_checks,
    closed_hidden_and_unknown_threads_on_the_page,
    the_moderation_page_and_assets,
    cors_answers_only_a_sites_own_origins,
    reply_notifications_are_offered_only_when_mail_can_be_sent,
    replies_past_the_nesting_limit_are_still_shown,
);

fn page_path(site: &str, thread: &str) -> String {
    format!("/sites/{site}/threads/{}", encode(thread))
}

async fn get_page(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn the_thread_page_lists_and_its_form_posts_and_redirects_back(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let parent = app
        .post_ok(
            "default",
            "news/a",
            json!({"author": "<Ann>", "body": "<em>hi</em>"}),
        )
        .await;
    let path = page_path("default", "news/a");
    let (status, headers, html) = get_page(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;Ann&gt;") && html.contains("<em>hi</em>"));
    assert!(html.contains("1 comment"));
    assert!(html.contains("<option value=\"filtered_html\" selected>"));

    // A reply through the form: 303 back to the page, at the new comment.
    let r = post_form(
        &app,
        &path,
        &[
            ("author", "Bo"),
            ("body", "a *reply*"),
            ("format", "plain_text"),
            ("parent", &parent["id"].to_string()),
            ("order", "newest"),
            ("op", "post"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let list = app.list("default", "news/a", "").await;
    let reply = &list["comments"][1];
    assert_eq!(reply["parent"], parent["id"]);
    assert_eq!(reply["format"], "plain_text");
    assert_eq!(
        location,
        format!(
            "{path}?order=newest&posted={0}#comment-{0}",
            reply["id"].as_i64().unwrap()
        )
    );
    let (_, _, html) = get_page(&app, location.split('#').next().unwrap()).await;
    // The confirmation is inside the new comment, where the redirect lands.
    let at_mine = html
        .find(&format!("id=\"comment-{}\"", reply["id"]))
        .unwrap();
    let at_notice = html.find("your comment is published").unwrap();
    assert!(
        at_notice > at_mine,
        "the confirmation is beside the comment"
    );
    assert_eq!(html.matches("your comment is published").count(), 1);
    // A preview comes back at the form.
    assert!(html.contains(&format!("formaction=\"{path}#colloquy-form\"")));
    // Nested under its parent, with reply links that keep the order.
    let at_parent = html
        .find(&format!("id=\"comment-{}\"", parent["id"]))
        .unwrap();
    let at_replies = html.find("colloquy-replies").unwrap();
    let at_reply = html
        .find(&format!("id=\"comment-{}\"", reply["id"]))
        .unwrap();
    assert!(at_parent < at_replies && at_replies < at_reply);
    assert!(html.contains(&format!(
        "href=\"?order=newest&amp;reply={}#colloquy-form\"",
        parent["id"]
    )));

    // ?reply= fills the form for a reply to that comment.
    let (_, _, html) = get_page(&app, &format!("{path}?reply={}", parent["id"])).await;
    assert!(html.contains("Reply to &lt;Ann&gt;"));
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"parent\" value=\"{}\">",
        parent["id"]
    )));

    // Held comments go to the notice, not the list.
    let r = post_form(
        &app,
        &path,
        &[("body", "http://a.example http://b.example http://c.example")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("held="), "{location}");
    assert!(location.ends_with("#colloquy-notice"));
    let (_, _, html) = get_page(&app, location.split('#').next().unwrap()).await;
    assert!(html.contains("held for moderation"));
    assert!(!html.contains("http://c.example"));
}

async fn the_thread_page_shows_refusals_in_html_and_stores_nothing(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let path = page_path("default", "refused");
    let r = post_form(
        &app,
        &path,
        &[
            ("author", "\"><script>alert(1)</script>"),
            ("email", "not-an-address"),
            ("body", "kept </textarea> text"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"colloquy-email-error\""));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"colloquy-email-error\""));
    assert!(html.contains("<a href=\"#colloquy-email\">E-mail: "));
    assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(html.contains("kept &lt;/textarea&gt; text</textarea>"));
    assert!(!html.contains("<script>"));

    // An empty comment, and an unknown format, each at its field.
    let r = post_form(&app, &path, &[("body", "  ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("id=\"colloquy-body-error\""));
    let r = post_form(&app, &path, &[("body", "x"), ("format", "markdown")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("id=\"colloquy-format-error\""));

    // Preview renders and stores nothing.
    let r = post_form(
        &app,
        &path,
        &[("body", "<strong>bold</strong>"), ("op", "preview")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("<div class=\"colloquy-body\"><p><strong>bold</strong></p>"));

    // Not a form at all.
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (_, info) = app.get_json("/api/v1/sites/default/threads/refused").await;
    assert_eq!(info["count"], 0);
    let (_, queue) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=all",
            None,
        )
        .await;
    assert_eq!(queue["comments"].as_array().unwrap().len(), 0);
}

/// The `value` of the input named `name` in `html`.
fn input_value(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap();
    let rest = &html[at..];
    let start = rest.find("value=\"").unwrap() + 7;
    let end = rest[start..].find('"').unwrap();
    rest[start..start + end].to_owned()
}

async fn the_thread_page_form_carries_the_spam_checks(db: Db) {
    let Some(app) = spawn_with(db, |c| c.sites[0].rules.min_submit_secs = 3).await else {
        return;
    };
    let path = page_path("default", "bots");
    let (_, _, html) = get_page(&app, &path).await;
    let stamp = input_value(&html, "colloquy_ts");
    assert!(stamp.contains('.'), "{stamp}");
    assert_eq!(input_value(&html, "colloquy_hp"), "");

    // Sent at once with the page's genuine stamp: held as too fast.
    let r = post_form(&app, &path, &[("body", "quick"), ("colloquy_ts", &stamp)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().contains("held="));
    // A stamp is good for one comment: the page's form shows the refusal.
    let r = post_form(&app, &path, &[("body", "again"), ("colloquy_ts", &stamp)]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("reload the page"));
    // A forged stamp, and the honeypot filled in (with a fresh stamp).
    post_form(&app, &path, &[("body", "forged"), ("colloquy_ts", "1.00")]).await;
    let (_, _, html) = get_page(&app, &path).await;
    let fresh = input_value(&html, "colloquy_ts");
    let r = post_form(
        &app,
        &path,
        &[
            ("body", "bot"),
            ("colloquy_ts", &fresh),
            ("colloquy_hp", "http://spam.example"),
        ],
    )
    .await;
    // The bot is told nothing more than a person whose comment is held.
    assert!(r.headers()["location"].to_str().unwrap().contains("held="));

    let (_, queue) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=all",
            None,
        )
        .await;
    let reasons = |body: &str| {
        let c = queue["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["body"] == body)
            .unwrap();
        (c["status"].clone(), c["reasons"].to_string())
    };
    let (status, why) = reasons("quick");
    assert_eq!(status, "pending");
    assert!(why.contains("after the form was shown"), "{why}");
    let (status, why) = reasons("forged");
    assert_eq!(status, "pending");
    assert!(why.contains("missing, expired or invalid"), "{why}");
    let (status, why) = reasons("bot");
    assert_eq!(status, "spam");
    assert!(why.contains("honeypot"), "{why}");

    // After an error the form keeps the stamp it was first served with.
    let r = post_form(&app, &path, &[("body", " "), ("colloquy_ts", &stamp)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(input_value(&r.text().await.unwrap(), "colloquy_ts"), stamp);
}

async fn closed_hidden_and_unknown_threads_on_the_page(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.post_ok("default", "shut", json!({"body": "before closing"}))
        .await;
    for (thread, state) in [("shut", "closed"), ("gone", "hidden")] {
        let (status, _) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/admin/sites/default/threads/{thread}"),
                Some(json!({"state": state})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, html) = get_page(&app, &page_path("default", "shut")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("before closing") && html.contains("This thread is closed"));
    assert!(!html.contains("<form"));
    let r = post_form(&app, &page_path("default", "shut"), &[("body", "late")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("closed"));

    for path in [
        page_path("default", "gone"),
        page_path("nosuchsite", "x"),
        page_path("Bad Site", "x"),
    ] {
        let (status, headers, html) = get_page(&app, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(html.contains("<h1>Not Found</h1>"), "{html}");
    }
}

async fn the_moderation_page_and_assets(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (status, headers, html) = get_page(&app, "/sites/other/moderation").await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    assert_eq!(headers["cache-control"], "no-store");
    assert!(html.contains("<script src=\"/assets/moderation.js?v="));
    assert!(html.contains("data-site=\"other\""));
    // Every loaded format can be offered, not just the site's.
    assert!(html.contains("value=\"filtered_html\"") && html.contains("value=\"markdown\""));
    // No inline script or handler anywhere.
    assert!(!html.contains("<script>") && !html.contains(" onclick"));
    let (status, _, _) = get_page(&app, "/sites/nosuchsite/moderation").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (path, kind) in [
        ("/embed.js", "text/javascript"),
        ("/assets/embed.js", "text/javascript"),
        ("/assets/embed.css", "text/css"),
        ("/assets/moderation.js", "text/javascript"),
        ("/assets/moderation.css", "text/css"),
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
        let etag = r.headers()["etag"].clone();
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let r = app
        .client
        .get(app.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn cors_answers_only_a_sites_own_origins(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // Site `other` lists https://news.example; `default` lists nothing.
    let preflight = |site: &'static str, origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url(&TestApp::comments_path(site, "t")))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let r = preflight("other", "https://news.example").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://news.example"
    );
    assert!(r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Content-Type"));
    for (site, origin) in [
        ("other", "https://evil.example"),
        ("default", "https://news.example"),
    ] {
        let r = preflight(site, origin).await.unwrap();
        assert!(
            r.headers().get("access-control-allow-origin").is_none(),
            "{site} {origin}"
        );
    }

    // Simple requests: the answer names the origin only when it is allowed.
    let r = app
        .client
        .post(app.url(&TestApp::comments_path("other", "t")))
        .header("origin", "https://news.example")
        .json(&json!({"body": "from the article"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://news.example"
    );
    assert!(r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("Retry-After"));
    assert!(r.headers()["vary"].to_str().unwrap().contains("Origin"));
    let r = app
        .client
        .get(app.url(&TestApp::comments_path("other", "t")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());

    // The admin API never answers other origins.
    let r = app
        .client
        .get(app.url("/api/v1/admin/sites/other/comments"))
        .header("origin", "https://news.example")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    drop(app);

    // `"*"` lets any page embed the site's comments.
    let Some(app) = spawn_with(db, |c| {
        c.sites[0].origins = vec!["*".to_owned()];
    })
    .await
    else {
        return;
    };
    let r = app
        .client
        .get(app.url(&TestApp::comments_path("default", "t")))
        .header("origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://anywhere.example"
    );
}

async fn reply_notifications_are_offered_only_when_mail_can_be_sent(db: Db) {
    // No SMTP: neither the page nor the embed (via the formats call) offers it.
    let Some(plain) = spawn(db).await else { return };
    let (_, _, html) = get_page(&plain, &page_path("default", "n")).await;
    assert!(!html.contains("name=\"notify_replies\""));
    let (_, formats) = plain.get_json("/api/v1/sites/default/formats").await;
    assert_eq!(formats["reply_notifications"], false);
    drop(plain);

    let Some(app) = spawn_with(db, |c| {
        c.smtp = Some(colloquy::config::SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: 9,
            from: "comments@example.com".to_owned(),
            username: None,
            password: None,
            tls: colloquy::config::SmtpTls::None,
        });
    })
    .await
    else {
        return;
    };
    let path = page_path("default", "n");
    let (_, _, html) = get_page(&app, &path).await;
    assert!(
        html.contains("<input id=\"colloquy-notify\" name=\"notify_replies\" type=\"checkbox\"")
    );
    assert!(html.contains("<label for=\"colloquy-notify\">"));
    let (_, formats) = app.get_json("/api/v1/sites/default/formats").await;
    assert_eq!(formats["reply_notifications"], true);
    let stamp = input_value(&html, "colloquy_ts");
    for (body, tick) in [("ticked", Some("on")), ("not ticked", None)] {
        let mut form = vec![
            ("body", body),
            ("email", "ann@example.com"),
            ("colloquy_ts", stamp.as_str()),
        ];
        if let Some(t) = tick {
            form.push(("notify_replies", t));
        }
        let r = post_form(&app, &path, &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, queue) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=all",
            None,
        )
        .await;
    let opted = |body: &str| {
        queue["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["body"] == body)
            .unwrap()["notify_replies"]
            .clone()
    };
    assert_eq!(opted("ticked"), true);
    assert_eq!(opted("not ticked"), false);
}

async fn replies_past_the_nesting_limit_are_still_shown(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"max_depth": 0})).await;
    // A chain of 36: lists nest 32 levels deep, the rest follow in the last.
    let mut parent = serde_json::Value::Null;
    let mut ids = Vec::new();
    for n in 0..36 {
        let c = app
            .post_ok(
                "default",
                "deep",
                json!({"body": format!("level {n}"), "parent": parent}),
            )
            .await;
        ids.push(c["id"].as_i64().unwrap());
        parent = c["id"].clone();
    }
    let fragment = app
        .client
        .get(app.url("/api/v1/sites/default/threads/deep/fragment"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, _, page) = get_page(&app, &page_path("default", "deep")).await;
    for html in [&fragment, &page] {
        for id in &ids {
            assert!(
                html.contains(&format!("id=\"comment-{id}\"")),
                "{id} missing"
            );
        }
        assert_eq!(html.matches("<ol class=\"colloquy-replies\">").count(), 32);
    }
    // The fragment is the list alone: every element closed.
    assert_eq!(fragment.matches("<li ").count(), ids.len());
    assert_eq!(fragment.matches("</li>").count(), ids.len());
    assert_eq!(fragment.matches("<ol ").count(), 33);
    assert_eq!(fragment.matches("</ol>").count(), 33);
}

// ---- the guard: nothing but a SafeHtml is written unescaped ----------------

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The name of each filter applied in the tags of template `source`
/// (`{% filter %}` blocks included).
fn filters_used(source: &str) -> Vec<String> {
    let mut used = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let close = match rest.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => continue,
        };
        let end = rest.find(close).unwrap_or(rest.len());
        let tag = &rest[1..end];
        rest = &rest[end..];
        let bytes = tag.as_bytes();
        for (at, &b) in bytes.iter().enumerate() {
            let lone_bar =
                b == b'|' && bytes.get(at + 1) != Some(&b'|') && (at == 0 || bytes[at - 1] != b'|');
            if lone_bar {
                let name: String = tag[at + 1..]
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                used.push(name);
            }
        }
        let words = tag.trim_start_matches(['-', '+', '~', ' ']);
        if close == "%}" && words.starts_with("filter") {
            used.push("filter block".to_owned());
        }
    }
    used
}

/// How often `word` stands alone (not inside a longer name) in `source`.
fn count_word(source: &str, word: &str) -> usize {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    source
        .match_indices(word)
        .filter(|(at, _)| {
            !ident(source[..*at].chars().next_back())
                && !ident(source[at + word.len()..].chars().next())
        })
        .count()
}

/// Every `{{ }}` of a template goes through the escaper `askama.toml`
/// names (escaped, without the characters XML forbids); only a `SafeHtml`
/// may skip it, through the `sanitized` filter. This fails on a new way
/// around: `|safe`, `|escape("txt")`, a `{% filter %}` block, a template the
/// escaper does not cover (another extension, inline `source`,
/// `escape = "none"`), or a value marked safe in Rust.
#[test]
fn nothing_but_safe_html_is_written_unescaped() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));

    let config = std::fs::read_to_string(root.join("askama.toml")).unwrap();
    assert!(
        config.contains(
            "path = \"crate::http::pages::escape::Markup\"\nextensions = [\"html\", \"xml\"]"
        ),
        "askama.toml must make Markup the escaper of .html and .xml templates"
    );

    let mut templates = Vec::new();
    files_under(&root.join("templates"), &mut templates);
    assert!(templates.len() > 5, "no templates found");
    for path in &templates {
        let name = path.display();
        let ext = path.extension().and_then(|e| e.to_str());
        assert!(
            matches!(ext, Some("html" | "xml")),
            "{name}: templates are .html or .xml, the extensions Markup escapes"
        );
        let source = std::fs::read_to_string(path).unwrap();
        for filter in filters_used(&source) {
            assert_eq!(
                filter, "sanitized",
                "{name}: only `|sanitized` (which takes a SafeHtml) may change how a value is written"
            );
        }
    }

    let mut sources = Vec::new();
    files_under(&root.join("src"), &mut sources);
    let mut marked_safe = Vec::new();
    for path in sources
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path).unwrap();
        for marker in ["MaybeSafe", "HtmlSafe", "PreEscaped"] {
            assert_eq!(
                count_word(&source, marker),
                0,
                "{name}: `{marker}` writes unescaped"
            );
        }
        marked_safe.extend(std::iter::repeat_n(
            name.clone(),
            count_word(&source, "Safe"),
        ));
        let mut rest = source.as_str();
        while let Some(at) = rest.find("#[template(") {
            rest = &rest[at + "#[template(".len()..];
            let end = rest.find(")]").unwrap_or(rest.len());
            let args = rest[..end].trim();
            let path_only = args
                .strip_prefix("path = \"")
                .and_then(|p| p.strip_suffix('"'))
                .is_some_and(|p| !p.contains('"') && (p.ends_with(".html") || p.ends_with(".xml")));
            assert!(
                path_only,
                "{name}: `{args}`: a template is a `path` to a .html or .xml file, nothing else"
            );
        }
    }
    // `askama::filters::Safe` twice: the `sanitized` filter's type and value.
    assert_eq!(
        marked_safe.len(),
        2,
        "`Safe` outside the `sanitized` filter: {marked_safe:?}"
    );
    assert!(
        marked_safe
            .iter()
            .all(|f| f.ends_with("src/http/pages/escape.rs")),
        "{marked_safe:?}"
    );
}

#[test]
fn the_guard_sees_what_it_forbids() {
    let used = filters_used(
        "{{ a|safe }} {{ b | e(\"txt\") }} {% if x || y %}{%- filter upper %}{% endfilter %}{{ c|sanitized }}",
    );
    assert_eq!(used, ["safe", "e", "filter block", "sanitized"]);
    assert_eq!(
        count_word("Safe(x) a::Safe<T> SafeHtml UnSafe Safe_", "Safe"),
        2
    );
}
