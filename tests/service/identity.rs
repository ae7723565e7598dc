//! Readers signed in by their site (JWTs with each algorithm, refusals,
//! key rotation, verified comments, impersonation, edits through the
//! identity, the `anonymous` setting) and moderator accounts with roles.

use colloquy::config::{Config, SsoKeyConfig, SsoKeySource};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn_on, spawn_with, Db, TestApp};

both_backends!(
    each_algorithm_signs_a_reader_in,
    bad_tokens_are_refused_and_store_nothing,
    two_keys_are_valid_while_a_site_rotates,
    anonymous_names_cannot_take_a_signed_in_username,
    authors_edit_and_delete_through_their_identity,
    the_anonymous_setting_allows_holds_or_refuses,
    roles_refuse_what_they_may_not_do,
    the_audit_log_names_the_person,
    logins_from_one_address_are_limited,
    a_signed_in_author_reads_and_appeals_a_decision_through_their_identity,
    a_shadow_banned_signed_in_author_sees_their_comments_on_any_device,
);

const SECRET: &str = "default-site-sso-secret-0123456789abcdef";
const NEW_SECRET: &str = "default-site-sso-secret-rotated-0000000000";
const OTHER_SECRET: &str = "other-site-sso-secret-0123456789abcdef00";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sso")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn key(kid: Option<&str>, source: SsoKeySource) -> SsoKeyConfig {
    SsoKeyConfig {
        kid: kid.map(str::to_owned),
        source,
    }
}

/// `default`: an HS256 secret (kid `k1`), an RSA key from a PEM file and
/// the JWKS file (RSA `rsa-2026`, Ed25519 `ed-2026`); `other`: its own secret.
fn with_keys(config: &mut Config) {
    config.sites[0].sso_keys = vec![
        key(Some("k1"), SsoKeySource::Secret(SECRET.into())),
        key(None, SsoKeySource::PemFile(fixture("rsa-public.pem"))),
    ];
    config.sites[0].sso_jwks_file = Some(fixture("jwks.json"));
    config.sites[1].sso_keys = vec![key(None, SsoKeySource::Secret(OTHER_SECRET.into()))];
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(id: &str, username: &str) -> Value {
    json!({
        "user": {"id": id, "username": username, "email": format!("{id}@readers.example")},
        "iat": now(),
        "exp": now() + 600,
        "jti": format!("jti-{id}"),
    })
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).expect("sign")
}

fn hs(secret: &str, claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

/// A token of `default`'s HS256 key for user `id` named `username`.
fn token(id: &str, username: &str) -> String {
    hs(SECRET, &claims(id, username))
}

fn with_role(id: &str, username: &str, role: &str) -> String {
    let mut c = claims(id, username);
    c["user"]["role"] = json!(role);
    hs(SECRET, &c)
}

async fn post_as(app: &TestApp, token: &str, thread: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&TestApp::comments_path("default", thread)))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn posted_as(app: &TestApp, token: &str, thread: &str, body: Value) -> Value {
    let r = post_as(app, token, thread, body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn each_algorithm_signs_a_reader_in(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let rsa = EncodingKey::from_rsa_pem(&read("rsa-private.pem")).unwrap();
    let rsa2 = EncodingKey::from_rsa_pem(&read("rsa2-private.pem")).unwrap();
    let ed = EncodingKey::from_ed_pem(&read("ed-private.pem")).unwrap();
    let tokens = [
        ("hs", hs(SECRET, &claims("u-hs", "Hana HS"))),
        (
            "hs-kid",
            sign(
                Algorithm::HS256,
                Some("k1"),
                &EncodingKey::from_secret(SECRET.as_bytes()),
                &claims("u-hk", "Hugo Kid"),
            ),
        ),
        (
            "rs-pem",
            sign(Algorithm::RS256, None, &rsa, &claims("u-rs", "Rita RS")),
        ),
        (
            "rs-jwks",
            sign(
                Algorithm::RS256,
                Some("rsa-2026"),
                &rsa2,
                &claims("u-rj", "Ravi Jwks"),
            ),
        ),
        (
            "eddsa",
            sign(
                Algorithm::EdDSA,
                Some("ed-2026"),
                &ed,
                &claims("u-ed", "Edda Ed"),
            ),
        ),
    ];
    for (what, t) in &tokens {
        let v = posted_as(
            &app,
            t,
            "signed",
            json!({"body": format!("signed in with {what}"), "author": "Someone Else"}),
        )
        .await;
        assert_eq!(v["verified"], true, "{what}: {v}");
        assert_ne!(v["author"], "Someone Else", "{what}: the token's name wins");
    }
    app.post_ok(
        "default",
        "signed",
        json!({"body": "anonymous", "author": "Anon"}),
    )
    .await;
    let list = app.list("default", "signed", "").await;
    let shown: Vec<(String, bool)> = list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["author"].as_str().unwrap().to_owned(),
                c["verified"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Hana HS".to_owned(), true),
            ("Hugo Kid".to_owned(), true),
            ("Rita RS".to_owned(), true),
            ("Ravi Jwks".to_owned(), true),
            ("Edda Ed".to_owned(), true),
            ("Anon".to_owned(), false),
        ]
    );
    // Moderators see whose it is; readers never see the address.
    let (_, queue) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=published",
            None,
        )
        .await;
    let ids: Vec<&str> = queue["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["author_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 5, "{queue}");
    assert!(ids.contains(&"u-ed"));
    assert!(!list.to_string().contains("readers.example"));
}

async fn bad_tokens_are_refused_and_store_nothing(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let mut expired = claims("u1", "Ute");
    expired["exp"] = json!(now() - 3600);
    let mut no_exp = claims("u1", "Ute");
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut for_other = claims("u1", "Ute");
    for_other["aud"] = json!("other");
    let mut not_yet = claims("u1", "Ute");
    not_yet["nbf"] = json!(now() + 3600);
    let mut for_us = claims("u1", "Ute");
    for_us["aud"] = json!(["default"]);
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims("u1", "Ute"))
    );
    // HS/RS confusion: an HS256 token "signed" with the site's public RSA key.
    let confused = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&read("rsa-public.pem")),
        &claims("u1", "Ute"),
    );
    let ed = EncodingKey::from_ed_pem(&read("ed-private.pem")).unwrap();
    let cases = [
        (hs(SECRET, &expired), "expired"),
        (hs(SECRET, &no_exp), "`exp`"),
        (
            hs(
                "some-other-secret-0123456789abcdef000",
                &claims("u1", "Ute"),
            ),
            "matches none",
        ),
        (hs(OTHER_SECRET, &claims("u1", "Ute")), "matches none"),
        (hs(SECRET, &for_other), "for site `other`"),
        (hs(SECRET, &not_yet), "not valid yet"),
        (none, "`none`"),
        (confused, "matches none"),
        (
            sign(
                Algorithm::EdDSA,
                Some("gone-2025"),
                &ed,
                &claims("u1", "Ute"),
            ),
            "does not have",
        ),
        (
            sign(
                Algorithm::HS384,
                None,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                &claims("u1", "Ute"),
            ),
            "`HS384`",
        ),
        ("not-a-jwt.at.all!".to_owned(), "not a JWT"),
    ];
    for (t, says) in &cases {
        let r = post_as(&app, t, "bad", json!({"body": "hello"})).await;
        let p = expect_problem(r, StatusCode::UNAUTHORIZED).await;
        assert_eq!(p["code"], "unauthorized", "{p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{says}: {detail}");
        assert!(!detail.contains(SECRET));
    }
    assert!(app.list("default", "bad", "").await["comments"]
        .as_array()
        .unwrap()
        .is_empty());
    // A token for this site by `aud` passes; one sent to a site without keys
    // is refused as such.
    posted_as(&app, &hs(SECRET, &for_us), "bad", json!({"body": "ok"})).await;
    let other = app
        .client
        .post(app.url(&TestApp::comments_path("other", "t")))
        .bearer_auth(hs(OTHER_SECRET, &claims("u9", "Oda")))
        .json(&json!({"body": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::CREATED);
}

async fn two_keys_are_valid_while_a_site_rotates(db: Db) {
    let both = |c: &mut Config| {
        c.sites[0].sso_keys = vec![
            key(None, SsoKeySource::Secret(SECRET.into())),
            key(None, SsoKeySource::Secret(NEW_SECRET.into())),
        ];
    };
    let Some(app) = spawn_with(db, both).await else {
        return;
    };
    let old = hs(SECRET, &claims("u1", "Olga Old"));
    let new = hs(NEW_SECRET, &claims("u2", "Nina New"));
    posted_as(&app, &old, "rot", json!({"body": "old key"})).await;
    posted_as(&app, &new, "rot", json!({"body": "new key"})).await;
    // The old key is removed: a server with the new one alone (on the same
    // database) refuses the old key's tokens and takes the new key's.
    let after = spawn_on(app.database_url.clone(), app.dir.clone(), |c| {
        c.sites[0].sso_keys = vec![key(None, SsoKeySource::Secret(NEW_SECRET.into()))];
    })
    .await;
    let r = post_as(&after, &old, "rot", json!({"body": "old again"})).await;
    let p = expect_problem(r, StatusCode::UNAUTHORIZED).await;
    assert!(
        p["detail"].as_str().unwrap().contains("matches none"),
        "{p}"
    );
    posted_as(&after, &new, "rot", json!({"body": "new again"})).await;
}

async fn anonymous_names_cannot_take_a_signed_in_username(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    posted_as(
        &app,
        &token("ada", "Ada Lovelace"),
        "names",
        json!({"body": "first"}),
    )
    .await;
    for name in [
        "Ada Lovelace",
        "ada lovelace",
        "ADA_LOVELACE",
        "Аda Lovеlace",
        "Ada L0ve1ace",
    ] {
        let r = app
            .post(
                "default",
                "names",
                json!({"body": "me too", "author": name}),
            )
            .await;
        let p = expect_problem(r, StatusCode::CONFLICT).await;
        assert_eq!(p["code"], "name_taken", "{name}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("Ada Lovelace"));
    }
    app.post_ok(
        "default",
        "names",
        json!({"body": "a different person", "author": "Ada Byron"}),
    )
    .await;
    // The signed-in reader keeps posting under the name.
    posted_as(
        &app,
        &token("ada", "Ada Lovelace"),
        "names",
        json!({"body": "second"}),
    )
    .await;
    assert_eq!(
        app.list("default", "names", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Erasing the reader's address forgets the name with the comments.
    let (s, v) = app
        .admin(
            Method::POST,
            "/api/v1/admin/sites/default/privacy/erase",
            Some(json!({"email": "ada@readers.example"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["erased"], 2, "{v}");
    app.post_ok(
        "default",
        "names",
        json!({"body": "free again", "author": "Ada Lovelace"}),
    )
    .await;
}

async fn authors_edit_and_delete_through_their_identity(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let ada = token("ada", "Ada");
    let bob = token("bob", "Bob");
    let v = posted_as(&app, &ada, "edit", json!({"body": "first words"})).await;
    let id = v["id"].as_i64().unwrap();
    let path = format!("/api/v1/sites/default/comments/{id}");
    let edit = |t: &str, body: &str| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(t)
            .json(&json!({"body": body}))
            .send()
    };
    let r = edit(&ada, "better words").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = edit(&bob, "not yours").await.unwrap();
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"].as_str().unwrap().contains("not written by"),
        "{p}"
    );
    let html = app.list("default", "edit", "").await["comments"][0]["html"].clone();
    assert!(html.as_str().unwrap().contains("better words"), "{html}");
    // A second comment, then the window passes.
    let v2 = posted_as(&app, &ada, "edit", json!({"body": "to delete"})).await;
    let id2 = v2["id"].as_i64().unwrap();
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/sites/default/comments/{id2}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/sites/default/comments/{id2}")))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    app.sql(&format!(
        "UPDATE comments SET created = created - 3600000 WHERE id = {id}"
    ))
    .await;
    let r = edit(&ada, "too late").await.unwrap();
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "edit_window_over", "{p}");
}

async fn the_anonymous_setting_allows_holds_or_refuses(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let ada = token("ada", "Ada");
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    assert_eq!(site["anonymous"], "allowed");
    assert_eq!(
        app.post_ok("default", "a", json!({"body": "hi", "author": "Anon"}))
            .await["status"],
        "published"
    );

    app.patch_site("default", json!({"anonymous": "held"}))
        .await;
    let held = app
        .post_ok(
            "default",
            "a",
            json!({"body": "hi again", "author": "Anon"}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    assert!(
        held["reasons"][0]
            .as_str()
            .unwrap()
            .contains("not signed in"),
        "{held}"
    );
    assert_eq!(
        posted_as(&app, &ada, "a", json!({"body": "signed"})).await["status"],
        "published"
    );

    app.patch_site("default", json!({"anonymous": "signed_in_only"}))
        .await;
    let r = app
        .post(
            "default",
            "a",
            json!({"body": "let me in", "author": "Anon"}),
        )
        .await;
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "sign_in_required", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("sign in"));
    assert_eq!(
        posted_as(&app, &ada, "a", json!({"body": "signed again"})).await["status"],
        "published"
    );
    // The site's own backend (an admin token) is not an anonymous reader.
    assert_eq!(
        posted_as(
            &app,
            crate::helpers::ADMIN,
            "a",
            json!({"body": "from the newsroom", "author": "Desk"})
        )
        .await["status"],
        "published"
    );
    let (s, bad) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"anonymous": "sometimes"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
}

/// Creates an account with the admin token and logs in; returns the session token.
async fn account(app: &TestApp, name: &str, role: &str) -> String {
    let password = format!("{name}-password-long-enough");
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/default/accounts/{name}"),
            Some(json!({"role": role, "password": password})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let r = app
        .client
        .post(app.url("/api/v1/admin/sites/default/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["role"], role);
    v["token"].as_str().unwrap().to_owned()
}

async fn roles_refuse_what_they_may_not_do(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let mia = account(&app, "mia", "moderator").await;
    let ann = account(&app, "ann", "admin").await;
    let sso_mod = with_role("m1", "Mo Derator", "moderator");
    let sso_admin = with_role("a1", "Ad Min", "admin");
    let commenter = with_role("c1", "Cora", "commenter");
    let queue = "/api/v1/admin/sites/default/comments";
    let settings = "/api/v1/admin/sites/default";
    let export = "/api/v1/admin/sites/default/privacy/export";
    let accounts = "/api/v1/admin/sites/default/accounts/newbie";
    let change = json!({"hold_links": 3});
    let new_account = json!({"role": "moderator", "password": "a-long-password-0001"});
    for (who, token) in [("mia", &mia), ("sso moderator", &sso_mod)] {
        let (s, v) = app.admin_as(token, Method::GET, queue, None).await;
        assert_eq!(s, StatusCode::OK, "{who}: {v}");
        let (s, v) = app
            .admin_as(
                token,
                Method::POST,
                export,
                Some(json!({"email": "x@example.com"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{who}: {v}");
        for (method, path, body) in [
            (Method::PATCH, settings, change.clone()),
            (Method::PUT, accounts, new_account.clone()),
        ] {
            let (s, p) = app.admin_as(token, method, path, Some(body)).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {p}");
            assert_eq!(p["code"], "missing_permission");
            assert!(
                p["detail"].as_str().unwrap().contains("`edit_settings`"),
                "{p}"
            );
        }
    }
    for (who, token) in [("ann", &ann), ("sso admin", &sso_admin)] {
        let (s, v) = app
            .admin_as(token, Method::PATCH, settings, Some(change.clone()))
            .await;
        assert_eq!(s, StatusCode::OK, "{who}: {v}");
    }
    let (s, v) = app
        .admin_as(&ann, Method::PUT, accounts, Some(new_account.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A commenter's sign-in token is no staff token.
    let (s, p) = app.admin_as(&commenter, Method::GET, queue, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(p["code"], "missing_permission");
    // A session is for its own site only; the admin tokens work as before.
    let (s, _) = app
        .admin_as(
            &mia,
            Method::GET,
            "/api/v1/admin/sites/other/comments",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .admin(Method::PATCH, settings, Some(change.clone()))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, me) = app
        .admin_as(&mia, Method::GET, "/api/v1/admin/sites/default/me", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        me,
        json!({"actor": "account:mia", "role": "moderator", "permissions": ["moderate", "manage_commenters"]})
    );
    // Wrong passwords and unknown names get one answer; logout ends a session.
    for (name, password) in [
        ("mia", "mia-password-wrong-0000"),
        ("nobody", "whatever-password-1"),
    ] {
        let r = app
            .client
            .post(app.url("/api/v1/admin/sites/default/login"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .unwrap();
        let p = expect_problem(r, StatusCode::UNAUTHORIZED).await;
        assert!(p["detail"].as_str().unwrap().contains("no account"), "{p}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/admin/sites/default/logout"))
        .bearer_auth(&mia)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, _) = app.admin_as(&mia, Method::GET, queue, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A removed account's sessions end with it; removing needs edit_settings.
    let other = account(&app, "otto", "moderator").await;
    let (s, _) = app.admin_as(&other, Method::GET, queue, None).await;
    assert_eq!(s, StatusCode::OK);
    let otto = "/api/v1/admin/sites/default/accounts/otto";
    let (s, p) = app.admin_as(&other, Method::DELETE, otto, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, _) = app.admin_as(&ann, Method::DELETE, otto, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.admin_as(&other, Method::GET, queue, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app.admin_as(&ann, Method::DELETE, otto, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Only the digest of a session is stored.
    assert_eq!(
        app.sql_count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE digest = '{ann}' OR account = '{ann}'"
        ))
        .await,
        0
    );
}

async fn the_audit_log_names_the_person(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let mia = account(&app, "mia", "moderator").await;
    let sso_mod = with_role("m1", "Mo Derator", "moderator");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let v = app
            .post_ok(
                "default",
                "audit",
                json!({"body": format!("see http://a.example and http://b.example {}", ids.len())}),
            )
            .await;
        assert_eq!(v["status"], "pending");
        ids.push(v["id"].as_i64().unwrap());
    }
    for (token, id) in [(&mia, ids[0]), (&sso_mod, ids[1])] {
        let (s, v) = app
            .admin_as(
                token,
                Method::POST,
                &format!("/api/v1/admin/sites/default/comments/{id}/approve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (_, log) = app
        .admin(Method::GET, "/api/v1/admin/sites/default/audit", None)
        .await;
    let actors: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert!(actors.contains(&("account:mia", "approve")), "{actors:?}");
    assert!(
        actors.contains(&("sso:Mo Derator", "approve")),
        "{actors:?}"
    );
    assert!(
        actors
            .iter()
            .any(|(a, act)| a.starts_with("token:") && *act == "account"),
        "{actors:?}"
    );
}

async fn logins_from_one_address_are_limited(db: Db) {
    let Some(app) = spawn_with(db, |c| c.rate_limit = true).await else {
        return;
    };
    let login = || {
        app.client
            .post(app.url("/api/v1/admin/sites/default/login"))
            .json(&json!({"name": "guess", "password": "guessing-passwords"}))
            .send()
    };
    // All at once: the budget is spent before the (slow) password check.
    let n = colloquy::service::LOGINS_PER_MINUTE as usize + 2;
    let answers = futures::future::join_all((0..n).map(|_| login())).await;
    let mut limited = 0;
    for r in answers {
        let r = r.unwrap();
        match r.status() {
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().contains_key("retry-after"));
                let p = expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
                assert!(p["detail"].as_str().unwrap().contains("logins"), "{p}");
                limited += 1;
            }
            // Two password checks at a time; the others are told to retry.
            s => assert!(
                s == StatusCode::UNAUTHORIZED || s == StatusCode::SERVICE_UNAVAILABLE,
                "{s}"
            ),
        }
    }
    assert_eq!(limited, 2);
}

async fn a_signed_in_author_reads_and_appeals_a_decision_through_their_identity(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let ada = token("ada", "Ada");
    let bob = token("bob", "Bob");
    let v = posted_as(
        &app,
        &ada,
        "st",
        json!({"body": "words a moderator removes"}),
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/trash"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let path = format!("/api/v1/sites/default/comments/{id}/statement");
    let read = |t: String| app.client.get(app.url(&path)).bearer_auth(t).send();
    // The author's sign-in token reads the statement; another reader's does not.
    let r = read(ada.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["decision"], "trash", "{st}");
    let r = read(bob.clone()).await.unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    // And appeals it once.
    let appeal = |t: String| {
        app.client
            .post(app.url(&format!("/api/v1/sites/default/comments/{id}/appeal")))
            .bearer_auth(t)
            .json(&json!({"text": "it was on topic"}))
            .send()
    };
    let r = appeal(bob).await.unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    let r = appeal(ada.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = appeal(ada).await.unwrap();
    expect_problem(r, StatusCode::CONFLICT).await;
}

async fn a_shadow_banned_signed_in_author_sees_their_comments_on_any_device(db: Db) {
    let Some(app) = spawn_with(db, with_keys).await else {
        return;
    };
    let ada = token("ada", "Ada");
    let bob = token("bob", "Bob");
    let (s, v) = app
        .admin(
            Method::PUT,
            "/api/v1/admin/sites/default/commenters/user:ada",
            Some(json!({"action": "shadow_ban", "reason": "spam waves"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let posted = posted_as(&app, &ada, "sb", json!({"body": "seen by me only"})).await;
    assert_eq!(
        posted["status"], "published",
        "told it is published: {posted}"
    );
    let id = posted["id"].as_i64().unwrap();
    // Everyone else's listing lacks it.
    assert_eq!(app.list("default", "sb", "").await["comments"], json!([]));
    // Ada, signed in on another device (no edit token kept), sees it.
    let own = |t: &str| {
        app.client
            .post(app.url("/api/v1/sites/default/threads/sb/own"))
            .bearer_auth(t)
            .json(&json!({"edit_tokens": []}))
            .send()
    };
    let r = own(&ada).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let mine: Value = r.json().await.unwrap();
    assert_eq!(mine["comments"][0]["id"], id, "{mine}");
    assert_eq!(mine["comments"][0]["status"], "published", "{mine}");
    // Bob does not.
    let theirs: Value = own(&bob).await.unwrap().json().await.unwrap();
    assert_eq!(theirs["comments"], json!([]), "{theirs}");
}
