//! The bundled policies, their tips, and loading policy files from disk.

use std::path::{Path, PathBuf};

use colloquy::{LoadError, Policy, PolicySet};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn filtered_html_tips_are_drupals_word_for_word() {
    let set = PolicySet::bundled();
    let p = set.get("filtered_html").expect("bundled");
    assert_eq!(p.name(), "Filtered HTML");
    assert_eq!(
        p.tips(),
        [
            "Allowed HTML tags: <em> <strong> <blockquote> <br> <p>",
            "Web page addresses and e-mail addresses turn into links automatically.",
            "Lines and paragraphs break automatically.",
        ]
    );
    assert!(p.long_tips().len() >= 3);
    assert!(p.long_tips()[0].contains("<blockquote>"));
}

#[test]
fn plain_text_tips_are_drupals_word_for_word() {
    let set = PolicySet::bundled();
    let p = set.get("plain_text").expect("bundled");
    assert_eq!(p.name(), "Plain text");
    assert_eq!(
        p.tips(),
        [
            "No HTML tags allowed.",
            "Web page addresses and e-mail addresses turn into links automatically.",
            "Lines and paragraphs break automatically.",
        ]
    );
}

#[test]
fn the_allowed_tags_tip_follows_the_setting() {
    let text = "id = \"t\"\nname = \"T\"\n[[filter]]\nkind = \"html\"\nallowed_tags = [\"code\", \"em\"]\n";
    let p = Policy::from_toml("t.toml", text).expect("valid");
    assert_eq!(p.tips(), ["Allowed HTML tags: <code> <em>"]);
}

#[test]
fn markdown_renders_markdown_and_keeps_raw_html_to_its_list() {
    let set = PolicySet::bundled();
    let p = set.get("markdown").expect("bundled");
    let out = p.render("**bold** <span>x</span> <script>y</script> [a](javascript:alert(1)) see https://example.com/x").html;
    let out = out.as_str();
    assert!(out.contains("<strong>bold</strong>"), "{out}");
    assert!(
        !out.contains("<span") && !out.contains("<script") && !out.contains('y'),
        "{out}"
    );
    assert!(!out.contains("javascript"), "{out}");
    assert!(
        out.contains("<a href=\"https://example.com/x\" rel=\"nofollow ugc\">"),
        "{out}"
    );
}

#[test]
fn the_policies_directory_holds_the_bundled_formats() {
    let on_disk = PolicySet::load_dir(&repo().join("policies")).expect("valid policies/");
    let bundled = PolicySet::bundled();
    let ids: Vec<&str> = on_disk.ids().collect();
    assert_eq!(ids, ["filtered_html", "markdown", "plain_text"]);
    for p in on_disk.iter() {
        let b = bundled.get(p.id()).expect("same ids");
        assert_eq!(
            p.version(),
            b.version(),
            "{} differs from the bundled copy",
            p.id()
        );
    }
}

#[test]
fn a_changed_policy_file_gets_a_new_version() {
    let text = std::fs::read_to_string(repo().join("policies/plain_text.toml")).expect("readable");
    let a = Policy::from_toml("a.toml", &text).expect("valid");
    let b = Policy::from_toml(
        "b.toml",
        &text.replace("max_display_length = 72", "max_display_length = 40"),
    )
    .expect("valid");
    assert_ne!(a.version(), b.version());
    assert_eq!(a.render("x").policy_version, a.version());
}

#[test]
fn escape_mode_keeps_less_than_discussions_readable() {
    let text = "id = \"t\"\nname = \"T\"\n[[filter]]\nkind = \"html\"\nallowed_tags = [\"em\"]\ndisallowed = \"escape\"\n[[filter]]\nkind = \"autop\"\n";
    let p = Policy::from_toml("t.toml", text).expect("valid");
    assert_eq!(
        p.render("x < y and <b>bold</b> and <em>em</em>")
            .html
            .as_str(),
        "<p>x &lt; y and &lt;b&gt;bold&lt;/b&gt; and <em>em</em></p>\n"
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("colloquy-policies-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_broken_file_is_reported_with_file_line_and_key() {
    let dir = temp_dir("broken");
    std::fs::write(
        dir.join("a.toml"),
        "id = \"a\"\nname = \"A\"\n\n[[filter]]\nkind = \"url\"\nrell = \"x\"\n",
    )
    .expect("write");
    let err = PolicySet::load_dir(&dir).expect_err("must fail");
    let LoadError::Policy(e) = &err else {
        panic!("unexpected {err}")
    };
    assert!(e.file.ends_with("a.toml"));
    assert_eq!((e.line, e.key.as_str()), (6, "rell"));
    assert!(err.to_string().contains("a.toml:6:"), "{err}");
}

#[test]
fn duplicate_ids_and_empty_directories_are_errors() {
    let dir = temp_dir("dup");
    let body = "name = \"A\"\n[[filter]]\nkind = \"html_escape\"\n";
    std::fs::write(dir.join("a.toml"), format!("id = \"same\"\n{body}")).expect("write");
    std::fs::write(dir.join("b.toml"), format!("id = \"same\"\n{body}")).expect("write");
    assert!(matches!(
        PolicySet::load_dir(&dir),
        Err(LoadError::DuplicateId { .. })
    ));
    let empty = temp_dir("empty");
    assert!(matches!(
        PolicySet::load_dir(&empty),
        Err(LoadError::Empty(_))
    ));
    assert!(matches!(
        PolicySet::load_dir(Path::new("/nonexistent/x")),
        Err(LoadError::Io { .. })
    ));
}
