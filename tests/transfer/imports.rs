//! Each source system's fixture: what is imported, with which status,
//! parent, text, rendering and thread; what is skipped and why; and that a
//! second run adds nothing.

use std::collections::HashMap;

use colloquy::comment::{Status, ThreadKey, ThreadState};
use colloquy::store::ExportComment;
use colloquy::transfer::{ImportReport, Kind, StatusCounts, ThreadKeyFrom};

use crate::both_backends;
use crate::helpers::{by_source, everything, fixture, isso_db, open, run_ok, site, Db, Env};

both_backends!(
    wordpress_comments_keep_authors_statuses_replies_and_text,
    disqus_posts_keep_threads_statuses_and_replies,
    drupal7_csv_and_json_import_alike_in_their_own_formats,
    isso_database_imports_as_markdown,
    importing_again_adds_nothing,
    oversized_and_empty_comments_are_skipped_with_reasons,
);

fn counts(published: u64, pending: u64, spam: u64, trash: u64) -> StatusCounts {
    StatusCounts {
        published,
        pending,
        spam,
        trash,
    }
}

fn reasons(report: &ImportReport) -> Vec<(String, String)> {
    report
        .skipped
        .iter()
        .map(|s| (s.source.clone().unwrap_or_default(), s.reason.clone()))
        .collect()
}

/// Every stored comment's HTML is what its format's policy makes of its
/// raw text, with that policy's version.
fn assert_rendered_by_policy(env: &Env, comments: &HashMap<String, ExportComment>) {
    for c in comments.values() {
        let c = &c.comment;
        let policy = env.service.policies().get(&c.format).unwrap();
        let r = policy.render(&c.body);
        assert_eq!(c.html, r.html.as_str(), "comment {}", c.id);
        assert_eq!(c.policy_version, policy.version());
    }
}

fn parent_of(c: &HashMap<String, ExportComment>, source: &str) -> Option<i64> {
    c[source].comment.parent
}

fn id_of(c: &HashMap<String, ExportComment>, source: &str) -> i64 {
    c[source].comment.id
}

async fn published_count(env: &Env, thread: &str) -> i64 {
    env.service
        .thread(&site(), &ThreadKey::parse(thread).unwrap())
        .await
        .unwrap()
        .count
}

async fn wordpress_comments_keep_authors_statuses_replies_and_text(db: Db) {
    let Some(env) = open(db).await else { return };
    let report = run_ok(&env, Kind::Wordpress, &fixture("wordpress.xml")).await;
    assert_eq!(report.read, 9);
    assert_eq!(report.imported, counts(3, 1, 1, 1));
    assert_eq!(report.already, 0);
    assert_eq!(report.threads, 2);
    assert_eq!(
        reasons(&report),
        [
            (
                "wordpress:106".to_owned(),
                "a pingback, not a reader's comment".to_owned()
            ),
            (
                "wordpress:202".to_owned(),
                "approval status `maybe` is not one of 1, 0, spam, trash".to_owned()
            ),
            (
                "wordpress:203".to_owned(),
                "no valid wp:comment_date_gmt or wp:comment_date".to_owned()
            ),
        ]
    );
    // Skipped records are placed at their line.
    let file = fixture("wordpress.xml").display().to_string();
    assert_eq!(report.skipped[0].place, format!("{file}:131"));

    let c = by_source(&env).await;
    assert_eq!(c.len(), 6);
    // Replies: 103 answers 102, which answers 101 (listed after 103).
    assert_eq!(parent_of(&c, "wordpress:101"), None);
    assert_eq!(
        parent_of(&c, "wordpress:102"),
        Some(id_of(&c, "wordpress:101"))
    );
    assert_eq!(
        parent_of(&c, "wordpress:103"),
        Some(id_of(&c, "wordpress:102"))
    );
    // Statuses.
    let status = |s: &str| c[s].comment.status;
    assert_eq!(status("wordpress:101"), Status::Published);
    assert_eq!(status("wordpress:104"), Status::Spam);
    assert_eq!(status("wordpress:105"), Status::Pending);
    assert_eq!(status("wordpress:201"), Status::Trash);
    // Authors, e-mails, homepages; an unsafe homepage and a broken e-mail
    // address are left out, and said so.
    let first = &c["wordpress:101"].comment;
    assert_eq!(first.author.as_deref(), Some("Zoë Ångström"));
    assert_eq!(first.email.as_deref(), Some("zoe@example.org"));
    assert_eq!(first.homepage.as_deref(), Some("https://zoe.example.org/"));
    assert_eq!(first.created, 1_714_824_000_000);
    assert_eq!(
        c["wordpress:103"].comment.author.as_deref(),
        Some("Ann & Bob")
    );
    assert_eq!(c["wordpress:102"].comment.homepage, None);
    assert_eq!(c["wordpress:105"].comment.email, None);
    assert_eq!(c["wordpress:103"].comment.homepage, None);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("homepages that are not http(s) addresses: 1 left out")),
        "{:?}",
        report.notes
    );
    assert!(report
        .notes
        .iter()
        .any(|n| n.starts_with("e-mail addresses that are not valid: 1 left out")));
    // The text is stored as written: CDATA (split around its terminator),
    // entities and character references resolved, odd characters kept.
    assert_eq!(
        first.body,
        "First! <strong>Loved</strong> the crème brûlée.\n\nSecond paragraph with a CDATA \
         terminator: ]]> and <script>alert(1)</script> too."
    );
    assert_eq!(
        c["wordpress:103"].comment.body,
        "A reply to a reply, listed before its parent: 2 < 3 && café 😀 \"quoted\""
    );
    assert!(c["wordpress:102"]
        .comment
        .body
        .contains("עברית and العربية"));
    // Rendered as Filtered HTML: the script is gone, the link made.
    assert!(c.values().all(|c| c.comment.format == "filtered_html"));
    assert_rendered_by_policy(&env, &c);
    assert!(!first.html.contains("script"));
    assert!(first.html.contains("<strong>Loved</strong>"));
    assert!(c["wordpress:102"]
        .comment
        .html
        .contains("<a href=\"https://notes.example/menu\""));
    // IPs are stored only as keyed hashes: same address, same hash.
    let hash = |s: &str| c[s].comment.ip_hash.clone().unwrap();
    assert_eq!(hash("wordpress:101"), hash("wordpress:102"));
    assert_ne!(hash("wordpress:101"), hash("wordpress:103"));
    assert!(hash("wordpress:101").len() == 32 && !hash("wordpress:101").contains('.'));
    assert_eq!(
        c["wordpress:201"].comment.ip_hash.as_deref().map(str::len),
        Some(32)
    );
    // Threads: keyed by permalink, with their titles; the closed post is a
    // closed thread; the page without comments made no thread.
    let (threads, _) = everything(&env).await;
    let keys: Vec<(&str, Option<&str>, ThreadState)> = threads
        .iter()
        .map(|t| (t.key.as_str(), t.title.as_deref(), t.state))
        .collect();
    assert_eq!(
        keys,
        [
            (
                "https://notes.example/2024/05/cafe-review/",
                Some("Café review: \"Crème brûlée\" & more"),
                ThreadState::Open
            ),
            (
                "https://notes.example/2024/05/closed/",
                Some("Closed for comments"),
                ThreadState::Closed
            ),
        ]
    );
    // The published count is kept with the thread.
    assert_eq!(
        published_count(&env, "https://notes.example/2024/05/cafe-review/").await,
        3
    );
}

async fn disqus_posts_keep_threads_statuses_and_replies(db: Db) {
    let Some(env) = open(db).await else { return };
    let report = run_ok(&env, Kind::Disqus, &fixture("disqus.xml")).await;
    assert_eq!(report.read, 7);
    assert_eq!(report.imported, counts(3, 1, 1, 1));
    assert_eq!(
        reasons(&report),
        [(
            "disqus:9007".to_owned(),
            "its thread dsq:id 7999 is not in the export".to_owned()
        )]
    );
    assert!(report
        .notes
        .iter()
        .any(|n| n.starts_with("IP addresses that do not parse: 1 left out")));
    let c = by_source(&env).await;
    assert_eq!(parent_of(&c, "disqus:9002"), Some(id_of(&c, "disqus:9001")));
    assert_eq!(parent_of(&c, "disqus:9003"), Some(id_of(&c, "disqus:9002")));
    assert_eq!(c["disqus:9004"].comment.status, Status::Spam);
    assert_eq!(c["disqus:9005"].comment.status, Status::Trash);
    assert_eq!(c["disqus:9006"].comment.status, Status::Pending);
    assert_eq!(c["disqus:9006"].comment.ip_hash, None);
    assert_eq!(
        c["disqus:9001"].comment.author.as_deref(),
        Some("Lin Wei 林伟")
    );
    assert_eq!(
        c["disqus:9001"].comment.email.as_deref(),
        Some("lin@example.com")
    );
    assert_eq!(c["disqus:9002"].comment.created, 1_551_435_330_000);
    assert_eq!(
        c["disqus:9001"].comment.body,
        "<p>Great tasting notes!</p><p>The <b>second</b> cup was best &amp; cheapest.</p>"
    );
    assert_rendered_by_policy(&env, &c);
    let (threads, _) = everything(&env).await;
    let keys: Vec<(&str, Option<&str>, ThreadState)> = threads
        .iter()
        .map(|t| (t.key.as_str(), t.title.as_deref(), t.state))
        .collect();
    assert_eq!(
        keys,
        [
            (
                "https://notes.example/2019/archived/",
                Some("Archived <old> thread"),
                ThreadState::Closed
            ),
            (
                "https://notes.example/2019/tea-tasting/",
                Some("Tea tasting & notes — «oolong»"),
                ThreadState::Open
            ),
        ]
    );
    assert_eq!(
        published_count(&env, "https://notes.example/2019/tea-tasting/").await,
        3
    );

    // Keyed by Disqus identifier instead (falling back to the permalink's
    // path where there is none), into a second database.
    let Some(env2) = open(db).await else { return };
    let mut opts = crate::helpers::options(Kind::Disqus);
    opts.thread_key = ThreadKeyFrom::Id;
    colloquy::transfer::import(
        &env2.service,
        &site(),
        &fixture("disqus.xml"),
        &opts,
        &|_, _| {},
    )
    .await
    .unwrap();
    let (threads, _) = everything(&env2).await;
    let keys: Vec<&str> = threads.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["7003", "post-12"]);
}

async fn drupal7_csv_and_json_import_alike_in_their_own_formats(db: Db) {
    let Some(env) = open(db).await else { return };
    let csv = run_ok(&env, Kind::Drupal7, &fixture("drupal7.csv")).await;
    assert_eq!(csv.read, 6);
    assert_eq!(csv.imported, counts(4, 1, 0, 0));
    assert_eq!(csv.skipped.len(), 1);
    assert_eq!(csv.skipped[0].source.as_deref(), Some("drupal7:5"));
    assert!(
        csv.skipped[0]
            .reason
            .starts_with("format `full_html` has no policy here"),
        "{}",
        csv.skipped[0].reason
    );
    assert_eq!(
        csv.skipped[0].place,
        format!("{}:9", fixture("drupal7.csv").display())
    );
    let c = by_source(&env).await;
    assert_eq!(parent_of(&c, "drupal7:2"), Some(id_of(&c, "drupal7:1")));
    assert_eq!(parent_of(&c, "drupal7:3"), Some(id_of(&c, "drupal7:2")));
    assert_eq!(c["drupal7:1"].comment.format, "filtered_html");
    assert_eq!(c["drupal7:2"].comment.format, "plain_text");
    assert_eq!(c["drupal7:4"].comment.status, Status::Pending);
    assert_eq!(c["drupal7:1"].comment.created, 1_262_304_000_000);
    assert_eq!(c["drupal7:3"].comment.email, None);
    assert_eq!(
        c["drupal7:3"].comment.author.as_deref(),
        Some("Ünïcödé Ñame")
    );
    assert_eq!(
        c["drupal7:1"].comment.body,
        "Hello <em>world</em>, see www.example.com\nand a second line.\n\n\
         New paragraph with \"quotes\" and a <script>x</script>."
    );
    // Drupal 7's own rendering of these formats.
    assert_eq!(
        c["drupal7:2"].comment.html,
        "<p>Plain text: &lt;b&gt;stays&lt;/b&gt; as typed &amp; escaped</p>\n"
    );
    assert_rendered_by_policy(&env, &c);
    let (threads, _) = everything(&env).await;
    let keys: Vec<&str> = threads.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["node/5", "node/6"]);

    // The JSON export of the same rows gives the same comments.
    let Some(env2) = open(db).await else { return };
    let json = run_ok(&env2, Kind::Drupal7, &fixture("drupal7.json")).await;
    assert_eq!(json.imported, csv.imported);
    assert_eq!(
        json.skipped[0].place,
        format!("{}: record 5", fixture("drupal7.json").display())
    );
    let c2 = by_source(&env2).await;
    assert_eq!(c2.len(), c.len());
    for (source, a) in &c {
        let b = &c2[source].comment;
        let a = &a.comment;
        assert_eq!(
            (
                &a.body,
                &a.html,
                &a.author,
                &a.email,
                &a.homepage,
                a.status,
                a.created
            ),
            (
                &b.body,
                &b.html,
                &b.author,
                &b.email,
                &b.homepage,
                b.status,
                b.created
            ),
            "{source}"
        );
        assert_eq!(a.parent.is_some(), b.parent.is_some());
    }
}

async fn isso_database_imports_as_markdown(db: Db) {
    let Some(env) = open(db).await else { return };
    let path = isso_db(&env.dir).await;
    let report = run_ok(&env, Kind::Isso, &path).await;
    assert_eq!(report.read, 8);
    assert_eq!(report.imported, counts(4, 1, 0, 1));
    assert_eq!(
        reasons(&report),
        [
            (
                "isso:7".to_owned(),
                "mode 9 is not 1 (accepted), 2 (in moderation) or 4 (deleted)".to_owned()
            ),
            (
                "isso:8".to_owned(),
                "its thread 99 is not in the threads table".to_owned()
            ),
        ]
    );
    // The default site offers no Markdown: the report says so.
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "6 comments are in format `markdown`, which site `default` does not offer"
        )),
        "{:?}",
        report.notes
    );
    let c = by_source(&env).await;
    assert!(c.values().all(|c| c.comment.format == "markdown"));
    assert_rendered_by_policy(&env, &c);
    assert!(c["isso:1"].comment.html.contains("<em>works</em>"));
    assert!(!c["isso:2"].comment.html.contains("<script"));
    assert_eq!(parent_of(&c, "isso:2"), Some(id_of(&c, "isso:1")));
    // The deleted comment stays, in the trash, so its reply keeps its place.
    assert_eq!(c["isso:4"].comment.status, Status::Trash);
    assert_eq!(parent_of(&c, "isso:5"), Some(id_of(&c, "isso:4")));
    assert_eq!(c["isso:3"].comment.status, Status::Pending);
    assert_eq!(c["isso:3"].comment.homepage, None);
    assert_eq!(c["isso:1"].comment.created, 1_546_300_800_250);
    assert_eq!(c["isso:2"].comment.modified, Some(1_546_305_000_000));
    let (threads, _) = everything(&env).await;
    let keys: Vec<(&str, Option<&str>)> = threads
        .iter()
        .map(|t| (t.key.as_str(), t.title.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("/blog/hello-world/", Some("Hello, World — «first» post")),
            ("/blog/quiet/", None)
        ]
    );
}

async fn importing_again_adds_nothing(db: Db) {
    let Some(env) = open(db).await else { return };
    let isso = isso_db(&env.dir).await;
    let sources = [
        (Kind::Wordpress, fixture("wordpress.xml")),
        (Kind::Disqus, fixture("disqus.xml")),
        (Kind::Drupal7, fixture("drupal7.csv")),
        (Kind::Isso, isso),
    ];
    let mut first = Vec::new();
    for (kind, path) in &sources {
        first.push(run_ok(&env, *kind, path).await);
    }
    let before = everything(&env).await;
    let total_before = env.service.count_site(&site()).await.unwrap();
    let published = published_count(&env, "node/5").await;
    for ((kind, path), first) in sources.iter().zip(&first) {
        let again = run_ok(&env, *kind, path).await;
        assert_eq!(again.imported, StatusCounts::default(), "{kind:?}");
        assert_eq!(again.already, first.imported.total(), "{kind:?}");
        assert_eq!(again.skipped, first.skipped, "{kind:?}");
    }
    assert_eq!(env.service.count_site(&site()).await.unwrap(), total_before);
    assert_eq!(everything(&env).await, before);
    assert_eq!(published_count(&env, "node/5").await, published);
    // The JSON rows of Drupal are the same comments as the CSV rows.
    let json = run_ok(&env, Kind::Drupal7, &fixture("drupal7.json")).await;
    assert_eq!(json.imported.total(), 0);
    assert_eq!(json.already, 5);
}

async fn oversized_and_empty_comments_are_skipped_with_reasons(db: Db) {
    let Some(env) = open(db).await else { return };
    let comment = |id: u32, body: &str| {
        format!(
            "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
             <wp:comment_date_gmt>2024-01-01 00:00:00</wp:comment_date_gmt>\
             <wp:comment_content><![CDATA[{body}]]></wp:comment_content>\
             <wp:comment_approved>1</wp:comment_approved></wp:comment>\n"
        )
    };
    let xml = format!(
        "<rss><channel><item><link>https://a.example/x</link><wp:post_id>1</wp:post_id>\n{}{}{}</item></channel></rss>\n",
        comment(1, &"é".repeat(20_001)),
        comment(2, "  \n "),
        comment(3, "fine"),
    );
    let path = env.dir.join("sizes.xml");
    std::fs::write(&path, xml).unwrap();
    let report = run_ok(&env, Kind::Wordpress, &path).await;
    assert_eq!(report.imported, counts(1, 0, 0, 0));
    assert_eq!(
        reasons(&report),
        [
            (
                "wordpress:1".to_owned(),
                "the comment has 20001 characters; the limit is 20000 \
                 (raise limits.max_comment_chars and import again)"
                    .to_owned()
            ),
            ("wordpress:2".to_owned(), "the comment is empty".to_owned()),
        ]
    );
}
