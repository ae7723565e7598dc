use super::drupal::SHORT_SPACE_RUN;
use super::*;

fn tag(src: &str) -> (Tag<'_>, usize) {
    match read(src, 0) {
        Read {
            markup: Markup::Tag(t),
            end,
        } => (t, end),
        other => panic!("{src:?} read as {other:?}"),
    }
}

fn attrs<'a>(t: &Tag<'a>) -> Vec<(&'a str, Option<&'a str>)> {
    t.attributes().map(|a| (a.name, a.value)).collect()
}

#[test]
fn tags_read_as_a_browser_reads_them() {
    let (t, end) = tag("<em title=\"a > b\" lang=fr>x");
    assert_eq!(
        (t.name, t.is_end, t.self_closing, end),
        ("em", false, false, 26)
    );
    assert_eq!(attrs(&t), [("title", Some("a > b")), ("lang", Some("fr"))]);
    let (t, end) = tag("<br/>");
    assert_eq!((t.name, t.self_closing, end), ("br", true, 5));
    let (t, _) = tag("</P >");
    assert!(t.is_end && t.is("p"));
    let (t, _) = tag("<a =x b c=\"1\"d='2'/ e>");
    assert_eq!(
        attrs(&t),
        [
            ("=x", None),
            ("b", None),
            ("c", Some("1")),
            ("d", Some("2")),
            ("e", None)
        ]
    );
    let (t, _) = tag("<a b=>");
    assert_eq!(attrs(&t), [("b", Some(""))]);
}

#[test]
fn a_tag_the_input_ends_in_runs_to_the_end() {
    for s in ["<b title=\"x>", "<b x", "<b x=y", "<b x=", "<b"] {
        let (t, end) = tag(s);
        assert!(!t.terminated, "{s}");
        assert_eq!(end, s.len(), "{s}");
    }
}

#[test]
fn comments_and_bogus_comments_end_where_browsers_end_them() {
    fn end(s: &str) -> (Markup<'_>, usize) {
        let r = read(s, 0);
        (r.markup, r.end)
    }
    assert_eq!(end("<!-->x"), (Markup::Comment, 5));
    assert_eq!(end("<!--->x"), (Markup::Comment, 6));
    assert_eq!(end("<!-- a -- b --!>x"), (Markup::Comment, 16));
    assert_eq!(end("<!--!>-->"), (Markup::Comment, 9));
    assert_eq!(end("<!-- open"), (Markup::Comment, 9));
    assert_eq!(end("<!DOCTYPE html>x"), (Markup::Bogus, 15));
    assert_eq!(end("<?php x ?>y"), (Markup::Bogus, 10));
    assert_eq!(end("</ x>y"), (Markup::Bogus, 5));
    assert_eq!(end("</>y"), (Markup::Bogus, 3));
    assert_eq!(end("</"), (Markup::Text, 1));
    assert_eq!(end("< b>"), (Markup::Text, 1));
    assert_eq!(end("<3"), (Markup::Text, 1));
}

#[test]
fn next_remembers_that_nothing_follows() {
    let hay = b"<<<<<<<<";
    let mut next = Next::new(b">");
    work::take();
    for i in 0..hay.len() {
        assert_eq!(next.at_or_after(hay, i), None);
    }
    assert!(work::take() <= hay.len() as u64 + 1);
}

#[test]
fn a_slash_before_long_spaces_is_found_and_remembered() {
    let spaces = " ".repeat(3 * SHORT_SPACE_RUN);
    let text = format!("<y/{spaces}><z{spaces}>");
    let mut d = Drupal::new(&text);
    let first_gt = 3 + spaces.len();
    assert!(d.slash_before(2, first_gt));
    assert!(d.slash_before(2, first_gt), "remembered answer");
    assert!(!d.slash_before(4, first_gt), "the slash is before `from`");
    assert!(!d.slash_before(first_gt + 3, text.len() - 1));
}

#[test]
fn drupal_extents_skip_quoted_values_and_fall_back_to_the_first_gt() {
    let mut d = Drupal::new("<y a=\">\" b>z");
    assert_eq!(d.extent(2), (11, true));
    let mut d = Drupal::new("<y a=\"> b");
    assert_eq!(d.extent(2), (7, true));
    let mut d = Drupal::new("<y a b");
    assert_eq!(d.extent(2), (6, false));
}
