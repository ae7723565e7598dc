//! Malformed files: the error names the file and the line, and nothing is
//! stored.

use std::path::Path;

use colloquy::transfer::{ImportError, Kind};

use crate::both_backends;
use crate::helpers::{everything, open, run, site, Db};

both_backends!(malformed_files_name_their_line_and_change_nothing);

/// A WXR file whose comment 2 closes the wrong element on line 12.
const BAD_WXR: &str = "<?xml version=\"1.0\"?>
<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>
<item><title>T</title><link>https://a.example/t</link><wp:post_id>1</wp:post_id>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_date_gmt>2024-01-01 00:00:00</wp:comment_date_gmt>
<wp:comment_content>fine</wp:comment_content><wp:comment_approved>1</wp:comment_approved>
<wp:comment_parent>0</wp:comment_parent></wp:comment>
<wp:comment>
<wp:comment_id>2</wp:comment_id>
<wp:comment_date_gmt>2024-01-01 00:00:00</wp:comment_date_gmt>
<wp:comment_approved>1</wp:comment_approved>
<wp:comment_parent>0</wp:comment_parent>
<wp:comment_content>broken</wp:content>
</wp:comment></item></channel></rss>
";

async fn expect_malformed(
    env: &crate::helpers::Env,
    kind: Kind,
    path: &Path,
    line: u64,
    words: &str,
) {
    let err = run(env, kind, path).await.expect_err("malformed");
    let shown = err.to_string();
    assert!(
        matches!(err, ImportError::Malformed { line: l, .. } if l == line),
        "{kind:?}: {shown}"
    );
    assert!(
        shown.starts_with(&format!("{}:{line}: ", path.display())),
        "{shown}"
    );
    assert!(shown.contains(words), "{shown}");
    assert_eq!(env.service.count_site(&site()).await.unwrap(), 0, "{shown}");
    assert!(everything(env).await.0.is_empty(), "{shown}");
}

async fn malformed_files_name_their_line_and_change_nothing(db: Db) {
    let Some(env) = open(db).await else { return };
    let dir = env.dir.clone();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };

    let wxr = write("bad.xml", BAD_WXR);
    expect_malformed(&env, Kind::Wordpress, &wxr, 12, "malformed XML").await;

    let truncated = write(
        "truncated.xml",
        &BAD_WXR[..BAD_WXR.find("<wp:comment>\n<wp:comment_id>2").unwrap()],
    );
    expect_malformed(
        &env,
        Kind::Wordpress,
        &truncated,
        3,
        "the file ends before <item>",
    )
    .await;

    let not_wxr = write("feed.xml", "<?xml version=\"1.0\"?>\n\n<feed></feed>\n");
    expect_malformed(
        &env,
        Kind::Wordpress,
        &not_wxr,
        3,
        "expected a WordPress export",
    )
    .await;

    let disqus = write(
        "disqus.xml",
        "<disqus xmlns:dsq=\"x\">\n<thread dsq:id=\"1\"><link>https://a.example/</link></thread>\n\
         <post dsq:id=\"2\"><message>ok</message><createdAt>2020-01-01T00:00:00Z</createdAt>\
         <thread dsq:id=\"1\"/></post>\n<post dsq:id=\"3\"><message>a & b</message></post>\n</disqus>\n",
    );
    expect_malformed(&env, Kind::Disqus, &disqus, 4, "malformed XML").await;

    let csv = write(
        "d7.csv",
        "cid,pid,nid,created,status,comment_body_value\n1,0,5,1262304000,1,ok\n\
         2,0,5,1262304000,1,\"multi\nline\"\n3,0,5,1262304000,1\n",
    );
    expect_malformed(
        &env,
        Kind::Drupal7,
        &csv,
        5,
        "this row has 5 fields; the header has 6",
    )
    .await;

    let no_column = write(
        "d7b.csv",
        "cid,nid,created,comment_body_value\n1,5,1262304000,x\n",
    );
    expect_malformed(&env, Kind::Drupal7, &no_column, 1, "no `status` column").await;

    let json = write(
        "d7.json",
        "[\n  {\"cid\": 1, \"pid\": 0, \"nid\": 5, \"created\": 1262304000, \"status\": 1, \"comment_body_value\": \"ok\"},\n  {\"cid\": 2,, }\n]\n",
    );
    expect_malformed(
        &env,
        Kind::Drupal7,
        &json,
        3,
        "malformed JSON: key must be a string",
    )
    .await;

    let native = write(
        "export.jsonl",
        "{\"type\":\"site\",\"id\":\"default\",\"version\":1,\"formats\":[\"filtered_html\"],\
         \"default_format\":\"filtered_html\",\"moderation\":\"rules\",\"hold_links\":2,\
         \"duplicate_window_secs\":600}\n{\"type\":\"comment\",\"id\":\"x\"}\n",
    );
    expect_malformed(
        &env,
        Kind::Colloquy,
        &native,
        2,
        "not a line of a Colloquy export",
    )
    .await;

    let latin1 = dir.join("latin1.xml");
    std::fs::write(
        &latin1,
        b"<?xml version=\"1.0\"?>\n<rss><channel><item><link>https://a.example/</link>\n\
          <wp:comment><wp:comment_id>1</wp:comment_id>\n<wp:comment_content>Caf\xe9</wp:comment_content>\
          </wp:comment></item></channel></rss>\n",
    )
    .unwrap();
    expect_malformed(&env, Kind::Wordpress, &latin1, 4, "not UTF-8").await;

    let deep = write(
        "deep.xml",
        &format!("<rss>\n{}{}</rss>\n", "<a>".repeat(300), "</a>".repeat(300)),
    );
    expect_malformed(&env, Kind::Wordpress, &deep, 2, "nested deeper than 256").await;

    // Broken only at the end of many batches' worth of good comments:
    // parsing and rendering run ahead, but nothing is stored.
    let mut long = String::from(
        "<?xml version=\"1.0\"?>\n<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>\n\
         <item><link>https://a.example/long</link><wp:post_id>9</wp:post_id>\n",
    );
    for id in 1..=5000 {
        long.push_str(&format!(
            "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_date_gmt>2024-01-01 00:00:00\
             </wp:comment_date_gmt><wp:comment_content>comment {id}</wp:comment_content>\
             <wp:comment_approved>1</wp:comment_approved></wp:comment>\n"
        ));
    }
    long.push_str("<wp:comment><wp:comment_id>5001</wp:comment</item></channel></rss>\n");
    let long = write("long.xml", &long);
    expect_malformed(&env, Kind::Wordpress, &long, 5004, "malformed XML").await;

    let missing = dir.join("nope.xml");
    let err = run(&env, Kind::Wordpress, &missing).await.unwrap_err();
    assert!(
        matches!(err, ImportError::Unreadable { .. }) && err.to_string().contains("nope.xml"),
        "{err}"
    );
    let not_isso = write("x.db", "this is not a database at all, just text\n");
    let err = run(&env, Kind::Isso, &not_isso).await.unwrap_err();
    assert!(err.to_string().contains("not an Isso database"), "{err}");
    assert_eq!(env.service.count_site(&site()).await.unwrap(), 0);
}
