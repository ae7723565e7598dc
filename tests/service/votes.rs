//! Votes and pins (issue 17, point 4): one vote per reader, changed and
//! taken back, parallel votes counted once, `best` order and its pages,
//! pinned comments first in every order, and the site settings that turn
//! votes and downvotes off.

use crate::both_backends;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A server that takes the client address from `X-Forwarded-For`, so one
/// test can be many readers.
async fn readers(db: Db) -> Option<TestApp> {
    let proxies = colloquy::net::TrustedProxies::parse(&["127.0.0.1/32"]).unwrap();
    spawn_with(db, move |c| c.trusted_proxies = proxies).await
}

async fn vote_as(app: &TestApp, ip: &str, id: i64, value: i64) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/sites/default/comments/{id}/vote")))
        .header("x-forwarded-for", ip)
        .json(&json!({ "value": value }))
        .send()
        .await
        .unwrap()
}

async fn vote_ok(app: &TestApp, ip: &str, id: i64, value: i64) -> Value {
    let r = vote_as(app, ip, id, value).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn post(app: &TestApp, thread: &str, body: &str) -> i64 {
    app.post_ok("default", thread, json!({ "body": body, "author": "Ann" }))
        .await["id"]
        .as_i64()
        .unwrap()
}

fn counts(v: &Value) -> (i64, i64, i64) {
    (
        v["upvotes"].as_i64().unwrap(),
        v["downvotes"].as_i64().unwrap(),
        v["score"].as_i64().unwrap(),
    )
}

fn ids(list: &Value) -> Vec<i64> {
    list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn one_vote_per_reader_changed_and_taken_back(db: Db) {
    let Some(app) = readers(db).await else { return };
    let id = post(&app, "t", "Vote on me").await;
    // The listing is cached before the votes: it must not stay stale.
    let before = app.list("default", "t", "").await;
    assert_eq!(counts(&before["comments"][0]), (0, 0, 0));
    assert_eq!(before["comments"][0]["pinned"], false);

    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.1", id, 1).await),
        (1, 0, 1)
    );
    // The same vote again (a replay) changes nothing.
    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.1", id, 1).await),
        (1, 0, 1)
    );
    // Changed to a downvote: still one vote.
    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.1", id, -1).await),
        (0, 1, -1)
    );
    // Another reader.
    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.2", id, 1).await),
        (1, 1, 0)
    );
    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.3", id, 1).await),
        (2, 1, 1)
    );
    // Taken back.
    let v = vote_ok(&app, "198.51.100.1", id, 0).await;
    assert_eq!(counts(&v), (2, 0, 2));
    assert_eq!(v["value"], 0);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM votes").await, 2);

    let after = app.list("default", "t", "").await;
    assert_eq!(counts(&after["comments"][0]), (2, 0, 2), "{after}");
    let (s, boot) = app
        .get_json("/api/v1/sites/default/threads/t/bootstrap")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts(&boot["comments"]["comments"][0]), (2, 0, 2));

    // Bad values and comments readers cannot see change nothing.
    let p = expect_problem(
        vote_as(&app, "198.51.100.9", id, 2).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "value");
    expect_problem(
        vote_as(&app, "198.51.100.9", id + 999, 1).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    let held = post(&app, "t", "Held one").await;
    expect_problem(
        vote_as(&app, "198.51.100.9", held, 1).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM votes").await, 2);
}

async fn parallel_votes_from_one_reader_count_once(db: Db) {
    let Some(app) = readers(db).await else { return };
    let id = post(&app, "t", "Race on me").await;
    let mut tasks = Vec::new();
    for reader in 0..8 {
        for _ in 0..4 {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/sites/default/comments/{id}/vote"));
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .header("x-forwarded-for", format!("203.0.113.{reader}"))
                    .json(&json!({"value": 1}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let list = app.list("default", "t", "").await;
    assert_eq!(counts(&list["comments"][0]), (8, 0, 8), "{list}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM votes").await, 8);
    // Parallel changes of mind by one reader leave one vote, counted once.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/sites/default/comments/{id}/vote"));
        let value = [1, -1, 0][i % 3];
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("x-forwarded-for", "203.0.113.0")
                .json(&json!({ "value": value }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let rows = app.sql_count("SELECT COUNT(*) FROM votes").await;
    let up = app
        .sql_count("SELECT COUNT(*) FROM votes WHERE value = 1")
        .await;
    let down = app
        .sql_count("SELECT COUNT(*) FROM votes WHERE value = -1")
        .await;
    assert!((7..=8).contains(&rows), "{rows}");
    let list = app.list("default", "t", "").await;
    assert_eq!(counts(&list["comments"][0]).0, up);
    assert_eq!(counts(&list["comments"][0]).1, down);
}

async fn best_order_and_its_pages(db: Db) {
    let Some(app) = readers(db).await else { return };
    // (upvotes, downvotes) per comment, in posting order.
    let plan = [
        (0, 0),
        (1, 0),
        (5, 0),
        (3, 3),
        (0, 0),
        (5, 1),
        (2, 0),
        (0, 2),
    ];
    let mut posted = Vec::new();
    for (n, (up, down)) in plan.iter().enumerate() {
        let id = post(&app, "b", &format!("Comment {n}")).await;
        for r in 0..*up {
            vote_ok(&app, &format!("192.0.2.{r}"), id, 1).await;
        }
        for r in 0..*down {
            vote_ok(&app, &format!("192.0.2.{}", 100 + r), id, -1).await;
        }
        posted.push(id);
    }
    let wilson = |up: i64, down: i64| colloquy::vote::wilson(up, down);
    let mut expected: Vec<(i64, usize)> = plan
        .iter()
        .enumerate()
        .map(|(n, (u, d))| (wilson(*u, *d), n))
        .collect();
    // Highest score first, ties by oldest.
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let expected: Vec<i64> = expected.iter().map(|(_, n)| posted[*n]).collect();
    let all = app.list("default", "b", "?order=best").await;
    assert_eq!(ids(&all), expected);
    // The 5-of-5 comment beats the 5-of-6 one, which beats 3-of-6.
    assert_eq!(ids(&all)[0], posted[2]);
    // Pages of 3 join up to the whole list, nothing twice, nothing left out.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?order=best&limit=3&cursor={c}"),
            None => "?order=best&limit=3".to_owned(),
        };
        let page = app.list("default", "b", &q).await;
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(paged.len() <= plan.len(), "pages do not end");
    }
    assert_eq!(paged, expected);
    let (s, _) = app
        .get_json("/api/v1/sites/default/threads/b/comments?order=worst")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn pinned_comments_come_first_in_every_order(db: Db) {
    let Some(app) = readers(db).await else { return };
    let a = post(&app, "p", "First").await;
    let b = post(&app, "p", "Second").await;
    let c = post(&app, "p", "Third").await;
    vote_ok(&app, "192.0.2.1", a, 1).await;
    let pin = format!("/api/v1/admin/sites/default/comments/{b}/pin");
    let (s, v) = app.admin(Method::PUT, &pin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["pinned"], true);
    // Again: nothing changes, and it is logged once.
    let (s, _) = app.admin(Method::PUT, &pin, None).await;
    assert_eq!(s, StatusCode::OK);
    for (order, rest) in [("oldest", [a, c]), ("newest", [c, a]), ("best", [a, c])] {
        let list = app.list("default", "p", &format!("?order={order}")).await;
        assert_eq!(ids(&list), vec![b, rest[0], rest[1]], "{order}");
        assert_eq!(list["comments"][0]["pinned"], true);
        assert_eq!(list["comments"][1]["pinned"], false);
        // The pages of one item each keep the pin first too.
        let first = app
            .list("default", "p", &format!("?order={order}&limit=1"))
            .await;
        let next = first["next_cursor"].as_str().unwrap().to_owned();
        let second = app
            .list(
                "default",
                "p",
                &format!("?order={order}&limit=1&cursor={next}"),
            )
            .await;
        assert_eq!(
            (ids(&first), ids(&second)),
            (vec![b], vec![rest[0]]),
            "{order}"
        );
    }
    let page = app
        .client
        .get(app.url("/sites/default/threads/p"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        page.matches("class=\"colloquy-pinned\"").count(),
        1,
        "{page}"
    );
    assert!(page.contains("Score 1"), "{page}");
    let (_, audit) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/audit?comment={b}"),
            None,
        )
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "pin").count(),
        1,
        "{audit}"
    );

    let (s, v) = app.admin(Method::DELETE, &pin, None).await;
    assert_eq!((s, v["pinned"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(ids(&app.list("default", "p", "").await), vec![a, b, c]);
    // Only a published comment can be pinned.
    app.admin(
        Method::POST,
        &format!("/api/v1/admin/sites/default/comments/{c}/unpublish"),
        None,
    )
    .await;
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/default/comments/{c}/pin"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_published")),
        "{v}"
    );
    let (s, _) = app
        .admin_as(
            OTHER_ADMIN,
            Method::PUT,
            &format!("/api/v1/admin/sites/default/comments/{a}/pin"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn site_settings_turn_votes_and_downvotes_off(db: Db) {
    let Some(app) = readers(db).await else { return };
    let id = post(&app, "s", "Settings").await;
    app.patch_site("default", json!({"downvotes": false})).await;
    let p = expect_problem(
        vote_as(&app, "192.0.2.1", id, -1).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "downvotes_off");
    assert_eq!(counts(&vote_ok(&app, "192.0.2.1", id, 1).await), (1, 0, 1));
    app.patch_site("default", json!({"votes": false})).await;
    let p = expect_problem(
        vote_as(&app, "192.0.2.2", id, 1).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "votes_off");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM votes").await, 1);
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    assert_eq!(
        (site["votes"].clone(), site["downvotes"].clone()),
        (json!(false), json!(false)),
        "{site}"
    );
}

async fn votes_from_one_address_have_a_budget(db: Db) {
    let proxies = colloquy::net::TrustedProxies::parse(&["127.0.0.1/32"]).unwrap();
    let Some(app) = spawn_with(db, move |c| {
        c.trusted_proxies = proxies;
        c.rate_limit = true;
    })
    .await
    else {
        return;
    };
    let id = post(&app, "t", "Budget").await;
    let budget = i64::from(colloquy::service::IP_VOTES_PER_MINUTE);
    for n in 0..budget {
        let r = vote_as(
            &app,
            "198.51.100.7",
            id,
            [1, 0][usize::try_from(n % 2).unwrap()],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "vote {n}");
    }
    // The budget refills at two votes a second: within another minute's
    // worth of votes sent back to back, one is refused.
    let mut refused = None;
    for _ in 0..budget {
        let r = vote_as(&app, "198.51.100.7", id, 1).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = refused.expect("the address ran out of votes");
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    // Another reader still votes.
    let before = counts(&app.list("default", "t", "").await["comments"][0]).0;
    assert_eq!(
        counts(&vote_ok(&app, "198.51.100.8", id, 1).await).0,
        before + 1
    );
}

async fn a_vote_on_one_server_is_in_the_next_listing_of_another(db: Db) {
    let dir = temp_dir();
    let Some(database) = fresh_database(db, &dir).await else {
        return;
    };
    let a = spawn_on(database.clone(), dir, |_| {}).await;
    // On SQLite one process owns the file: the other server is the same.
    let b = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let keys = a.key_file.clone();
            Some(spawn_on(database, temp_dir(), |c| c.key_file = Some(keys)).await)
        }
    };
    let other = b.as_ref().unwrap_or(&a);
    let id = post(&a, "x", "Across servers").await;
    // The other server has the listing cached, then a vote lands on the first.
    for _ in 0..2 {
        assert_eq!(
            counts(&other.list("default", "x", "").await["comments"][0]),
            (0, 0, 0)
        );
    }
    assert_eq!(counts(&vote_ok(&a, "127.0.0.1", id, 1).await), (1, 0, 1));
    let after = other.list("default", "x", "").await;
    assert_eq!(counts(&after["comments"][0]), (1, 0, 1), "{after}");
    // A pin too.
    a.admin(
        Method::PUT,
        &format!("/api/v1/admin/sites/default/comments/{id}/pin"),
        None,
    )
    .await;
    assert_eq!(
        other.list("default", "x", "").await["comments"][0]["pinned"],
        true
    );
}

both_backends!(
    a_vote_on_one_server_is_in_the_next_listing_of_another,
    votes_from_one_address_have_a_budget,
    one_vote_per_reader_changed_and_taken_back,
    parallel_votes_from_one_reader_count_once,
    best_order_and_its_pages,
    pinned_comments_come_first_in_every_order,
    site_settings_turn_votes_and_downvotes_off,
);
