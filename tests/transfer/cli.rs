//! `colloquy import` and `colloquy export` as a user runs them.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::{fixture, temp_dir};

fn colloquy(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the colloquy binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_reports_counts_and_skips_then_export_writes_the_site() {
    let dir = temp_dir();
    let db = format!("sqlite:{}", dir.join("c.db").display());
    let wxr = fixture("wordpress.xml");
    let wxr = wxr.to_str().unwrap();
    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "wordpress",
            wxr,
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "default: 9 records read from {wxr}; 6 comments imported in 2 threads \
             (published 3, pending 1, spam 1, trash 1); 0 already there; 3 skipped"
        )
    );
    assert_eq!(
        lines.next().unwrap(),
        format!("skipped {wxr}:131: wordpress:106: a pingback, not a reader's comment")
    );
    assert!(out.contains("note: homepages that are not http(s) addresses: 1 left out"));

    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "wordpress",
            wxr,
            "--database",
            &db,
        ],
    );
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("0 comments imported in 2 threads (published 0, pending 0, spam 0, trash 0); 6 already there; 3 skipped"));

    // Export to stdout, without and with private fields, and to a file.
    let o = colloquy(&dir, &["export", "--site", "default", "--database", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let public = text(&o.stdout);
    assert_eq!(
        public
            .lines()
            .filter(|l| l.contains("\"type\":\"comment\""))
            .count(),
        6
    );
    assert!(!public.contains("zoe@example.org"));
    assert!(text(&o.stderr).contains("default: exported 2 threads and 6 comments"));
    let o = colloquy(
        &dir,
        &[
            "export",
            "--site",
            "default",
            "--include-private",
            "--database",
            &db,
        ],
    );
    assert!(text(&o.stdout).contains("zoe@example.org"));
    let target = dir.join("site.xml");
    let o = colloquy(
        &dir,
        &[
            "export",
            "--site",
            "default",
            "--format",
            "wxr",
            "--output",
            target.to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("<?xml") && written.trim_end().ends_with("</rss>"));

    // The WXR export imports into a new database with the same comments.
    let db2 = format!("sqlite:{}", dir.join("c2.db").display());
    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "wordpress",
            target.to_str().unwrap(),
            "--database",
            &db2,
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout)
        .contains("6 comments imported in 2 threads (published 3, pending 1, spam 1, trash 1)"));
    let o = colloquy(&dir, &["export", "--site", "default", "--database", &db2]);
    assert_eq!(text(&o.stdout), public);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_an_error_naming_file_and_line() {
    let dir = temp_dir();
    let db = format!("sqlite:{}", dir.join("c.db").display());
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "cid,pid,nid,created,status,comment_body_value\n1,0,5,1262304000,1,ok\n2,0,5\n",
    )
    .unwrap();
    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "drupal7",
            bad.to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert_eq!(
        text(&o.stderr).trim(),
        format!(
            "colloquy: {}:3: this row has 3 fields; the header has 6",
            bad.display()
        )
    );
    // Nothing was stored: the export is the site line alone.
    let o = colloquy(&dir, &["export", "--site", "default", "--database", &db]);
    assert_eq!(text(&o.stdout).lines().count(), 1);

    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "blogger",
            "x",
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains(
        "unknown source `blogger`; choose one of: wordpress, disqus, drupal7, isso, colloquy"
    ));
    let o = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "nosuch",
            "--from",
            "wordpress",
            fixture("wordpress.xml").to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("nosuch"));
    let o = colloquy(
        &dir,
        &[
            "export",
            "--site",
            "default",
            "--format",
            "csv",
            "--database",
            &db,
        ],
    );
    assert!(text(&o.stderr).contains("unknown export format `csv`; choose json or wxr"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reader_that_goes_away_does_not_undo_or_crash_the_import() {
    let dir = temp_dir();
    let db = format!("sqlite:{}", dir.join("p.db").display());
    let wxr = fixture("wordpress.xml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["import", "--site", "default", "--from", "wordpress"])
        .arg(&wxr)
        .args(["--database", &db])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the colloquy binary runs");
    // Like `colloquy import … | head -0`: nobody reads the report.
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("it ends");
    let stderr = text(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The comments are stored all the same.
    let again = colloquy(
        &dir,
        &[
            "import",
            "--site",
            "default",
            "--from",
            "wordpress",
            wxr.to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(
        text(&again.stdout).contains("6 already there"),
        "{}",
        text(&again.stdout)
    );
}
