//! Export, then import into an empty database: the same site comes back,
//! from JSON and from WXR; private fields travel only when asked for.

use colloquy::audit::Actor;
use colloquy::clock::{now_ms, rfc3339};
use colloquy::comment::QueueFilter;
use colloquy::comment::{Comment, SiteId, Status, ThreadKey, ThreadState};
use colloquy::service::{Action, PostInput};
use colloquy::site::SiteChanges;
use colloquy::store::{ImportRow, RowOutcome};
use colloquy::transfer::export::{export, ExportFormat};
use colloquy::transfer::Kind;

use crate::both_backends;
use crate::helpers::{by_source, everything, fixture, isso_db, open, run_ok, site, Db, Env};

both_backends!(
    json_and_wxr_exports_import_back_into_the_same_site,
    private_fields_are_exported_only_when_asked_for,
    site_settings_move_only_into_a_site_without_comments,
    ids_in_use_are_stepped_over_or_reported,
);

/// A site with comments from every source, comments posted here (one
/// edited, one moved to spam), and a closed thread without comments.
async fn populate(env: &Env) {
    let isso = isso_db(&env.dir).await;
    run_ok(env, Kind::Wordpress, &fixture("wordpress.xml")).await;
    run_ok(env, Kind::Disqus, &fixture("disqus.xml")).await;
    run_ok(env, Kind::Drupal7, &fixture("drupal7.csv")).await;
    run_ok(env, Kind::Isso, &isso).await;
    let s = &env.service;
    let thread = ThreadKey::parse("local/thread ü").unwrap();
    let first = s
        .post(
            &site(),
            &thread,
            PostInput {
                author: Some("Local".into()),
                email: Some("local@example.com".into()),
                body: "Posted here, <em>live</em>.".into(),
                ..PostInput::default()
            },
            Some("192.0.2.77".parse().unwrap()),
        )
        .await
        .unwrap();
    let reply = s
        .post(
            &site(),
            &thread,
            PostInput {
                body: "A plain reply ]]> with a CDATA end".into(),
                format: Some("plain_text".into()),
                parent: Some(first.comment.id),
                ..PostInput::default()
            },
            None,
        )
        .await
        .unwrap();
    s.edit(
        &site(),
        reply.comment.id,
        &reply.edit_token,
        "Edited reply ]]> still".into(),
        None,
    )
    .await
    .unwrap();
    s.moderate(&site(), first.comment.id, Action::Spam, &Actor::System)
        .await
        .unwrap();
    s.set_thread_state(
        &site(),
        &ThreadKey::parse("quiet/closed").unwrap(),
        ThreadState::Closed,
        &Actor::System,
    )
    .await
    .unwrap();
}

async fn export_to_vec(env: &Env, format: ExportFormat, private: bool) -> String {
    let mut out = Vec::new();
    export(&env.service, &site(), format, private, &mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

async fn json_and_wxr_exports_import_back_into_the_same_site(db: Db) {
    let Some(a) = open(db).await else { return };
    populate(&a).await;
    let json = export_to_vec(&a, ExportFormat::Json, true).await;
    let wxr = export_to_vec(&a, ExportFormat::Wxr, true).await;
    let lines: Vec<&str> = json.lines().collect();
    assert!(lines[0].starts_with("{\"type\":\"site\",\"id\":\"default\""));
    let comments = lines
        .iter()
        .filter(|l| l.starts_with("{\"type\":\"comment\""))
        .count();
    assert_eq!(
        i64::try_from(comments).unwrap(),
        a.service.count_site(&site()).await.unwrap()
    );
    assert_eq!(comments, 6 + 6 + 5 + 6 + 2);
    assert!(json.contains("\"key\":\"quiet/closed\",\"title\":null,\"state\":\"closed\""));

    // JSON into an empty database.
    let Some(b) = open(db).await else { return };
    let path = b.dir.join("export.jsonl");
    std::fs::write(&path, &json).unwrap();
    let report = run_ok(&b, Kind::Colloquy, &path).await;
    assert_eq!(report.imported.total(), 25);
    assert_eq!(report.imported.spam, 3);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(export_to_vec(&b, ExportFormat::Json, true).await, json);
    // Again: nothing more.
    let again = run_ok(&b, Kind::Colloquy, &path).await;
    assert_eq!((again.imported.total(), again.already), (0, 25));

    // WXR into another empty database, read back as JSON.
    let Some(c) = open(db).await else { return };
    let path = c.dir.join("export.xml");
    std::fs::write(&path, &wxr).unwrap();
    let report = run_ok(&c, Kind::Wordpress, &path).await;
    assert_eq!(report.imported.total(), 25);
    assert_eq!(export_to_vec(&c, ExportFormat::Json, true).await, json);

    // What readers see is the same too.
    let thread = ThreadKey::parse("https://notes.example/2024/05/cafe-review/").unwrap();
    let list = |env: &Env| {
        let s = env.service.clone();
        let thread = thread.clone();
        async move {
            s.list(
                &site(),
                &thread,
                colloquy::comment::Order::Oldest,
                Some(50),
                None,
            )
            .await
            .unwrap()
            .comments
        }
    };
    let (la, lc) = (list(&a).await, list(&c).await);
    assert_eq!(la.len(), 3);
    assert_eq!(la, lc);
    assert_eq!(c.service.thread(&site(), &thread).await.unwrap().count, 3);
    let other = SiteId::parse("default").unwrap();
    let queue = c
        .service
        .queue(
            &other,
            QueueFilter {
                statuses: vec![Status::Spam],
                ..QueueFilter::default()
            },
            Some(50),
            None,
        )
        .await
        .unwrap();
    assert_eq!(queue.comments.len(), 3);
}

async fn private_fields_are_exported_only_when_asked_for(db: Db) {
    let Some(a) = open(db).await else { return };
    populate(&a).await;
    let public_json = export_to_vec(&a, ExportFormat::Json, false).await;
    let public_wxr = export_to_vec(&a, ExportFormat::Wxr, false).await;
    let private_json = export_to_vec(&a, ExportFormat::Json, true).await;
    for e in [
        "zoe@example.org",
        "lin@example.com",
        "alice@example.com",
        "local@example.com",
    ] {
        assert!(!public_json.contains(e) && !public_wxr.contains(e), "{e}");
        assert!(private_json.contains(e), "{e}");
    }
    assert!(!public_json.contains("\"email\"") && !public_json.contains("\"ip_hash\""));
    assert!(!public_wxr.contains("colloquy:ip_hash"));
    assert!(private_json.contains("\"ip_hash\""));
    // Raw IP addresses are never stored, so never exported.
    for ip in ["203.0.113.5", "198.51.100.23", "192.0.2.1\"", "192.0.2.77"] {
        assert!(!private_json.contains(ip), "{ip}");
    }
    // The public export imports into a site without e-mails.
    let Some(b) = open(db).await else { return };
    let path = b.dir.join("public.jsonl");
    std::fs::write(&path, &public_json).unwrap();
    run_ok(&b, Kind::Colloquy, &path).await;
    let all = b
        .service
        .queue(
            &site(),
            QueueFilter {
                statuses: Status::ALL.to_vec(),
                ..QueueFilter::default()
            },
            Some(200),
            None,
        )
        .await
        .unwrap();
    assert_eq!(all.comments.len(), 25);
    assert!(all
        .comments
        .iter()
        .all(|c| c.email.is_none() && c.ip_hash.is_none()));
    assert_eq!(
        export_to_vec(&b, ExportFormat::Json, false).await,
        public_json
    );
}

async fn site_settings_move_only_into_a_site_without_comments(db: Db) {
    use colloquy::moderation::ModerationMode;
    let Some(a) = open(db).await else { return };
    run_ok(&a, Kind::Drupal7, &fixture("drupal7.csv")).await;
    a.service
        .update_site(
            &site(),
            SiteChanges {
                formats: Some(vec![
                    "markdown".into(),
                    "filtered_html".into(),
                    "plain_text".into(),
                ]),
                default_format: Some("markdown".into()),
                moderation: Some(ModerationMode::Hold),
                hold_links: Some(5),
                duplicate_window_secs: Some(0),
                origins: None,
                rules: serde_json::json!({"moderation_keys": ["bitcoin"], "max_depth": 4})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let json = export_to_vec(&a, ExportFormat::Json, false).await;

    let Some(b) = open(db).await else { return };
    let path = b.dir.join("a.jsonl");
    std::fs::write(&path, &json).unwrap();
    let report = run_ok(&b, Kind::Colloquy, &path).await;
    assert!(report
        .notes
        .contains(&"the site's settings were taken from the export".to_owned()));
    let stored = b.service.store().site("default").await.unwrap().unwrap();
    assert_eq!(stored.formats, ["markdown", "filtered_html", "plain_text"]);
    assert_eq!(stored.default_format, "markdown");
    assert_eq!(stored.moderation, ModerationMode::Hold);
    assert_eq!((stored.hold_links, stored.duplicate_window_secs), (5, 0));
    assert_eq!(stored.rules.moderation_keys.keys(), ["bitcoin"]);
    assert_eq!(stored.rules.max_depth, 4);
    assert_eq!(export_to_vec(&b, ExportFormat::Json, false).await, json);

    // A site that already has comments keeps its own settings.
    let Some(c) = open(db).await else { return };
    run_ok(&c, Kind::Wordpress, &fixture("wordpress.xml")).await;
    let path = c.dir.join("a.jsonl");
    std::fs::write(&path, &json).unwrap();
    let report = run_ok(&c, Kind::Colloquy, &path).await;
    assert_eq!(report.imported.total(), 5);
    assert!(report
        .notes
        .iter()
        .any(|n| n.contains("this site's are kept")));
    let stored = c.service.store().site("default").await.unwrap().unwrap();
    assert_eq!(stored.default_format, "filtered_html");
}

/// A Colloquy export of one thread whose comments have the given ids and
/// creation times.
fn native_export(comments: &[(i64, i64)]) -> String {
    let mut out = String::from(
        "{\"type\":\"site\",\"id\":\"default\",\"version\":1,\"formats\":[\"filtered_html\",\"plain_text\"],\
         \"default_format\":\"filtered_html\",\"moderation\":\"publish\",\"hold_links\":2,\"duplicate_window_secs\":600}\n",
    );
    out.push_str(&format!(
        "{{\"type\":\"thread\",\"key\":\"ids\",\"title\":null,\"state\":\"open\",\"created\":\"{}\"}}\n",
        rfc3339(comments[0].1)
    ));
    for (id, created) in comments {
        out.push_str(&format!(
            "{{\"type\":\"comment\",\"id\":{id},\"thread\":\"ids\",\"parent\":null,\"source\":null,\
             \"status\":\"published\",\"format\":\"plain_text\",\"body\":\"comment {id}\",\"author\":null,\
             \"homepage\":null,\"created\":\"{}\",\"modified\":null}}\n",
            rfc3339(*created)
        ));
    }
    out
}

async fn ids_in_use_are_stepped_over_or_reported(db: Db) {
    let Some(env) = open(db).await else { return };
    let created = now_ms() - 86_400_000;
    let kept = [(1000, created), (1001, created), (1002, created)];
    let path = env.dir.join("ids.jsonl");
    std::fs::write(&path, native_export(&kept)).unwrap();
    let report = run_ok(&env, Kind::Colloquy, &path).await;
    assert_eq!(report.imported.total(), 3);
    let (_, before) = everything(&env).await;

    // Fresh ids that turn out to be taken are stepped over. (Imports start
    // allocating past the ids older than an hour, so this happens only
    // with comments of the last hour; here the start is given.)
    let row = |n: u32| ImportRow {
        comment: Comment {
            author_id: None,
            id: 0,
            site: colloquy::comment::SiteId::parse("default").unwrap(),
            thread: colloquy::comment::ThreadKey::parse("ids").unwrap(),
            parent: None,
            status: Status::Published,
            format: "plain_text".into(),
            body: format!("imported {n}"),
            // Stored HTML only ever comes from the safety net.
            html: colloquy::PolicySet::bundled()
                .get("plain_text")
                .unwrap()
                .render(&format!("imported {n}"))
                .html,
            policy_version: "test".into(),
            author: None,
            email: None,
            homepage: None,
            ip_hash: None,
            created,
            modified: None,
            reasons: Vec::new(),
            notify_replies: false,
            standing: Default::default(),
        },
        keep_id: false,
        source: Some(format!("test:{n}")),
        source_parent: None,
    };
    let mut rows = vec![row(1), row(2), row(3)];
    let mut next_id = 1001;
    let outcomes = env
        .service
        .store()
        .import_batch("default", &[], &mut rows, &mut next_id)
        .await
        .unwrap();
    assert_eq!(outcomes, [RowOutcome::Inserted; 3]);
    let ids: Vec<i64> = rows.iter().map(|r| r.comment.id).collect();
    // 1001 and 1002 were tried first; the third row took 1003 at once.
    assert_eq!(ids, [1004, 1005, 1003]);
    assert_eq!(next_id, 1006);
    let all = by_source(&env).await;
    for (n, id) in (1..=3).zip(ids) {
        assert_eq!(all[&format!("test:{n}")].comment.id, id);
    }
    // The same rows again are already there, whatever ids they are offered.
    let mut again = vec![row(1), row(2), row(3)];
    let outcomes = env
        .service
        .store()
        .import_batch("default", &[], &mut again, &mut next_id)
        .await
        .unwrap();
    assert_eq!(outcomes, [RowOutcome::AlreadyThere; 3]);
    let (_, with_rows) = everything(&env).await;
    assert_eq!(with_rows.len(), 6);

    // Kept ids held by other comments (same id, another time) are skipped
    // with the reason; the stored comments stay as they were.
    let other = [(1000, created - 1000), (1001, created + 1000)];
    std::fs::write(&path, native_export(&other)).unwrap();
    let clash = run_ok(&env, Kind::Colloquy, &path).await;
    assert_eq!(clash.imported.total(), 0);
    let reasons: Vec<&str> = clash.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "comment id 1000 is taken here by another comment",
            "comment id 1001 is taken here by another comment",
        ]
    );
    assert_eq!(everything(&env).await.1, with_rows);
    for c in before {
        assert!(with_rows.contains(&c));
    }
}
