//! `markdown`: CommonMark through pulldown-cmark.
//!
//! Raw HTML inside the Markdown is passed on as HTML, so a policy puts an
//! `html` filter after this one to decide which of it may stay (the bundled
//! `markdown` format does).

use pulldown_cmark::{html, Options, Parser};

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
        html::push_html(out, Parser::new_ext(input, options));
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
