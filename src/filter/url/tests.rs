use super::*;

fn filter() -> UrlFilter {
    UrlFilter {
        grammar: Grammar::Drupal,
        max_display_length: 72,
        rel: Some("nofollow ugc".to_owned()),
        emails: true,
        schemes: ["http", "https", "ftp", "mailto"]
            .map(String::from)
            .to_vec(),
    }
}

fn link(s: &str) -> String {
    let mut out = String::new();
    filter().apply(s, &mut out);
    out
}

#[test]
fn urls_become_links_with_rel() {
    assert_eq!(
        link("see http://example.com/x."),
        "see <a href=\"http://example.com/x\" rel=\"nofollow ugc\">http://example.com/x</a>."
    );
}

#[test]
fn www_and_email_addresses_are_linked() {
    assert_eq!(
        link("www.example.com a@example.org"),
        "<a href=\"http://www.example.com\" rel=\"nofollow ugc\">www.example.com</a> \
         <a href=\"mailto:a@example.org\" rel=\"nofollow ugc\">a@example.org</a>"
    );
}

#[test]
fn text_inside_links_code_and_attributes_is_left_alone() {
    let s = "<a href=\"http://x.org\">http://x.org</a><code>http://y.org</code><em title=\"http://z.org\">z</em>";
    assert_eq!(link(s), s);
}

#[test]
fn parentheses_are_kept_when_balanced() {
    assert!(link("(https://en.wikipedia.org/wiki/A_(b)_c)")
        .contains("href=\"https://en.wikipedia.org/wiki/A_(b)_c\""));
    assert!(link("(see http://example.com/page)").contains("page</a>)"));
}

#[test]
fn escaped_quotes_after_a_url_stay_outside() {
    assert_eq!(
        link("&quot;http://x.com&quot;"),
        "&quot;<a href=\"http://x.com\" rel=\"nofollow ugc\">http://x.com</a>&quot;"
    );
}

#[test]
fn disallowed_schemes_are_not_linked() {
    assert_eq!(link("javascript://%0aalert(1)"), "javascript://%0aalert(1)");
    assert_eq!(link("ssh://git@example.org/x"), "ssh://git@example.org/x");
}

#[test]
fn words_glued_before_a_scheme_prevent_linking() {
    assert_eq!(link("gluedhttp://example.com"), "gluedhttp://example.com");
}

#[test]
fn long_display_text_is_cut_at_a_character_boundary() {
    let addr = format!("http://example.com/{}", "ü".repeat(60));
    let out = link(&addr);
    let caption = out.split('>').nth(1).unwrap_or_default();
    assert!(caption.ends_with("...</a"));
    assert!(caption.len() <= 72 + 3 + 3);
}

#[test]
fn dots_after_multibyte_characters_are_not_mistaken_for_www() {
    assert_eq!(link("é. ü. 記.www"), "é. ü. 記.www");
    assert_eq!(link("ééé.www.x"), "ééé.www.x");
}

#[test]
fn links_are_cut_from_the_original_text_around_references() {
    assert_eq!(
        link("&lt;&eacute; http://x.org/a&amp;b &quot;z&quot;"),
        "&lt;&eacute; <a href=\"http://x.org/a&amp;b\" rel=\"nofollow ugc\">http://x.org/a&amp;b</a> &quot;z&quot;"
    );
}

#[test]
fn a_very_long_host_is_still_judged_on_all_of_it() {
    let host = format!("http://{}.example/x", "a".repeat(600));
    assert!(link(&host).contains("<a href="));
}

#[test]
fn tags_with_any_characters_never_split_a_character() {
    // Found by fuzzing: `url` first in a policy sees raw `<` and text.
    assert_eq!(
        link("<é> <a\u{e9}> </é> http://x.org"),
        "<é> <a\u{e9}> </é> <a href=\"http://x.org\" rel=\"nofollow ugc\">http://x.org</a>"
    );
    assert_eq!(link("<aé>http://x.org</aé>").matches("<a href").count(), 1);
}

proptest::proptest! {
    /// The hand-written matchers find exactly what the regular
    /// expressions of Drupal's grammar find.
    #[test]
    fn matchers_agree_with_the_grammar(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "http:", "HTTPS://", "ftp://", "mailto:", "www.", "WWW.", "a", "bc", "é", "ü", "例", "д", "1", "12",
            "123", "1234", ".", "..", "-", "_", "+", "@", ":", "/", "//", "?", "#", " ", "x@", "com", "org",
            "co.uk", "localhost", "(", ")", "&", "-www.", "http:-", "a.b.",
        ]), 1..16),
    ) {
        let text: String = pieces.concat();
        // One memory of runs for all candidates, as the filter uses it.
        let mut runs = Runs::default();
        for start in scheme_candidates(&text) {
            let expected = FULL_URL.find(&text[start..]).map(|m| start + m.end());
            proptest::prop_assert_eq!(full_url_at(&text, start, &mut runs), expected, "{:?} at {}", text, start);
        }
        let mut runs = Runs::default();
        for start in www_candidates(&text) {
            let expected = WWW.find(&text[start..]).map(|m| start + m.end());
            proptest::prop_assert_eq!(www_at(&text, start, &mut runs), expected, "{:?} at {}", text, start);
        }
    }
}

#[test]
fn an_email_domain_needs_a_dot() {
    for bare in [
        "user@localhost",
        "root@intranet now",
        "a.b+c@server.",
        "(x@host)",
        "x@host, y@host2",
    ] {
        assert!(!link(bare).contains("mailto:"), "{bare}");
    }
    for dotted in [
        "user@localhost.localdomain",
        "a@b.co",
        "x@mail.example.org.",
    ] {
        assert!(link(dotted).contains("mailto:"), "{dotted}");
    }
    // A full URL's host needs no dot; `mailto:` makes one.
    assert!(link("mailto:root@localhost").contains("href=\"mailto:root@localhost\""));
}

#[test]
fn glued_addresses_never_overlap() {
    let out = link("user@example.comuser@example.com");
    assert_eq!(out.matches("<a ").count(), 1, "{out}");
}

#[test]
fn email_local_parts_are_whole_words() {
    assert!(link("élodie@example.fr").contains(">élodie@example.fr<"));
    assert_eq!(link("почта@example.ru"), "почта@example.ru");
}

#[test]
fn look_alike_hosts_are_not_linked_but_single_script_ones_are() {
    assert_eq!(link("www.\u{435}xample.com"), "www.\u{435}xample.com");
    assert!(link("www.bücher.de").contains("href=\"http://www.bücher.de\""));
}

#[test]
fn linkify_grammar_finds_links_too() {
    let mut f = filter();
    f.grammar = Grammar::Linkify;
    let mut out = String::new();
    f.apply("go to https://example.com/a.", &mut out);
    assert!(out.contains("<a href=\"https://example.com/a\""));
}

#[test]
fn a_linkify_link_without_a_scheme_of_its_own_gets_http_even_with_a_later_scheme() {
    let mut f = filter();
    f.grammar = Grammar::Linkify;
    // Found by fuzzing: the `://` belongs to the path, not to the link.
    for (input, href) in [
        (
            "ample.com/@handlehttps://example.com/@handle",
            "http://ample.com/@handlehttps://example.com/@handle",
        ),
        (
            "see example.org/a?u=http://x.test",
            "http://example.org/a?u=http://x.test",
        ),
        ("see https://example.org/a", "https://example.org/a"),
        ("see svn+ssh://example.org/a", ""),
    ] {
        let mut out = String::new();
        f.apply(input, &mut out);
        if href.is_empty() {
            assert!(!out.contains("href=\"svn"), "{input}: {out}");
        } else {
            assert!(out.contains(&format!("href=\"{href}\"")), "{input}: {out}");
        }
    }
}
