//! How the templates in `templates/` write values.
//!
//! `askama.toml` makes [`Markup`] the escaper of every `{{ }}` in an `.html`
//! or `.xml` template: whatever a template inserts is escaped, and loses the
//! characters XML 1.0 forbids (a form feed or U+FFFF in a name would make the
//! Atom feed unreadable). No call site has to remember either.
//!
//! The one thing written as it is: a [`SafeHtml`](crate::SafeHtml), through
//! [`filters::sanitized`], which takes nothing else. A `SafeHtml` comes only
//! from the safety net (or from the store, which keeps its output). The test
//! below fails if a template or a page finds another way past the escaper.

use std::fmt;

/// Escapes text for HTML and XML (content and double- or single-quoted
/// attribute values) and drops the characters no output may hold.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Markup;

impl askama::filters::Escaper for Markup {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let text = crate::text::without_forbidden(text);
        let mut rest: &str = &text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..at])?;
            dest.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        dest.write_str(rest)
    }
}

/// The templates' own filters (askama looks for a module of this name where
/// a template is derived: `use super::escape::filters;`).
pub(crate) mod filters {
    use crate::SafeHtml;

    /// `{{ comment.body|sanitized }}`: the one unescaped insert. It takes a
    /// [`SafeHtml`] only; anything else does not compile.
    pub(crate) fn sanitized<'a>(
        html: &'a SafeHtml,
        _: &dyn askama::Values,
    ) -> askama::Result<askama::filters::Safe<&'a SafeHtml>> {
        Ok(askama::filters::Safe(html))
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::filters;
    use crate::SafeHtml;

    #[derive(Template)]
    #[template(path = "test/escape.html")]
    struct HtmlProbe<'a> {
        text: &'a str,
        html: SafeHtml,
    }

    #[derive(Template)]
    #[template(path = "test/escape.xml")]
    struct XmlProbe<'a> {
        text: &'a str,
    }

    const HOSTILE: &str = "<b a=\"1\" b='2'>&\u{c}\u{ffff}\u{fffe}\r\u{0}\u{202e}</b>";
    const ESCAPED: &str = "&lt;b a=&quot;1&quot; b=&#39;2&#39;&gt;&amp;&lt;/b&gt;";

    #[test]
    fn text_is_escaped_and_loses_forbidden_characters_and_safe_html_is_not() {
        let html = HtmlProbe {
            text: HOSTILE,
            html: SafeHtml::from_store("<em>ok</em>".to_owned()),
        }
        .render()
        .unwrap_or_default();
        assert_eq!(
            html,
            format!("<p title=\"{ESCAPED}\">{ESCAPED}</p>\n<div><em>ok</em></div>")
        );
        let xml = XmlProbe { text: HOSTILE }.render().unwrap_or_default();
        assert_eq!(xml, format!("<t a=\"{ESCAPED}\">{ESCAPED}</t>"));
    }
}
