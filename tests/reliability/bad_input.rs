//! Hostile and broken requests, as a table: each gets its documented status
//! and a problem body naming what is wrong, and the database is exactly as
//! before. Slow clients (slowloris) are cut off instead of holding the
//! server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_with, Db, TestApp, ADMIN};
use crate::process::all_stored;

both_backends!(every_bad_input_gets_its_status_and_changes_nothing);

/// One bad request and the answer it must get.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    admin: bool,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// The field the problem must name, if any.
    field: Option<&'static str>,
}

fn case(
    what: &'static str,
    path: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        what,
        method: Method::POST,
        path: path.to_owned(),
        content_type: Some("application/json"),
        admin: false,
        body: body.into(),
        status,
        code,
        field: None,
    }
}

fn json_case(what: &'static str, path: &str, body: Value, field: &'static str) -> Case {
    Case {
        field: Some(field),
        ..case(what, path, body.to_string(), 422, "invalid_field")
    }
}

impl Case {
    fn method(mut self, m: Method) -> Case {
        self.method = m;
        self
    }
    fn content_type(mut self, ct: Option<&'static str>) -> Case {
        self.content_type = ct;
        self
    }
    fn admin(mut self) -> Case {
        self.admin = true;
        self
    }
}

/// Everything a request could have changed: every comment of both sites
/// with all its fields, the sites' settings, and thread states and counts.
async fn snapshot(app: &TestApp) -> Value {
    let mut comments = Vec::new();
    for site in ["default", "other"] {
        comments.extend(all_stored(&app.client, &app.base, site).await);
    }
    let (_, sites) = app.admin(Method::GET, "/api/v1/admin/sites", None).await;
    let mut threads = Vec::new();
    for t in ["bad", "bad-b", "ok", "../../etc/passwd"] {
        threads.push(
            app.get_json(&format!(
                "/api/v1/sites/default/threads/{}",
                crate::helpers::encode(t)
            ))
            .await
            .1,
        );
    }
    json!({"comments": comments, "sites": sites, "threads": threads})
}

fn cases(top: i64, other_thread: i64, other_site: i64) -> Vec<Case> {
    let p = TestApp::comments_path("default", "bad");
    let p = p.as_str();
    let deep_array = format!(
        "{{\"body\":\"x\",\"author\":{}{}}}",
        "[".repeat(64),
        "]".repeat(64)
    );
    let deep_object = format!("{}{}", "{\"a\":".repeat(40), "1}".repeat(40));
    let mut invalid_utf8 = b"{\"body\":\"caf".to_vec();
    invalid_utf8.extend([0xC3, 0x28, 0xFF, 0xFE]);
    invalid_utf8.extend(b"\"}");
    let mut form_invalid_utf8 = b"body=caf".to_vec();
    form_invalid_utf8.extend([0xC3, 0x28, 0xFF]);
    let huge = json!({"body": "x".repeat(70_000)}).to_string();
    let edit = |id: &str| format!("/api/v1/sites/default/comments/{id}");
    let admin_comment = |id: &str| format!("/api/v1/admin/sites/default/comments/{id}");
    vec![
        // Malformed bodies.
        case("truncated JSON", p, "{\"body\": ", 400, "malformed_request"),
        case(
            "trailing garbage",
            p,
            "{\"body\":\"x\"} {",
            400,
            "malformed_request",
        ),
        case("empty body", p, "", 400, "malformed_request"),
        json_case(
            "fields as an array",
            p,
            json!(["a body", "an author"]),
            "body",
        ),
        json_case(
            "admin fields as an array",
            "/api/v1/admin/sites/default/comments/bulk",
            json!(["spam", [top]]),
            "body",
        )
        .admin(),
        case("single quotes", p, "{'body':'x'}", 400, "malformed_request"),
        case(
            "NaN",
            p,
            "{\"body\":\"x\",\"parent\":NaN}",
            400,
            "malformed_request",
        ),
        case(
            "invalid UTF-8 in JSON",
            p,
            invalid_utf8,
            400,
            "malformed_request",
        ),
        case(
            "lone surrogate escape",
            p,
            "{\"body\":\"\\ud800\"}",
            400,
            "malformed_request",
        ),
        case(
            "deeply nested array",
            p,
            deep_array,
            400,
            "malformed_request",
        ),
        case(
            "deeply nested object",
            p,
            deep_object,
            400,
            "malformed_request",
        ),
        case("body over the size limit", p, huge, 413, "too_large"),
        // Wrong types and missing fields.
        json_case("no body field", p, json!({"author": "x"}), "body"),
        json_case("body is a number", p, json!({"body": 3}), "body"),
        json_case("body is null", p, json!({"body": null}), "body"),
        json_case("body is an array", p, json!({"body": ["x"]}), "body"),
        json_case(
            "author is a number",
            p,
            json!({"body": "x", "author": 5}),
            "author",
        ),
        json_case(
            "email is an object",
            p,
            json!({"body": "x", "email": {}}),
            "email",
        ),
        json_case(
            "format is a list",
            p,
            json!({"body": "x", "format": ["markdown"]}),
            "format",
        ),
        json_case(
            "parent is text",
            p,
            json!({"body": "x", "parent": "abc"}),
            "parent",
        ),
        json_case(
            "parent is a fraction",
            p,
            json!({"body": "x", "parent": 1.5}),
            "parent",
        ),
        json_case(
            "parent is boolean",
            p,
            json!({"body": "x", "parent": true}),
            "parent",
        ),
        json_case(
            "parent beyond i64",
            p,
            serde_json::from_str(r#"{"body":"x","parent":92233720368547758080}"#).unwrap(),
            "parent",
        ),
        json_case(
            "an unknown field",
            p,
            json!({"body": "x", "is_admin": true}),
            "is_admin",
        ),
        json_case(
            "a self-chosen status",
            p,
            json!({"body": "x", "status": "published"}),
            "status",
        ),
        json_case("top level is a string", p, json!("just text"), "body"),
        case(
            "top level is a list of objects",
            p,
            json!([{"body": "x"}]).to_string(),
            422,
            "invalid_field",
        ),
        // Unknown formats, sites and parents; replies across threads.
        json_case(
            "unknown format",
            p,
            json!({"body": "x", "format": "bbcode"}),
            "format",
        ),
        json_case(
            "format the site does not offer",
            p,
            json!({"body": "x", "format": "markdown"}),
            "format",
        ),
        json_case(
            "format with a path",
            p,
            json!({"body": "x", "format": "../policies/plain_text"}),
            "format",
        ),
        case(
            "unknown site",
            &TestApp::comments_path("nosuchsite", "bad"),
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        ),
        case(
            "site id with traversal",
            "/api/v1/sites/..%2F..%2Fetc/threads/bad/comments",
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        ),
        case(
            "upper-case site id",
            "/api/v1/sites/DEFAULT/threads/bad/comments",
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        ),
        json_case(
            "unknown parent",
            p,
            json!({"body": "x", "parent": 123_456_789}),
            "parent",
        ),
        json_case(
            "parent zero",
            p,
            json!({"body": "x", "parent": 0}),
            "parent",
        ),
        json_case(
            "negative parent",
            p,
            json!({"body": "x", "parent": -5}),
            "parent",
        ),
        json_case(
            "reply into another thread",
            p,
            json!({"body": "x", "parent": other_thread}),
            "parent",
        ),
        json_case(
            "reply to another site's comment",
            p,
            json!({"body": "x", "parent": other_site}),
            "parent",
        ),
        // Over-long fields and control characters.
        json_case(
            "body over 20000 characters",
            p,
            json!({"body": "é".repeat(20_001)}),
            "body",
        ),
        json_case("empty body", p, json!({"body": ""}), "body"),
        json_case("blank body", p, json!({"body": " \n\t "}), "body"),
        json_case(
            "author over 100 characters",
            p,
            json!({"body": "x", "author": "a".repeat(101)}),
            "author",
        ),
        json_case(
            "homepage over 512 characters",
            p,
            json!({"body": "x", "homepage": format!("https://a.example/{}", "p".repeat(600))}),
            "homepage",
        ),
        json_case(
            "email over 254 characters",
            p,
            json!({"body": "x", "email": format!("{}@example.com", "a".repeat(250))}),
            "email",
        ),
        json_case(
            "thread key over 256 characters",
            &TestApp::comments_path("default", &"t".repeat(257)),
            json!({"body": "x"}),
            "thread",
        ),
        json_case(
            "NUL in the author",
            p,
            json!({"body": "x", "author": "a\u{0}b"}),
            "author",
        ),
        json_case(
            "escape sequence in the author",
            p,
            json!({"body": "x", "author": "a\u{1b}[31mb"}),
            "author",
        ),
        json_case(
            "line break in the author",
            p,
            json!({"body": "x", "author": "a\r\nSet-Cookie: x"}),
            "author",
        ),
        json_case(
            "line break in the e-mail",
            p,
            json!({"body": "x", "email": "a@b.example\nBcc: c@d.example"}),
            "email",
        ),
        json_case(
            "bell in the homepage",
            p,
            json!({"body": "x", "homepage": "https://a.example/\u{7}"}),
            "homepage",
        ),
        json_case(
            "javascript homepage",
            p,
            json!({"body": "x", "homepage": "javascript:alert(1)"}),
            "homepage",
        ),
        json_case(
            "data homepage",
            p,
            json!({"body": "x", "homepage": "data:text/html,<script>alert(1)</script>"}),
            "homepage",
        ),
        json_case(
            "two @ in the e-mail",
            p,
            json!({"body": "x", "email": "a@b@c.example"}),
            "email",
        ),
        // Path traversal and garbage in ids.
        case(
            "traversal as comment id",
            &edit("..%2F..%2Fetc%2Fpasswd"),
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        )
        .method(Method::PATCH),
        case(
            "dot-dot as comment id",
            &edit("%2E%2E"),
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        )
        .method(Method::PATCH),
        case(
            "id beyond i64",
            &edit("99999999999999999999"),
            json!({"body": "x"}).to_string(),
            404,
            "not_found",
        )
        .method(Method::PATCH),
        case(
            "id with a suffix",
            &admin_comment(&format!("{top}%2F..%2F1")),
            Vec::new(),
            404,
            "not_found",
        )
        .method(Method::GET)
        .admin()
        .content_type(None),
        case(
            "negative id",
            &admin_comment("-1"),
            Vec::new(),
            404,
            "not_found",
        )
        .method(Method::GET)
        .admin()
        .content_type(None),
        case(
            "unknown action",
            &format!("/api/v1/admin/sites/default/comments/{top}/publish-all"),
            Vec::new(),
            404,
            "not_found",
        )
        .admin()
        .content_type(None),
        // Wrong content types.
        case("text/plain", p, "body=x", 415, "unsupported_media_type")
            .content_type(Some("text/plain")),
        case(
            "no content type",
            p,
            json!({"body": "x"}).to_string(),
            415,
            "unsupported_media_type",
        )
        .content_type(None),
        case(
            "multipart",
            p,
            "--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nx\r\n--b--\r\n",
            415,
            "unsupported_media_type",
        )
        .content_type(Some("multipart/form-data; boundary=b")),
        case("XML", p, "<body>x</body>", 415, "unsupported_media_type")
            .content_type(Some("application/xml")),
        case(
            "form to a JSON-only endpoint",
            "/api/v1/sites/default/preview",
            "body=x",
            415,
            "unsupported_media_type",
        )
        .content_type(Some("application/x-www-form-urlencoded")),
        // Forms.
        Case {
            field: Some("parent"),
            ..case(
                "form with a text parent",
                p,
                "body=x&parent=abc",
                422,
                "invalid_field",
            )
            .content_type(Some("application/x-www-form-urlencoded"))
        },
        Case {
            field: Some("body"),
            ..case("form without a body", p, "author=x", 422, "invalid_field")
                .content_type(Some("application/x-www-form-urlencoded"))
        },
        case(
            "form with invalid UTF-8",
            p,
            form_invalid_utf8,
            400,
            "malformed_request",
        )
        .content_type(Some("application/x-www-form-urlencoded")),
        // Other endpoints.
        json_case(
            "preview in an unknown format",
            "/api/v1/sites/default/preview",
            json!({"body": "x", "format": "rst"}),
            "format",
        ),
        json_case(
            "counts of too many threads",
            "/api/v1/sites/default/counts",
            json!((0..201).map(|i| i.to_string()).collect::<Vec<_>>()),
            "threads",
        ),
        Case {
            field: Some("formats"),
            ..json_case(
                "no formats",
                "/api/v1/admin/sites/default",
                json!({"formats": []}),
                "formats",
            )
            .method(Method::PATCH)
            .admin()
        },
        Case {
            field: Some("formats"),
            ..json_case(
                "unknown format for a site",
                "/api/v1/admin/sites/default",
                json!({"formats": ["../../x"]}),
                "formats",
            )
            .method(Method::PATCH)
            .admin()
        },
        json_case(
            "unknown moderation",
            "/api/v1/admin/sites/default",
            json!({"moderation": "off"}),
            "moderation",
        )
        .method(Method::PATCH)
        .admin(),
        json_case(
            "negative window",
            "/api/v1/admin/sites/default",
            json!({"duplicate_window_secs": -1}),
            "duplicate_window_secs",
        )
        .method(Method::PATCH)
        .admin(),
        json_case(
            "unknown bulk action",
            "/api/v1/admin/sites/default/comments/bulk",
            json!({"action": "nuke", "ids": [top]}),
            "action",
        )
        .admin(),
        json_case(
            "too many bulk ids",
            "/api/v1/admin/sites/default/comments/bulk",
            json!({"action": "spam", "ids": vec![top; 201]}),
            "ids",
        )
        .admin(),
        json_case(
            "unknown thread state",
            "/api/v1/admin/sites/default/threads/bad",
            json!({"state": "deleted"}),
            "state",
        )
        .method(Method::PUT)
        .admin(),
        // Query strings.
        case(
            "limit is text",
            &format!("{p}?limit=abc"),
            Vec::new(),
            422,
            "invalid_field",
        )
        .method(Method::GET)
        .content_type(None),
        case(
            "limit out of range",
            &format!("{p}?limit=100000"),
            Vec::new(),
            422,
            "invalid_field",
        )
        .method(Method::GET)
        .content_type(None),
        case(
            "forged cursor",
            &format!("{p}?cursor=Li4vLi4v"),
            Vec::new(),
            422,
            "invalid_field",
        )
        .method(Method::GET)
        .content_type(None),
        case(
            "unknown parameter",
            &format!("{p}?sort=id;DROP%20TABLE%20comments"),
            Vec::new(),
            422,
            "invalid_field",
        )
        .method(Method::GET)
        .content_type(None),
        case(
            "unknown queue status",
            "/api/v1/admin/sites/default/comments?status=deleted",
            Vec::new(),
            422,
            "invalid_field",
        )
        .method(Method::GET)
        .admin()
        .content_type(None),
    ]
}

async fn every_bad_input_gets_its_status_and_changes_nothing(db: Db) {
    let Some(app) = spawn_with(db, |c| c.limits.request_timeout_secs = 2).await else {
        return;
    };
    // Some comments to reply to, and for a broken request to damage.
    let top = app
        .post_ok("default", "bad", json!({"body": "top", "author": "Ann"}))
        .await;
    let top = top["id"].as_i64().unwrap();
    let other_thread = app
        .post_ok("default", "bad-b", json!({"body": "elsewhere"}))
        .await;
    let other_site = app
        .post_ok("other", "bad", json!({"body": "other site"}))
        .await;
    let before = snapshot(&app).await;

    let cases = cases(
        top,
        other_thread["id"].as_i64().unwrap(),
        other_site["id"].as_i64().unwrap(),
    );
    let mut wrong = Vec::new();
    for c in &cases {
        let mut req = app
            .client
            .request(c.method.clone(), app.url(&c.path))
            .body(c.body.clone());
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        if c.admin {
            req = req.bearer_auth(ADMIN);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        // The rest of an unread body is on the connection: it must close.
        let closes = r
            .headers()
            .get("connection")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let p: Value = r.json().await.unwrap_or(Value::Null);
        let detail_ok = p["detail"].as_str().is_some_and(|d| d.len() > 10);
        let ok = status == c.status
            && ct.starts_with("application/problem+json")
            && p["code"] == c.code
            && p["status"] == c.status
            && detail_ok
            && c.field.is_none_or(|f| p["field"] == f)
            && (status != 413 || closes);
        if !ok {
            wrong.push(format!(
                "{}: wanted {} {} {:?}, got {status} {ct} {p}",
                c.what, c.status, c.code, c.field
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );

    // Slow clients: a body that trickles in is abandoned with 408.
    let slow_body = slow_body(&app.base);
    assert!(slow_body.starts_with("HTTP/1.1 408"), "{slow_body}");
    // Headers that never finish: the connection is closed.
    let started = Instant::now();
    assert!(
        slow_headers_are_cut_off(&app.base),
        "the server kept a half-sent request open"
    );
    let cut_after = started.elapsed();

    assert_eq!(
        snapshot(&app).await,
        before,
        "a failed request changed the database"
    );
    // The server is still well.
    app.post_ok("default", "ok", json!({"body": "still here"}))
        .await;
    eprintln!(
        "bad input ({db:?}): {} bad requests and 2 slow clients (headers cut off after {:.1} s) \
         answered as documented, database unchanged",
        cases.len(),
        cut_after.as_secs_f64()
    );
}

fn connect(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    s
}

/// Sends headers promising 1000 bytes, then a byte every 300 ms; returns
/// what the server answered.
fn slow_body(base: &str) -> String {
    let mut s = connect(base);
    let head = format!(
        "POST /api/v1/sites/default/threads/bad/comments HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"body\":\"",
        base.trim_start_matches("http://")
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    for _ in 0..60 {
        if s.write_all(b"x").is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends a request line and one header byte at a time; true when the
/// server closes the connection within a minute.
fn slow_headers_are_cut_off(base: &str) -> bool {
    let mut s = connect(base);
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .is_err()
    {
        return true;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if s.write_all(b"a").is_err() {
            return true;
        }
        let mut buf = [0u8; 1024];
        match s.read(&mut buf) {
            // Closed, or an error answer (408/400) and then closed.
            Ok(_) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => {}
        }
    }
    false
}
