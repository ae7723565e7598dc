//! `html_escape`: every character of the input is text (the Plain text format).

use crate::text;

/// The escaping filter; it has no settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct HtmlEscape;

impl HtmlEscape {
    /// Appends `input`, escaped and trimmed as Drupal's `check_plain` + `trim`
    /// do, to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        text::escape_into(out, text::php_trim(input));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(s: &str) -> String {
        let mut out = String::new();
        HtmlEscape.apply(s, &mut out);
        out
    }

    #[test]
    fn markup_becomes_visible_text() {
        assert_eq!(
            escape("<b>x</b> & 'y'"),
            "&lt;b&gt;x&lt;/b&gt; &amp; &#039;y&#039;"
        );
    }

    #[test]
    fn existing_entities_are_escaped_again() {
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(escape("  \n x \t\n"), "x");
    }
}
