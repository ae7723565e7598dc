use super::*;

fn allow() -> Allowlist {
    let mut a = Allowlist::new(
        [
            ("em", vec!["title".to_owned()]),
            ("p", vec![]),
            ("br", vec![]),
            ("blockquote", vec!["cite".to_owned()]),
        ],
        ["http", "https"],
    );
    a.add_tag("a", &["href", "rel"]);
    a
}

fn net(s: &str) -> String {
    finalize(s, &allow()).into_string()
}

#[test]
fn canonical_output_passes_through_unchanged() {
    let s = "<p>a &amp; b &lt; c \u{a0}\"'<br /><em title=\"x &gt; y\">z</em></p>\n";
    assert_eq!(net(s), s);
}

#[test]
fn script_and_style_are_dropped_with_their_content() {
    assert_eq!(net("a<script>alert(1)</script>b<style>x</style>c"), "abc");
    assert_eq!(net("a<svg><p>x</p></svg>b"), "ab");
}

#[test]
fn event_handlers_and_unknown_attributes_never_survive() {
    assert_eq!(
        net("<em onclick=\"x\" class=\"y\" title=\"t\">z</em>"),
        "<em title=\"t\">z</em>"
    );
}

#[test]
fn links_with_disallowed_schemes_lose_their_href() {
    assert_eq!(net("<a href=\"javascript:alert(1)\">x</a>"), "<a>x</a>");
    assert_eq!(
        net("<a href=\"java&#x09;script:alert(1)\">x</a>"),
        "<a>x</a>"
    );
    assert_eq!(
        net("<a href=\"javascript://%0aalert(1)\">x</a>"),
        "<a>x</a>"
    );
    assert_eq!(
        net("<a href=\"http://example.com\" rel=\"nofollow ugc\">x</a>"),
        "<a href=\"http://example.com\" rel=\"nofollow ugc\">x</a>"
    );
}

#[test]
fn stray_angle_brackets_become_text_and_elements_are_balanced() {
    assert_eq!(net("a < b <em>c"), "a &lt; b <em>c</em>");
    assert_eq!(net("</p>x</em>"), "x");
    assert_eq!(net("<em><p>x</em>y"), "<em><p>x</p></em>y");
}

#[test]
fn nesting_beyond_the_bound_is_flattened_keeping_text() {
    let deep = "<em>".repeat(MAX_DEPTH + 10) + "x";
    let out = net(&deep);
    assert_eq!(out.matches("<em>").count(), MAX_DEPTH);
    assert!(out.contains('x'));
}

#[test]
fn bad_references_are_escaped_or_dropped() {
    assert_eq!(net("&foo; &#0; &#x202e; &amp"), "&amp;foo;   &amp;amp");
}

#[test]
fn floor_names_are_found_in_any_case() {
    assert!(FLOOR.windows(2).all(|w| w[0].0 < w[1].0));
    for (name, _) in FLOOR {
        assert_eq!(floor_name(name), Some(*name));
        assert_eq!(floor_name(&name.to_ascii_uppercase()), Some(*name));
    }
    assert_eq!(floor_name("script"), None);
    assert_eq!(floor_name("blockquotes"), None);
    assert_eq!(floor_name("em\u{e9}"), None);
}

#[test]
fn check_url_keeps_the_written_form_of_a_bare_host() {
    let s = vec!["http".to_owned()];
    assert_eq!(
        check_url("http://example.com", &s).as_deref(),
        Some("http://example.com")
    );
    assert_eq!(check_url("http://exa mple.com", &s), None);
    assert_eq!(
        check_url("HTTP://EXAMPLE.COM/X", &s).as_deref(),
        Some("HTTP://EXAMPLE.COM/X")
    );
    assert_eq!(
        check_url("http://example.com/ä", &s).as_deref(),
        Some("http://example.com/ä")
    );
    assert_eq!(
        check_url("http://example.com/a\u{200b}", &s).as_deref(),
        Some("http://example.com/a%E2%80%8B")
    );
    assert_eq!(check_url("ftp://x.org", &s), None);
}

#[test]
fn relative_references_stay_as_written_when_the_page_scheme_is_allowed() {
    let s = vec!["http".to_owned()];
    for relative in [
        "/quote",
        "quote.html",
        "../a/b?c=1#d",
        "#top",
        "?q=x",
        "//example.com/x",
    ] {
        assert_eq!(
            check_url(relative, &s).as_deref(),
            Some(relative),
            "{relative}"
        );
    }
    assert_eq!(check_url("/quote", &["mailto".to_owned()]), None);
    // Whatever the parser reads a scheme in is not relative.
    for absolute in [
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:x",
        "data:text/html,x",
    ] {
        assert_eq!(check_url(absolute, &s), None, "{absolute:?}");
    }
    assert_eq!(
        net("<blockquote cite=\"/quote\">x</blockquote>"),
        "<blockquote cite=\"/quote\">x</blockquote>"
    );
}
