//! The fast path: a comment with no markup, rendered in one pass.
//!
//! Most comments are prose: no tag, no character reference, no Markdown
//! syntax. For those, every bundled format's pipeline reduces to three
//! things — escape the text, link its addresses, break it into paragraphs
//! and lines — and this module does them together, writing the final HTML
//! once, with [`PlainWriter`](crate::safety::PlainWriter): a writer that can
//! only produce escaped text, `<p>`, `<br />` and links whose target passed
//! the safety net's URL check, so its output needs no second reading.
//!
//! A pipeline gets a fast path only when its filters have one of the
//! shapes below (those of the bundled formats, whatever their settings);
//! a comment takes it only when it provably holds nothing the full
//! pipeline would treat differently ([`FastPath::render`] answers `None`
//! otherwise). Property tests compare the two byte for byte.

use super::url::{Grammar, UrlFilter};
use super::{autop, html, Filter};
use crate::safety::{Allowlist, CheckedUrl, PlainWriter, SafeHtml};
use crate::text;

/// A pipeline shape with a fast path.
#[derive(Debug, Clone)]
pub(crate) enum FastPath {
    /// `html_escape`, `url` (Drupal grammar), `autop`: Plain text.
    Escaped { url: UrlFilter },
    /// `html` (lenient), `url` (Drupal grammar), `autop`,
    /// `html_corrector`: Filtered HTML.
    Filtered { url: UrlFilter },
    /// `markdown`, `html` (html5), `url`: Markdown.
    Markdown { url: UrlFilter },
}

impl FastPath {
    /// The fast path for these filters, if they have a shape that has one.
    pub(crate) fn detect(filters: &[Filter]) -> Option<FastPath> {
        match filters {
            [Filter::HtmlEscape(_), Filter::Url(url), Filter::Autop(_)]
                if url.grammar == Grammar::Drupal =>
            {
                Some(FastPath::Escaped { url: url.clone() })
            }
            [Filter::Html(h), Filter::Url(url), Filter::Autop(_), Filter::HtmlCorrector(_)]
                if h.parser == html::Parser::Lenient && url.grammar == Grammar::Drupal =>
            {
                Some(FastPath::Filtered { url: url.clone() })
            }
            [Filter::Markdown(_), Filter::Html(h), Filter::Url(url)]
                if h.parser == html::Parser::Html5 =>
            {
                Some(FastPath::Markdown { url: url.clone() })
            }
            _ => None,
        }
    }

    /// Renders `input` (already normalized: no forbidden character, no
    /// `\r`) when it has nothing the fast path does not handle; `None`
    /// sends it down the full pipeline.
    pub(crate) fn render(&self, input: &str, allow: &Allowlist) -> Option<SafeHtml> {
        // Form feed, U+FFFE and U+FFFF survive normalization; the safety
        // net removes them from output, after the line breaks are placed.
        if text::has_forbidden_in_output(input) {
            return None;
        }
        self.render_clean(input, allow)
    }

    /// [`Self::render`] for input known to hold no character of
    /// [`text::has_forbidden_in_output`] (nor `\r`).
    pub(crate) fn render_clean(&self, input: &str, allow: &Allowlist) -> Option<SafeHtml> {
        match self {
            FastPath::Escaped { url } => {
                let text = text::php_trim(input);
                let mut w = PlainWriter::new(text.len() + text.len() / 8 + 16, true, allow);
                drupal(text, url, &mut w);
                Some(w.finish())
            }
            FastPath::Filtered { url } => {
                if !is_plain_for_filtered_html(input) {
                    return None;
                }
                // The `html` filter trims as `check_plain` + `trim` do.
                let text = text::php_trim(input);
                let mut w = PlainWriter::new(text.len() + text.len() / 8 + 16, false, allow);
                drupal(text, url, &mut w);
                Some(w.finish())
            }
            FastPath::Markdown { url } => {
                if !is_plain_for_markdown(input) {
                    return None;
                }
                let mut w = PlainWriter::new(input.len() + input.len() / 8 + 16, false, allow);
                markdown(input, url, &mut w);
                Some(w.finish())
            }
        }
    }
}

/// No tag and no character reference: what the `html` filter, the
/// corrector and `autop`'s tag rules leave as it is. An `&` that cannot
/// start a reference (`&`, `a & b`, `?x=1&y_z=2`) is only escaped.
fn is_plain_for_filtered_html(s: &str) -> bool {
    let b = s.as_bytes();
    if memchr::memchr2(b'<', b'>', b).is_some() {
        return false;
    }
    memchr::memchr_iter(b'&', b).all(|i| is_literal_ampersand(s, i))
}

/// An `&` that no filter reads as the start of a reference: not `&#`, not
/// `&{`, not `&` + letters and digits + `;`.
fn is_literal_ampersand(s: &str, i: usize) -> bool {
    let b = s.as_bytes();
    let mut j = i + 1;
    if b.get(j) == Some(&b'#') {
        return false;
    }
    // `&{…}`, `& {…}`: the `html` filter removes Netscape's script entities.
    let mut k = j;
    while b.get(k).is_some_and(u8::is_ascii_whitespace) {
        k += 1;
    }
    if b.get(k) == Some(&b'{') {
        return false;
    }
    while b.get(j).is_some_and(u8::is_ascii_alphanumeric) {
        j += 1;
    }
    b.get(j) != Some(&b';')
}

/// Prose CommonMark reads as paragraphs of text and nothing else: no
/// character that can start inline syntax (emphasis, code, links, escapes,
/// HTML, strikethrough, tables; `_` only inside a word, where it cannot
/// open emphasis), no line that can start a block other than
/// a paragraph (indented, a heading, a quote, a list item, a rule, a
/// setext underline, a fence), no hard line break (trailing spaces or
/// backslash), no tab, and none of the characters html5ever's serializer
/// writes as references (U+00A0) or treats apart (U+0080–U+00BF), nor
/// Unicode spaces.
fn is_plain_for_markdown(s: &str) -> bool {
    let b = s.as_bytes();
    let mut line_start = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\\' | b'`' | b'*' | b'[' | b']' | b'<' | b'>' | b'~' | b'|' | b'\t' => return false,
            // A run of `_` right after a letter or digit cannot open
            // emphasis (`utm_source`, `Rust_(language)`), so with no other
            // it is text.
            b'_' if !(i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) => {
                return false
            }
            b'&' if !is_literal_ampersand(s, i) => return false,
            b'\n' => {
                if i > 0 && b[i - 1] == b' ' {
                    return false;
                }
                line_start = true;
                continue;
            }
            // The second byte of U+0080–U+00BF; U+0085 and U+00A0 are
            // among them.
            0xc2 => return false,
            // U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
            0xe1..=0xe3
                if matches!(
                    (c, b.get(i + 1), b.get(i + 2)),
                    (0xe1, Some(0x9a), Some(0x80))
                        | (0xe2, Some(0x80), Some(0x80..=0x8a | 0xa8 | 0xa9 | 0xaf))
                        | (0xe2, Some(0x81), Some(0x9f))
                        | (0xe3, Some(0x80), Some(0x80))
                ) =>
            {
                return false
            }
            _ => {}
        }
        if line_start
            && (c.is_ascii_digit() || matches!(c, b' ' | b'#' | b'-' | b'+' | b'=' | b':'))
        {
            return false;
        }
        line_start = false;
    }
    b.last() != Some(&b' ')
}

/// Plain text and Filtered HTML: `autop`'s paragraphs of `text`, with the
/// `url` filter's links in them.
fn drupal(text: &str, url: &UrlFilter, w: &mut PlainWriter) {
    let mut links = Links::new(text, url);
    autop::text_paragraphs(text, |piece| match piece {
        autop::Piece::Open => w.open_paragraph(),
        autop::Piece::Text(start, end) => links.write(w, start, end),
        autop::Piece::Break => w.line_break(),
        autop::Piece::Newline => w.newline(),
        autop::Piece::Close => w.close_paragraph(),
    });
}

/// Markdown: each paragraph is a run of non-blank lines, written with its
/// line endings as they are; the `url` filter links each one apart, as it
/// sees each between `<p>` and `</p>`.
fn markdown(text: &str, url: &UrlFilter, w: &mut PlainWriter) {
    let b = text.as_bytes();
    let mut at = 0;
    while at < b.len() {
        if b[at] == b'\n' {
            at += 1;
            continue;
        }
        let end = memchr::memmem::find(&b[at..], b"\n\n").map_or(b.len(), |i| at + i);
        let para = text[at..end].trim_end_matches('\n');
        w.open_paragraph();
        Links::new(para, url).write(w, 0, para.len());
        w.close_paragraph();
        at = end;
    }
}

/// The links of one text, written as the text's pieces come.
struct Links<'t> {
    text: &'t str,
    /// `(start, end, href, display end, cut)`, left to right.
    found: Vec<(usize, usize, CheckedUrl, usize, bool)>,
    next: usize,
    rel: Option<&'t str>,
}

impl<'t> Links<'t> {
    fn new(text: &'t str, url: &'t UrlFilter) -> Self {
        let mut found = Vec::new();
        if url.has_candidate(text) {
            url.each_link(text, |l| {
                found.push((
                    l.start,
                    l.end,
                    l.href.clone(),
                    l.start + l.display.len(),
                    l.cut,
                ));
            });
        }
        Links {
            text,
            found,
            next: 0,
            rel: url.rel.as_deref(),
        }
    }

    /// Writes `text[start..end]`, which no link crosses the edges of (links
    /// hold no whitespace, pieces are cut at whitespace).
    fn write(&mut self, w: &mut PlainWriter, start: usize, end: usize) {
        let mut at = start;
        while let Some((s, e, href, display_end, cut)) = self.found.get(self.next) {
            if *s >= end {
                break;
            }
            w.text(&self.text[at..*s]);
            w.link(href, self.rel, &self.text[*s..*display_end], *cut);
            at = *e;
            self.next += 1;
        }
        w.text(&self.text[at..end]);
    }
}

#[cfg(test)]
mod tests {
    use crate::PolicySet;

    const FORMATS: [&str; 3] = ["plain_text", "filtered_html", "markdown"];

    /// Pieces of text: prose, line and paragraph breaks, addresses good and
    /// bad, punctuation, markup characters and syntax, Unicode letters,
    /// spaces and controls.
    const PIECES: &[&str] = &[
        "word", "Other", "café", "日本語", "🎉", "—", "’", "x", "1", "2024", " ", " ", " ", "  ",
        "\n", "\n", "\n\n", "\n\n\n", " \n", "\n ", "\r\n", "\r\n\r\n", "\t", "\u{b}", "\u{c}",
        "\u{a0}", "\u{2003}", "\u{2028}", "\u{85}", "\u{fffe}", ".", ",", "!", "?", ";", ":", "'",
        "\"", "(", ")", "[", "]", "-", "+", "=", "#", "*", "_", "`", "~", "|", "\\", "&", "&amp;",
        "&#39;", "&x_y=1", "&AMP;", "<", ">", "<em>", "1. ", "- ", "> ", "http://example.com/",
        "https://www.example.org/a?b=1&c_d=2#e", "www.example.net/p.html", "ftp://ftp.example.com/x",
        "https://en.wikipedia.org/wiki/Rust_(lang)", "http://例え.テスト/パス", "someone@example.com",
        "jane.doe+news@mail.example.org", "user@localhost", "mailto:a@b.org", "javascript:alert(1)",
        "http://", "www.", "@", "example.com", "http://a.b/'x'\"y\"",
        "https://example.com/a-very-long-path/that-goes-on/and-on/and-on/for-more-than/seventy-two/characters",
    ];

    static SET: std::sync::LazyLock<PolicySet> = std::sync::LazyLock::new(PolicySet::bundled);

    /// Pieces the fast path takes in every format: prose, breaks,
    /// addresses, punctuation.
    const PROSE: &[&str] = &[
        "word", "Other", "café", "日本語", "🎉", "—", "’", "x", "1", " ", " ", " ", "  ", "\n",
        "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", ".", ",", "!", "?", ";", ":", "'", "\"",
        "(", ")", "&", "& ", "&x=1", "/", "@", "www.", "http://", "http://example.com/",
        "https://www.example.org/a?b=1&c=2#e", "www.example.net/p.html", "ftp://ftp.example.com/x",
        "http://例え.テスト/パス", "someone@example.com", "jane.doe+news@mail.example.org",
        "user@localhost", "mailto:a@b.org", "javascript:alert(1)", "example.com", "a.b.c", "_", "a_b", "x__y_", "Rust_(lang)", "?utm_source=x",
        "http://a.b/'x'\"y\"", "https://example.com/a-very-long-path/that-goes-on/and-on/and-on/for-more-than/seventy-two/characters",
    ];

    fn compare(format: &str, text: &str) -> Result<bool, proptest::test_runner::TestCaseError> {
        let set = &*SET;
        let pipeline = set.get(format).map(|p| p.pipeline());
        let Some(pipeline) = pipeline else {
            return Err(proptest::test_runner::TestCaseError::fail(format!(
                "no {format}"
            )));
        };
        let Some(fast) = pipeline.render_fast(text) else {
            return Ok(false);
        };
        let full = pipeline.render_full(text);
        proptest::prop_assert_eq!(fast.as_str(), full.as_str(), "{} {:?}", format, text);
        Ok(true)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Whenever the fast path takes a comment, it writes byte for byte
        /// what the full pipeline writes, in every bundled format.
        #[test]
        fn the_fast_path_writes_what_the_pipeline_writes(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
        ) {
            let text: String = pieces.concat();
            for format in FORMATS {
                compare(format, &text)?;
            }
        }

        /// The same on prose, which the fast path takes (mostly).
        #[test]
        fn the_fast_path_writes_what_the_pipeline_writes_on_prose(
            pieces in proptest::collection::vec(proptest::sample::select(PROSE), 0..32),
        ) {
            let text: String = pieces.concat();
            for format in FORMATS {
                compare(format, &text)?;
            }
        }

        /// The same on any text at all.
        #[test]
        fn the_fast_path_agrees_on_any_text(text in "\\PC{0,40}|[ -~\\n]{0,60}") {
            for format in FORMATS {
                compare(format, &text)?;
            }
        }
    }

    #[test]
    fn prose_with_addresses_takes_the_fast_path_in_every_format() {
        let prose = "Thanks for the article, I read it twice.\nSee http://example.com/a?x=1&y=2 \
                     or write to someone@example.com — café, 日本語!\r\n\r\nSecond paragraph.\n\n\n";
        for format in FORMATS {
            assert!(compare(format, prose).unwrap_or(false), "{format}");
        }
    }

    #[test]
    fn markup_and_syntax_take_the_full_pipeline() {
        let set = PolicySet::bundled();
        let take = |format: &str, text: &str| {
            set.get(format)
                .and_then(|p| p.pipeline().render_fast(text))
                .is_some()
        };
        for text in ["a <em>b</em>", "a &amp; b", "x &#39; y", "a > b"] {
            assert!(!take("filtered_html", text), "{text:?}");
            assert!(take("plain_text", text), "{text:?}");
        }
        for text in [
            "*a*",
            "_a_",
            "a _b_",
            "(_a_)",
            "__a__",
            "`c`",
            "# h",
            "1. x",
            "- x",
            "> q",
            "a  \nb",
            "a\\\nb",
            "x\n===",
            "    code",
            "[a]: http://x.org",
            "~~s~~",
            "a\u{a0}b",
        ] {
            assert!(!take("markdown", text), "{text:?}");
        }
    }
}

#[cfg(test)]
mod share {
    /// How many comments of a JSON-lines file each bundled format renders
    /// on the fast path: `COLLOQUY_FAST_SAMPLE=corpus.jsonl cargo test
    /// --lib fast_path_share -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand"]
    fn fast_path_share() {
        let Ok(path) = std::env::var("COLLOQUY_FAST_SAMPLE") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let comments: Vec<String> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let set = crate::PolicySet::bundled();
        for format in ["plain_text", "filtered_html", "markdown"] {
            let Some(p) = set.get(format) else { continue };
            let fast: Vec<&String> = comments
                .iter()
                .filter(|c| p.pipeline().render_fast(c).is_some())
                .collect();
            let bytes: usize = fast.iter().map(|c| c.len()).sum();
            let all: usize = comments.iter().map(String::len).sum();
            eprintln!(
                "{format}: {} of {} comments, {bytes} of {all} bytes",
                fast.len(),
                comments.len()
            );
        }
    }
}
