//! `html_corrector`: make the markup well-formed and balanced.
//!
//! Drupal 7 runs the text through libxml2's HTML parser and writes the body
//! back as XHTML. This filter reproduces what that does to the markup the
//! earlier filters can produce — unclosed elements closed, stray end tags
//! dropped, `<p>` closing an open paragraph, misnested inline tags repaired,
//! entities decoded and re-escaped, characters XML forbids dropped, `lang`
//! doubled as `xml:lang` — without libxml2's two flaws: a `<p>` is never left
//! nested inside another paragraph, and an empty `<p></p>` is not written.

use crate::safety::VOID_ELEMENTS;
use crate::text;

/// The corrector; it has no settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct HtmlCorrector;

/// Starting one of these closes an open paragraph.
const CLOSES_P: &[&str] = &[
    "p",
    "blockquote",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "ol",
    "ul",
    "pre",
    "table",
    "li",
];

/// What the current element's last child is, for libxml2's blank-text rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastChild {
    None,
    Text,
    Element(&'static str),
}

struct Open {
    name: String,
    last: LastChild,
    /// The parent's last child before this element was opened.
    parent_last: LastChild,
    has_attributes: bool,
    /// Where this element's start tag begins in the output (to take back an
    /// empty paragraph).
    start: usize,
}

impl HtmlCorrector {
    /// Appends the corrected `input` to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        let base = out.len();
        let mut stack: Vec<Open> = Vec::new();
        let mut body_last = LastChild::None;
        let mut rest = input;
        while !rest.is_empty() {
            let pos = rest.find('<').unwrap_or(rest.len());
            if pos > 0 {
                push_text(out, &rest[..pos], &mut stack, &mut body_last);
            }
            rest = &rest[pos..];
            if rest.is_empty() {
                break;
            }
            match read_tag(rest) {
                Some(tag) => {
                    rest = &rest[tag.len..];
                    if tag.end {
                        close(out, &tag.name, &mut stack, &mut body_last);
                    } else {
                        open(out, tag, &mut stack, &mut body_last);
                    }
                }
                None => {
                    push_text(out, "&lt;", &mut stack, &mut body_last);
                    rest = &rest[1..];
                }
            }
        }
        while !stack.is_empty() {
            pop(out, &mut stack, &mut body_last);
        }
        debug_assert!(out.len() >= base);
    }
}

fn last_child<'s>(stack: &'s mut [Open], body_last: &'s mut LastChild) -> &'s mut LastChild {
    match stack.last_mut() {
        Some(open) => &mut open.last,
        None => body_last,
    }
}

fn push_text(out: &mut String, s: &str, stack: &mut [Open], body_last: &mut LastChild) {
    let decoded = text::decode_entities(s);
    // XML has no place for U+FFFE, U+FFFF or form feed.
    let decoded: std::borrow::Cow<'_, str> = if decoded.contains(['\u{fffe}', '\u{ffff}', '\u{c}'])
    {
        decoded
            .chars()
            .filter(|c| !matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{c}'))
            .collect::<String>()
            .into()
    } else {
        decoded
    };
    if decoded.is_empty() {
        return;
    }
    text::escape_text_min_into(out, &decoded);
    *last_child(stack, body_last) = LastChild::Text;
}

fn open(out: &mut String, tag: Tag, stack: &mut Vec<Open>, body_last: &mut LastChild) {
    let name = tag.name.as_str();
    // libxml2 only closes the current element; a paragraph left open further
    // up would end up nested, which HTML forbids, so we close through it.
    if CLOSES_P.contains(&name) {
        if let Some(i) = stack.iter().rposition(|o| o.name == "p") {
            while stack.len() > i {
                pop(out, stack, body_last);
            }
        }
    }
    if name == "a" && stack.last().is_some_and(|o| o.name == "a") {
        pop(out, stack, body_last);
    }
    if matches!(name, "li" | "dt" | "dd") {
        if let Some(top) = stack.last() {
            let closes = match name {
                "li" => top.name == "li",
                _ => top.name == "dt" || top.name == "dd",
            };
            if closes {
                pop(out, stack, body_last);
            }
        }
    }
    let start = out.len();
    out.push('<');
    out.push_str(name);
    let mut seen: Vec<&str> = Vec::new();
    let mut lang: Option<&str> = None;
    let mut has_xml_lang = false;
    for (attr, value) in &tag.attributes {
        if seen.contains(&attr.as_str()) {
            continue;
        }
        seen.push(attr);
        if attr == "lang" {
            lang = Some(value);
        }
        if attr == "xml:lang" {
            has_xml_lang = true;
        }
        push_attr(out, attr, value);
    }
    if let (Some(lang), false) = (lang, has_xml_lang) {
        push_attr(out, "xml:lang", lang);
    }
    let static_name = element_name(name);
    let parent_last = std::mem::replace(
        last_child(stack, body_last),
        LastChild::Element(static_name),
    );
    if VOID_ELEMENTS.contains(&name) {
        out.push_str(" />");
        return;
    }
    out.push('>');
    stack.push(Open {
        name: tag.name,
        last: LastChild::None,
        parent_last,
        has_attributes: !tag.attributes.is_empty(),
        start,
    });
    if tag.self_closing {
        pop(out, stack, body_last);
    }
}

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    text::escape_attr_into(out, value);
    out.push('"');
}

fn close(out: &mut String, name: &str, stack: &mut Vec<Open>, body_last: &mut LastChild) {
    if let Some(i) = stack.iter().rposition(|o| o.name == name) {
        while stack.len() > i {
            pop(out, stack, body_last);
        }
    }
}

fn pop(out: &mut String, stack: &mut Vec<Open>, body_last: &mut LastChild) {
    let Some(open) = stack.pop() else { return };
    if open.name == "p" && open.last == LastChild::None && !open.has_attributes {
        // An empty paragraph (left by removed markup): take its start tag
        // back, as if never opened.
        out.truncate(open.start);
        *last_child(stack, body_last) = open.parent_last;
        return;
    }
    out.push_str("</");
    out.push_str(&open.name);
    out.push('>');
}

/// A `'static` name for the kinds of element whose presence matters.
fn element_name(name: &str) -> &'static str {
    crate::safety::FLOOR
        .iter()
        .map(|(n, _)| *n)
        .find(|n| *n == name)
        .unwrap_or("other")
}

struct Tag {
    name: String,
    end: bool,
    self_closing: bool,
    attributes: Vec<(String, String)>,
    len: usize,
}

/// Reads one tag as the earlier filters write them; `None` if `s` does not
/// start with one (its `<` is then text).
fn read_tag(s: &str) -> Option<Tag> {
    if let Some(body) = s.strip_prefix("<!--") {
        let len = body.find("-->").map_or(s.len(), |e| 4 + e + 3);
        return Some(Tag {
            name: String::new(),
            end: true,
            self_closing: false,
            attributes: Vec::new(),
            len,
        });
    }
    let b = s.as_bytes();
    let mut i = 1;
    let end = b.get(1) == Some(&b'/');
    if end {
        i += 1;
    }
    let name_start = i;
    if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
    {
        i += 1;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    let mut self_closing = false;
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                i += 1;
                break;
            }
            b'/' => {
                self_closing = true;
                i += 1;
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while b.get(i).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.')
                }) {
                    i += 1;
                }
                let attr = s[start..i].to_ascii_lowercase();
                let mut value = String::new();
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    let q = *b.get(i)?;
                    if q == b'"' || q == b'\'' {
                        let close = memchr::memchr(q, &b[i + 1..])?;
                        value = text::decode_entities(&s[i + 1..i + 1 + close]).into_owned();
                        i += close + 2;
                    } else {
                        let start = i;
                        while b
                            .get(i)
                            .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'>')
                        {
                            i += 1;
                        }
                        value = text::decode_entities(&s[start..i]).into_owned();
                    }
                }
                attributes.push((attr, value));
            }
            _ => return None,
        }
    }
    Some(Tag {
        name,
        end,
        self_closing: self_closing && !end,
        attributes: if end { Vec::new() } else { attributes },
        len: i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correct(s: &str) -> String {
        let mut out = String::new();
        HtmlCorrector.apply(s, &mut out);
        out
    }

    #[test]
    fn unclosed_elements_are_closed_at_the_end() {
        assert_eq!(correct("<p><em>x"), "<p><em>x</em></p>");
    }

    #[test]
    fn stray_end_tags_are_dropped() {
        assert_eq!(correct("a</em></blockquote>b"), "ab");
    }

    #[test]
    fn misnested_inline_tags_are_repaired() {
        assert_eq!(
            correct("<em><strong>x</em></strong>"),
            "<em><strong>x</strong></em>"
        );
    }

    #[test]
    fn br_is_written_as_xhtml() {
        assert_eq!(correct("a<br>b<br/>c<BR >d"), "a<br />b<br />c<br />d");
    }

    #[test]
    fn entities_are_decoded_and_only_markup_characters_re_escaped() {
        assert_eq!(
            correct("&quot;&#039;&nbsp;&amp;&lt;&foo;"),
            "\"'\u{a0}&amp;&lt;&amp;foo;"
        );
    }

    #[test]
    fn lang_gets_an_xml_lang_copy() {
        assert_eq!(
            correct("<em lang=\"fr\" dir=\"rtl\">x</em>"),
            "<em lang=\"fr\" dir=\"rtl\" xml:lang=\"fr\">x</em>"
        );
    }

    #[test]
    fn a_paragraph_start_closes_an_open_paragraph_even_under_inline_tags() {
        assert_eq!(
            correct("<p><em>a<p>b</p></em></p>"),
            "<p><em>a</em></p><p>b</p>"
        );
    }

    #[test]
    fn empty_paragraphs_are_not_written() {
        assert_eq!(correct("<p></p>x<p></br></p>"), "x");
    }

    #[test]
    fn whitespace_between_tags_is_kept() {
        assert_eq!(correct("<p>a<br />\n</p>"), "<p>a<br />\n</p>");
        assert_eq!(correct("<p>a</p>\n<p>b</p>\n"), "<p>a</p>\n<p>b</p>\n");
    }

    #[test]
    fn an_empty_paragraph_with_attributes_is_kept() {
        assert_eq!(correct("<p title=\"x\"/>y"), "<p title=\"x\"></p>y");
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(correct("a\u{fffe}b\u{c}c"), "abc");
    }
}
