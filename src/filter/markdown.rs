//! `markdown`: CommonMark through pulldown-cmark.
//!
//! Raw HTML inside the Markdown is passed on as HTML, so a policy puts an
//! `html` filter after this one to decide which of it may stay (the bundled
//! `markdown` format does).

use std::borrow::Cow;

use pulldown_cmark::{html, Options, Parser};

use crate::markup;

/// Block quotes and list items opened on one line beyond this many are not
/// opened (their content goes into the innermost one kept): `>` costs one
/// byte and opens a container that pulldown-cmark keeps in memory and
/// writes as 27 bytes of HTML; the safety net flattens this deep anyway.
const MAX_CONTAINERS: usize = crate::safety::MAX_DEPTH;

/// The compiled `markdown` filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct MarkdownFilter {
    pub(crate) tables: bool,
    pub(crate) strikethrough: bool,
}

impl MarkdownFilter {
    /// Appends the HTML for Markdown `input` to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        let mut options = Options::empty();
        if self.tables {
            options.insert(Options::ENABLE_TABLES);
        }
        if self.strikethrough {
            options.insert(Options::ENABLE_STRIKETHROUGH);
        }
        let input = cap_containers(input);
        // pulldown-cmark's own work is not counted; its share is in the
        // render benchmark's flood table.
        markup::examined(input.len() + 1);
        html::push_html(out, Parser::new_ext(&input, options));
    }

    /// The tags this filter can produce, for the safety net.
    pub(crate) fn produced_tags(&self) -> Vec<&'static str> {
        let mut tags = vec![
            "p",
            "em",
            "strong",
            "a",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "br",
        ];
        if self.tables {
            tags.extend(["table", "thead", "tbody", "tr", "th", "td"]);
        }
        if self.strikethrough {
            tags.push("del");
        }
        tags
    }
}

/// `input` with at most [`MAX_CONTAINERS`] container markers opening each
/// line.
fn cap_containers(input: &str) -> Cow<'_, str> {
    let b = input.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut line = 0;
    while line < b.len() {
        let line_end = markup::find_byte(b, line, b'\n').map_or(b.len(), |i| i + 1);
        let mut at = line;
        let mut cut = None;
        let mut count = 0;
        while let Some(next) = container_marker(&b[..line_end], at) {
            count += 1;
            if count == MAX_CONTAINERS + 1 {
                cut = Some(at);
            }
            at = next;
        }
        if let Some(cut) = cut {
            out.push_str(&input[copied..cut]);
            copied = at;
        }
        line = line_end;
    }
    if copied == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[copied..]);
    Cow::Owned(out)
}

/// The end of the block quote (`>`) or list item marker (`-`, `+`, `*`,
/// `1.`, `1)`) at `at`, after up to three spaces and with the space or tab
/// that follows it.
fn container_marker(b: &[u8], at: usize) -> Option<usize> {
    let indent = b[at..].iter().take(4).take_while(|&&c| c == b' ').count();
    if indent > 3 {
        return None;
    }
    let m = at + indent;
    let after = match *b.get(m)? {
        b'>' => m + 1,
        b'-' | b'+' | b'*' => m + 1,
        c if c.is_ascii_digit() => {
            let digits = b[m..]
                .iter()
                .take(10)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > 9 || !matches!(b.get(m + digits), Some(b'.' | b')')) {
                return None;
            }
            m + digits + 1
        }
        _ => return None,
    };
    markup::examined(after - at + 1);
    match b.get(after) {
        Some(b' ' | b'\t') => Some(after + 1),
        // A list marker needs a space after it; `>` does not.
        _ if b[m] == b'>' => Some(after),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> String {
        let mut out = String::new();
        MarkdownFilter::default().apply(s, &mut out);
        out
    }

    #[test]
    fn emphasis_and_paragraphs_render() {
        assert_eq!(
            md("*a* **b**\n\nc"),
            "<p><em>a</em> <strong>b</strong></p>\n<p>c</p>\n"
        );
    }

    #[test]
    fn code_spans_escape_markup() {
        assert_eq!(md("`<b>`"), "<p><code>&lt;b&gt;</code></p>\n");
    }

    #[test]
    fn containers_beyond_the_bound_are_not_opened() {
        let deep = ">".repeat(MAX_CONTAINERS + 40) + "x";
        let html = md(&deep);
        assert_eq!(html.matches("<blockquote>").count(), MAX_CONTAINERS);
        assert!(html.contains("<p>x</p>"));
        let lists = "1. - > ".repeat(MAX_CONTAINERS) + "y\n";
        let items = (0..MAX_CONTAINERS).filter(|i| i % 3 != 2).count();
        assert_eq!(md(&lists).matches("<li>").count(), items);
        // Below the bound nothing changes.
        let shallow = "> - > 1. z\n\n* * *\n";
        assert!(matches!(cap_containers(shallow), Cow::Borrowed(_)));
    }

    #[test]
    fn strikethrough_needs_the_setting() {
        assert_eq!(md("~~x~~"), "<p>~~x~~</p>\n");
        let mut out = String::new();
        MarkdownFilter {
            tables: false,
            strikethrough: true,
        }
        .apply("~~x~~", &mut out);
        assert_eq!(out, "<p><del>x</del></p>\n");
    }
}
