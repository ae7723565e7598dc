//! The API described as OpenAPI 3.0, served at `/api/openapi.json`.

use axum::Json;
use serde_json::{json, Value};

/// `GET /api/openapi.json`
pub async fn document() -> Json<Value> {
    Json(spec())
}

fn problem_responses(codes: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for code in codes {
        map.insert(
            (*code).to_owned(),
            json!({ "description": "Problem", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }),
        );
    }
    Value::Object(map)
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The document.
pub fn spec() -> Value {
    let site = json!({ "name": "site", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[a-z0-9_-]{1,64}$" } });
    let thread = json!({ "name": "thread", "in": "path", "required": true, "description": "The article's key, percent-encoded.", "schema": { "type": "string", "minLength": 1, "maxLength": 256 } });
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64", "minimum": 1 } });
    let limit = json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } });
    let cursor = json!({ "name": "cursor", "in": "query", "schema": { "type": "string" } });
    let order = json!({ "name": "order", "in": "query", "schema": { "type": "string", "enum": ["oldest", "newest"] } });
    let bearer = json!([{ "bearer": [] }]);
    let link_action = json!({ "name": "action", "in": "path", "required": true, "schema": { "type": "string", "enum": ["approve", "spam", "trash", "unsubscribe", "confirm"] } });
    let link_from = json!({ "name": "from", "in": "query", "required": false, "description": "Moderation links: the status the e-mail was about (signed); the link acts only while the comment has it.", "schema": { "type": "string", "enum": ["pending"] } });
    let link_nonce = json!({ "name": "n", "in": "query", "required": false, "description": "Moderation links: the e-mail's nonce (signed); the first link of an e-mail used uses it up.", "schema": { "type": "string" } });
    let link_exp = json!({ "name": "exp", "in": "query", "required": true, "description": "Expiry, Unix seconds (signed).", "schema": { "type": "integer" } });
    let link_sig = json!({ "name": "sig", "in": "query", "required": true, "description": "HMAC-SHA-256 of site, comment, action, status, nonce and expiry.", "schema": { "type": "string" } });
    let errs = |codes: &[&str]| problem_responses(codes);
    let comment_ref = json!({ "$ref": "#/components/schemas/Comment" });
    let admin_ref = json!({ "$ref": "#/components/schemas/AdminComment" });

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Colloquy",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Comment engine API. Every error is application/problem+json."
        },
        "paths": {
            "/healthz": { "get": { "summary": "Readiness: the database answers (a connection of its own)", "responses": with(json!({ "200": ok_json("Healthy", json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] })) }), errs(&["503"])) } },
            "/readyz": { "get": { "summary": "Readiness (the same as /healthz)", "responses": with(json!({ "200": ok_json("Ready", json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] })) }), errs(&["503"])) } },
            "/livez": { "get": { "summary": "Liveness: the process answers (the database is not asked)", "responses": json!({ "200": ok_json("Live", json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] })) }) } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "Metrics", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/api/v1/sites/{site}/formats": { "get": {
                "summary": "The text formats a site offers, with their tips",
                "parameters": [site],
                "responses": with(json!({ "200": ok_json("Formats", json!({ "type": "object", "required": ["formats", "default"], "properties": {
                    "default": { "type": "string" },
                    "formats": { "type": "array", "items": { "$ref": "#/components/schemas/Format" } } } })) }), errs(&["404"]))
            } },
            "/api/v1/sites/{site}/preview": { "post": {
                "summary": "Render a comment without storing it",
                "parameters": [site],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["body"], "additionalProperties": false, "properties": { "body": { "type": "string" }, "format": { "type": "string" } } } } } },
                "responses": with(json!({ "200": ok_json("Rendered", json!({ "type": "object", "required": ["html", "policy_version"], "properties": { "html": { "type": "string" }, "policy_version": { "type": "string" } } })) }), errs(&["400", "403", "404", "413", "415", "422", "429", "503"]))
            } },
            "/api/v1/sites/{site}/stamp": { "get": {
                "summary": "A fresh single-use form stamp for a comment form (send it back as `stamp`)",
                "parameters": [site],
                "responses": with(json!({ "200": ok_json("Stamp", json!({ "type": "object", "required": ["stamp", "expires", "min_submit_secs"], "properties": {
                    "stamp": { "type": "string" }, "expires": { "type": "string", "format": "date-time" }, "min_submit_secs": { "type": "integer", "minimum": 0 } } })) }), errs(&["404"]))
            } },
            "/api/v1/sites/{site}/counts": {
                "get": {
                    "summary": "Published-comment counts of many threads",
                    "parameters": [site, { "name": "thread", "in": "query", "style": "form", "explode": true, "schema": { "type": "array", "items": { "type": "string", "minLength": 1, "maxLength": 256 } } }],
                    "responses": with(json!({ "200": ok_json("Counts", json!({ "$ref": "#/components/schemas/Counts" })) }), errs(&["400", "404", "422"]))
                },
                "post": {
                    "summary": "Published-comment counts of many threads (JSON array of keys)",
                    "parameters": [site],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "oneOf": [
                        { "type": "array", "items": { "type": "string", "minLength": 1, "maxLength": 256 } },
                        { "type": "object", "required": ["threads"], "properties": { "threads": { "type": "array", "items": { "type": "string", "minLength": 1, "maxLength": 256 } } } } ] } } } },
                    "responses": with(json!({ "200": ok_json("Counts", json!({ "$ref": "#/components/schemas/Counts" })) }), errs(&["400", "403", "404", "413", "415", "422"]))
                }
            },
            "/api/v1/sites/{site}/threads/{thread}": { "get": {
                "summary": "A thread's state and published-comment count",
                "parameters": [site, thread],
                "responses": with(json!({ "200": ok_json("Thread", json!({ "type": "object", "required": ["key", "state", "count"], "properties": {
                    "key": { "type": "string" }, "state": { "type": "string", "enum": ["open", "closed", "hidden"] }, "count": { "type": "integer" } } })) }), errs(&["404", "422"]))
            } },
            "/api/v1/sites/{site}/threads/{thread}/comments": {
                "get": {
                    "summary": "Published comments of a thread, oldest or newest first, a page at a time",
                    "parameters": [site, thread, limit, cursor, order],
                    "responses": with(json!({
                        "200": ok_json("A page", json!({ "type": "object", "required": ["comments", "next_cursor"], "properties": {
                            "comments": { "type": "array", "items": comment_ref },
                            "next_cursor": { "type": "string", "nullable": true } } })),
                        "304": { "description": "Not modified (If-None-Match)" } }), errs(&["404", "422"]))
                },
                "post": {
                    "summary": "Post a comment (JSON, or a plain HTML form that redirects back)",
                    "parameters": [site, thread],
                    "requestBody": { "required": true, "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/NewComment" } },
                        "application/x-www-form-urlencoded": { "schema": { "$ref": "#/components/schemas/NewComment" } } } },
                    "responses": with(json!({
                        "201": ok_json("Stored", json!({ "$ref": "#/components/schemas/Posted" })),
                        "303": { "description": "Form post stored; back to the page" } }), errs(&["400", "403", "404", "409", "413", "415", "422", "429", "503"]))
                }
            },
            "/api/v1/sites/{site}/threads/{thread}/fragment": { "get": {
                "summary": "Published comments as an HTML fragment",
                "parameters": [site, thread, limit, cursor, order],
                "responses": with(json!({ "200": { "description": "HTML", "content": { "text/html": { "schema": { "type": "string" } } } }, "304": { "description": "Not modified" } }), errs(&["404", "422"]))
            } },
            "/api/v1/sites/{site}/threads/{thread}/feed": { "get": {
                "summary": "Published comments as an Atom feed, newest first",
                "parameters": [site, thread],
                "responses": with(json!({ "200": { "description": "Atom", "content": { "application/atom+xml": { "schema": { "type": "string" } } } }, "304": { "description": "Not modified" } }), errs(&["404", "422"]))
            } },
            "/api/v1/sites/{site}/comments/{id}": {
                "patch": {
                    "summary": "The author edits a comment (edit token as bearer, inside the edit window)",
                    "parameters": [site, id],
                    "security": [{ "editToken": [] }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["body"], "additionalProperties": false, "properties": { "body": { "type": "string" }, "format": { "type": "string" } } } } } },
                    "responses": with(json!({ "200": ok_json("Edited", comment_ref) }), errs(&["400", "401", "403", "404", "413", "415", "422", "503"]))
                },
                "delete": {
                    "summary": "The author deletes a comment (edit token as bearer, inside the edit window)",
                    "parameters": [site, id],
                    "security": [{ "editToken": [] }],
                    "responses": with(json!({ "204": { "description": "Deleted" } }), errs(&["401", "403", "404"]))
                }
            },
            "/api/v1/admin/sites": { "get": {
                "summary": "All sites (tokens for every site)", "security": bearer,
                "responses": with(json!({ "200": ok_json("Sites", json!({ "type": "object", "properties": { "sites": { "type": "array", "items": { "$ref": "#/components/schemas/Site" } } } })) }), errs(&["401", "403"]))
            } },
            "/api/v1/admin/sites/{site}": {
                "get": { "summary": "A site's settings", "security": bearer, "parameters": [site],
                    "responses": with(json!({ "200": ok_json("Site", json!({ "$ref": "#/components/schemas/Site" })) }), errs(&["401", "403", "404"])) },
                "patch": { "summary": "Change a site's formats, default format or moderation (next request sees it)", "security": bearer, "parameters": [site],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": {
                        "formats": { "type": "array", "items": { "type": "string" }, "minItems": 1 }, "default_format": { "type": "string" },
                        "moderation": { "type": "string", "enum": ["publish", "hold", "rules"] }, "hold_links": { "type": "integer", "minimum": 0 }, "duplicate_window_secs": { "type": "integer", "minimum": 0, "maximum": 86400 },
                        "moderation_keys": { "type": "array", "items": { "type": "string", "maxLength": 500 }, "maxItems": 10000, "description": "Words (case-insensitive substrings) or /regular expressions/ that hold a comment" },
                        "disallowed_keys": { "type": "array", "items": { "type": "string", "maxLength": 500 }, "maxItems": 10000, "description": "Keys that send a comment to spam" },
                        "trust_approved_authors": { "type": "boolean" },
                        "close_after_days": { "type": "integer", "minimum": 0, "maximum": 36500 },
                        "max_depth": { "type": "integer", "minimum": 0, "maximum": 1000 },
                        "max_chars": { "type": "integer", "minimum": 0 },
                        "honeypot": { "type": "boolean" },
                        "min_submit_secs": { "type": "integer", "minimum": 0, "maximum": 3600 },
                        "ip_posts_per_minute": { "type": "integer", "minimum": 0, "maximum": 1000000 },
                        "site_posts_per_minute": { "type": "integer", "minimum": 0, "maximum": 1000000 } } } } } },
                    "responses": with(json!({ "200": ok_json("Site", json!({ "$ref": "#/components/schemas/Site" })) }), errs(&["400", "401", "403", "404", "413", "415", "422"])) }
            },
            "/api/v1/admin/sites/{site}/comments": { "get": {
                "summary": "Moderation queue, newest first",
                "security": bearer,
                "parameters": [site, { "name": "status", "in": "query", "description": "Comma-separated statuses or `all` (default pending)", "schema": { "type": "string" } },
                    { "name": "q", "in": "query", "description": "Text the comment contains (case-insensitive)", "schema": { "type": "string", "maxLength": 200 } },
                    { "name": "author", "in": "query", "description": "Text the author's name or e-mail contains", "schema": { "type": "string", "maxLength": 200 } },
                    { "name": "ip_hash", "in": "query", "schema": { "type": "string" } },
                    { "name": "thread", "in": "query", "schema": { "type": "string" } },
                    limit, cursor],
                "responses": with(json!({ "200": ok_json("Queue", json!({ "type": "object", "required": ["comments", "next_cursor"], "properties": {
                    "comments": { "type": "array", "items": admin_ref.clone() }, "next_cursor": { "type": "string", "nullable": true } } })) }), errs(&["401", "403", "404", "422"]))
            } },
            "/api/v1/admin/sites/{site}/comments/bulk": { "post": {
                "summary": "One action on many comments", "security": bearer, "parameters": [site],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["action", "ids"], "additionalProperties": false, "properties": {
                    "action": { "type": "string", "enum": ["approve", "spam", "trash", "restore", "unpublish", "delete"] },
                    "ids": { "type": "array", "items": { "type": "integer", "format": "int64" }, "minItems": 1, "maxItems": 200 } } } } } },
                "responses": with(json!({ "200": ok_json("Per-comment results", json!({ "type": "object", "properties": { "results": { "type": "array", "items": { "type": "object" } } } })) }), errs(&["400", "401", "403", "404", "413", "415", "422"]))
            } },
            "/api/v1/admin/sites/{site}/comments/{id}": {
                "get": { "summary": "One comment, any status", "security": bearer, "parameters": [site, id],
                    "responses": with(json!({ "200": ok_json("Comment", admin_ref.clone()) }), errs(&["401", "403", "404"])) },
                "delete": { "summary": "Delete a comment for good (replies move up)", "security": bearer, "parameters": [site, id],
                    "responses": with(json!({ "204": { "description": "Deleted" } }), errs(&["401", "403", "404"])) }
            },
            "/api/v1/admin/sites/{site}/comments/{id}/{action}": { "post": {
                "summary": "approve, spam, trash, restore, unpublish or delete one comment", "security": bearer,
                "parameters": [site, id, { "name": "action", "in": "path", "required": true, "schema": { "type": "string", "enum": ["approve", "spam", "trash", "restore", "unpublish", "delete"] } }],
                "responses": with(json!({ "200": ok_json("The comment afterwards", json!({ "type": "object" })) }), errs(&["401", "403", "404"]))
            } },
            "/api/v1/admin/sites/{site}/threads/{thread}": { "put": {
                "summary": "Set a thread's state", "security": bearer, "parameters": [site, thread],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["state"], "additionalProperties": false, "properties": { "state": { "type": "string", "enum": ["open", "closed", "hidden"] } } } } } },
                "responses": with(json!({ "200": ok_json("Thread", json!({ "type": "object", "properties": { "key": { "type": "string" }, "state": { "type": "string" } } })) }), errs(&["400", "401", "403", "404", "413", "415", "422"]))
            } },
            "/api/v1/admin/sites/{site}/audit": { "get": {
                "summary": "Audit log: every automatic decision and moderator action, newest first", "security": bearer,
                "parameters": [site, { "name": "comment", "in": "query", "schema": { "type": "integer", "format": "int64" } }, limit, cursor],
                "responses": with(json!({ "200": ok_json("Entries", json!({ "type": "object", "required": ["entries", "next_cursor"], "properties": {
                    "entries": { "type": "array", "items": { "$ref": "#/components/schemas/AuditEntry" } }, "next_cursor": { "type": "string", "nullable": true } } })) }), errs(&["400", "401", "403", "404", "422"]))
            } },
            "/api/v1/admin/sites/{site}/deliveries": { "get": {
                "summary": "Notification outbox: webhook and e-mail deliveries, newest first, with attempts and the last error", "security": bearer,
                "parameters": [site, { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["pending", "sent", "failed"] } }, limit,
                    { "name": "before", "in": "query", "description": "The previous page's next_before.", "schema": { "type": "integer", "format": "int64" } }],
                "responses": with(json!({ "200": ok_json("Deliveries", json!({ "type": "object", "required": ["deliveries", "next_before"], "properties": {
                    "deliveries": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "integer" }, "event_id": { "type": "integer" }, "comment_id": { "type": "integer", "nullable": true },
                        "kind": { "type": "string", "enum": ["webhook", "moderator_email", "reply_email"] }, "target": { "type": "string" },
                        "state": { "type": "string", "enum": ["pending", "sent", "failed"] }, "attempts": { "type": "integer" },
                        "next_attempt_at": { "type": "string", "nullable": true }, "last_error": { "type": "string", "nullable": true } } } },
                    "next_before": { "type": "integer", "nullable": true } } })) }), errs(&["400", "401", "403", "404", "422"]))
            } },
            "/api/v1/admin/sites/{site}/deliveries/{id}/retry": { "post": {
                "summary": "Give a failed delivery a fresh set of attempts", "security": bearer, "parameters": [site, id],
                "responses": with(json!({ "200": ok_json("Queued again", json!({ "type": "object", "properties": { "id": { "type": "integer" }, "state": { "type": "string" }, "attempts": { "type": "integer" } } })) }), errs(&["401", "403", "404"]))
            } },
            "/notify/{site}/comments/{id}/{action}": {
                "get": {
                    "summary": "One-click link from a notification e-mail: a confirmation page with a button (changes nothing), or a page saying why the link no longer works",
                    "parameters": [site, id, link_action, link_from, link_nonce, link_exp, link_sig],
                    "responses": with(json!({
                        "200": { "description": "Confirmation page", "content": { "text/html": { "schema": { "type": "string" } } } },
                        "409": { "description": "The link was used already, the comment was moderated since the e-mail, or the address unsubscribed", "content": { "text/html": { "schema": { "type": "string" } } } } }), errs(&["400", "403", "404", "422"]))
                },
                "post": {
                    "summary": "Carry out a one-click link: approve, spam or trash a held comment, once (audited, actor `system`); stop every e-mail to the comment's address (RFC 8058 one-click unsubscribe); or confirm that address for reply e-mails",
                    "parameters": [site, id, link_action, link_from, link_nonce, link_exp, link_sig],
                    "responses": with(json!({ "200": { "description": "Done page", "content": { "text/html": { "schema": { "type": "string" } } } } }), errs(&["400", "403", "404", "409", "413", "422"]))
                }
            },
            "/api/v1/admin/sites/{site}/privacy/export": { "post": {
                "summary": "Everything stored on the site for an e-mail address", "security": bearer, "parameters": [site],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PrivacyRequest" } } } },
                "responses": with(json!({ "200": ok_json("Export", json!({ "type": "object", "required": ["site", "email", "exported_at", "comments"], "properties": {
                    "site": { "type": "string" }, "email": { "type": "string" }, "exported_at": { "type": "string", "format": "date-time" },
                    "comments": { "type": "array", "items": admin_ref.clone() } } })) }), errs(&["400", "401", "403", "404", "413", "415", "422"]))
            } },
            "/api/v1/admin/sites/{site}/privacy/erase": { "post": {
                "summary": "Delete every comment written with an e-mail address on the site", "security": bearer, "parameters": [site],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PrivacyRequest" } } } },
                "responses": with(json!({ "200": ok_json("Erased", json!({ "type": "object", "required": ["erased"], "properties": { "erased": { "type": "integer" } } })) }), errs(&["400", "401", "403", "404", "413", "415", "422"]))
            } },
            "/api/v1/admin/sites/{site}/rerender": { "post": {
                "summary": "Re-render comments whose policy changed", "security": bearer, "parameters": [site],
                "responses": with(json!({ "200": ok_json("Report", json!({ "type": "object", "properties": { "checked": { "type": "integer" }, "rerendered": { "type": "integer" }, "skipped": { "type": "integer" } } })) }), errs(&["401", "403", "404"]))
            } }
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "Admin token" },
                "editToken": { "type": "http", "scheme": "bearer", "description": "The edit token returned when the comment was posted" }
            },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" }, "code": { "type": "string" }, "field": { "type": "string" } } },
                "Format": { "type": "object", "required": ["id", "name", "default", "version", "tips", "long_tips"], "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "default": { "type": "boolean" }, "version": { "type": "string" },
                    "tips": { "type": "array", "items": { "type": "string" } }, "long_tips": { "type": "array", "items": { "type": "string" } } } },
                "Counts": { "type": "object", "required": ["counts"], "properties": { "counts": { "type": "object", "additionalProperties": { "type": "integer" } } } },
                "NewComment": { "type": "object", "required": ["body"], "additionalProperties": false, "properties": {
                    "body": { "type": "string" }, "author": { "type": "string", "nullable": true }, "email": { "type": "string", "nullable": true },
                    "homepage": { "type": "string", "nullable": true }, "format": { "type": "string", "nullable": true },
                    "parent": { "type": "integer", "format": "int64", "nullable": true },
                    "notify_replies": { "type": "boolean", "description": "E-mail the author when a reply is published, once the address is confirmed by the link of a confirmation e-mail (forms: a checkbox)" },
                    "redirect": { "type": "string", "nullable": true, "description": "Form posts: page to return to" },
                    "colloquy_hp": { "type": "string", "nullable": true, "description": "Honeypot field, left empty by people (also `honeypot`)" },
                    "colloquy_ts": { "type": "string", "nullable": true, "description": "The single-use form stamp from GET …/stamp or the form (also `stamp`)" },
                    "honeypot": { "type": "string", "nullable": true, "description": "Same as colloquy_hp" },
                    "stamp": { "type": "string", "nullable": true, "description": "Same as colloquy_ts" } } },
                "Comment": { "type": "object", "required": ["id", "parent", "thread", "author", "homepage", "html", "format", "created", "modified"], "properties": {
                    "id": { "type": "integer", "format": "int64" }, "parent": { "type": "integer", "format": "int64", "nullable": true },
                    "thread": { "type": "string" }, "author": { "type": "string", "nullable": true }, "homepage": { "type": "string", "nullable": true },
                    "html": { "type": "string" }, "format": { "type": "string" }, "created": { "type": "string", "format": "date-time" },
                    "modified": { "type": "string", "format": "date-time", "nullable": true }, "status": { "type": "string" } } },
                "Posted": { "allOf": [ { "$ref": "#/components/schemas/Comment" }, { "type": "object", "required": ["status", "edit_token", "edit_until", "policy_version", "reasons"], "properties": {
                    "status": { "type": "string", "enum": ["published", "pending", "spam"] }, "edit_token": { "type": "string" },
                    "edit_until": { "type": "string", "format": "date-time" }, "policy_version": { "type": "string" },
                    "reasons": { "type": "array", "items": { "type": "string" } } } } ] },
                "AdminComment": { "type": "object", "properties": {
                    "id": { "type": "integer", "format": "int64" }, "site": { "type": "string" }, "thread": { "type": "string" },
                    "parent": { "type": "integer", "nullable": true }, "status": { "type": "string", "enum": ["pending", "published", "spam", "trash"] },
                    "format": { "type": "string" }, "body": { "type": "string" }, "html": { "type": "string" }, "policy_version": { "type": "string" },
                    "author": { "type": "string", "nullable": true }, "email": { "type": "string", "nullable": true },
                    "homepage": { "type": "string", "nullable": true }, "ip_hash": { "type": "string", "nullable": true },
                    "created": { "type": "string", "format": "date-time" }, "modified": { "type": "string", "nullable": true },
                    "reasons": { "type": "array", "items": { "type": "string" } }, "notify_replies": { "type": "boolean" } } },
                "AuditEntry": { "type": "object", "required": ["id", "actor", "action", "reasons", "at"], "properties": {
                    "id": { "type": "integer", "format": "int64" }, "comment_id": { "type": "integer", "format": "int64", "nullable": true },
                    "thread": { "type": "string", "nullable": true }, "actor": { "type": "string", "description": "rules, author, system or token:<fingerprint>" },
                    "action": { "type": "string" }, "status": { "type": "string", "nullable": true },
                    "reasons": { "type": "array", "items": { "type": "string" } }, "at": { "type": "string", "format": "date-time" } } },
                "PrivacyRequest": { "type": "object", "required": ["email"], "additionalProperties": false, "properties": { "email": { "type": "string", "maxLength": 254 } } },
                "Site": { "type": "object", "properties": {
                    "id": { "type": "string" }, "formats": { "type": "array", "items": { "type": "string" } }, "default_format": { "type": "string" },
                    "moderation": { "type": "string", "enum": ["publish", "hold", "rules"] }, "hold_links": { "type": "integer" },
                    "duplicate_window_secs": { "type": "integer" },
                        "moderation_keys": { "type": "array", "items": { "type": "string", "maxLength": 500 }, "maxItems": 10000, "description": "Words (case-insensitive substrings) or /regular expressions/ that hold a comment" },
                        "disallowed_keys": { "type": "array", "items": { "type": "string", "maxLength": 500 }, "maxItems": 10000, "description": "Keys that send a comment to spam" },
                        "trust_approved_authors": { "type": "boolean" },
                        "close_after_days": { "type": "integer", "minimum": 0, "maximum": 36500 },
                        "max_depth": { "type": "integer", "minimum": 0, "maximum": 1000 },
                        "max_chars": { "type": "integer", "minimum": 0 },
                        "honeypot": { "type": "boolean" },
                        "min_submit_secs": { "type": "integer", "minimum": 0, "maximum": 3600 },
                        "ip_posts_per_minute": { "type": "integer", "minimum": 0, "maximum": 1000000 },
                        "site_posts_per_minute": { "type": "integer", "minimum": 0, "maximum": 1000000 } } }
            }
        }
    })
}
