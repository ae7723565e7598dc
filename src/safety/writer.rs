//! The writer of the fast path: it can write only escaped text, `<p>`,
//! `<br />` and links whose target passed the URL check.

use super::*;

/// Writes HTML that can hold nothing but escaped text, paragraphs, line
/// breaks and links whose target passed [`check_url`]: the fast path's
/// writer ([`crate::filter`]). Every `<` in its output is one of
/// `<p>`, `</p>`, `<br />`, `<a href="…" rel="…">` (attribute values
/// escaped) and `</a>`, all tags the safety net would itself write for an
/// allow-list that has `p`, `br` and `a` with `href` and `rel`; it writes
/// only the tags the allow-list has, so the output is what [`finalize`]
/// would make of it, and needs no second reading.
pub(crate) struct PlainWriter {
    out: String,
    /// Write `"` and `'` as references too (as `check_plain` does).
    quotes: bool,
    paragraphs: bool,
    breaks: bool,
    links: bool,
    rel: bool,
}

impl PlainWriter {
    /// A writer with room for `capacity` bytes.
    pub(crate) fn new(capacity: usize, quotes: bool, allow: &Allowlist) -> Self {
        PlainWriter {
            out: String::with_capacity(capacity),
            quotes,
            paragraphs: allow.allows_tag("p"),
            breaks: allow.allows_tag("br"),
            links: allow.allows_tag("a") && allow.allows_attribute("a", "href"),
            rel: allow.allows_attribute("a", "rel"),
        }
    }

    /// Text: `&`, `<` and `>` always written as references, quotes too
    /// when the writer was made so. It must hold no character of
    /// [`text::is_forbidden_in_output`] (the fast path takes no input that
    /// does).
    pub(crate) fn text(&mut self, s: &str) {
        debug_assert!(!text::has_forbidden_in_output(s));
        if self.quotes {
            text::escape_into(&mut self.out, s);
        } else {
            text::escape_text_min_into(&mut self.out, s);
        }
    }

    /// A bare line ending.
    pub(crate) fn newline(&mut self) {
        self.out.push('\n');
    }

    /// `<p>`.
    pub(crate) fn open_paragraph(&mut self) {
        if self.paragraphs {
            self.out.push_str("<p>");
        }
    }

    /// `</p>` and a line ending.
    pub(crate) fn close_paragraph(&mut self) {
        if self.paragraphs {
            self.out.push_str("</p>");
        }
        self.out.push('\n');
    }

    /// `<br />` and a line ending.
    pub(crate) fn line_break(&mut self) {
        if self.breaks {
            self.out.push_str("<br />");
        }
        self.out.push('\n');
    }

    /// A link to `href` showing `display` (quotes escaped; then `...` when
    /// `cut`), with `rel` when the policy sets one. The target was checked
    /// against the `url` filter's schemes, which the allow-list holds.
    pub(crate) fn link(&mut self, href: &CheckedUrl, rel: Option<&str>, display: &str, cut: bool) {
        let checked = self.links.then_some(href.as_str());
        if let Some(href) = checked {
            self.out.push_str("<a href=\"");
            text::escape_attr_into(&mut self.out, href);
            self.out.push('"');
            if let Some(rel) = rel.filter(|_| self.rel) {
                self.out.push_str(" rel=\"");
                text::escape_attr_into(&mut self.out, rel);
                self.out.push('"');
            }
            self.out.push('>');
        }
        let linked = checked.is_some();
        // The `url` filter writes a link's text with quotes escaped, and
        // no later step reads them back.
        debug_assert!(!text::has_forbidden_in_output(display));
        text::escape_into(&mut self.out, display);
        if cut {
            self.out.push_str("...");
        }
        if linked {
            self.out.push_str("</a>");
        }
    }

    /// The HTML written.
    pub(crate) fn finish(self) -> SafeHtml {
        SafeHtml(self.out)
    }
}
