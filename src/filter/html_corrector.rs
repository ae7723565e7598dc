//! `html_corrector`: make the markup well-formed and balanced.
//!
//! Drupal 7 runs the text through libxml2's HTML parser and writes the body
//! back as XHTML. This filter reproduces what that does to the markup the
//! earlier filters can produce — unclosed elements closed, stray end tags
//! dropped, `<p>` closing an open paragraph, misnested inline tags repaired,
//! entities decoded and re-escaped, characters XML forbids dropped, `lang`
//! doubled as `xml:lang` — without libxml2's two flaws: a `<p>` is never left
//! nested inside another paragraph, and an empty `<p></p>` is not written.

use std::collections::{HashMap, HashSet};

use crate::markup::{self, Markup, Tag};
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

/// Deeper nesting than this is flattened (the start tags go, their text
/// stays), which bounds the memory a flood of start tags can take; the
/// safety net flattens beyond [`crate::safety::MAX_DEPTH`] anyway.
const MAX_OPEN: usize = 4096;

/// The open elements. Once there are many, a count per name too, so that
/// looking for one that is not open (a flood of end tags without a start)
/// costs nothing; a short stack is simply searched.
#[derive(Default)]
struct Stack {
    open: Vec<Open>,
    /// Kept while the stack is deeper than [`SHORT`].
    counts: Option<HashMap<String, usize>>,
}

/// A stack this short is searched, not counted.
const SHORT: usize = 64;

impl Stack {
    fn push(&mut self, open: Open) {
        if let Some(counts) = &mut self.counts {
            match counts.get_mut(open.name.as_str()) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(open.name.clone(), 1);
                }
            }
        } else if self.open.len() >= SHORT {
            let mut counts = HashMap::new();
            for o in self.open.iter().chain([&open]) {
                *counts.entry(o.name.clone()).or_insert(0) += 1;
            }
            self.counts = Some(counts);
        }
        self.open.push(open);
    }

    fn pop(&mut self) -> Option<Open> {
        let open = self.open.pop()?;
        if self.open.len() < SHORT / 2 {
            // Well below the threshold again: counting stops (it restarts,
            // at the cost of one pass over the stack, only after as many
            // pushes as that pass costs).
            self.counts = None;
        } else if let Some(n) = self.counts.as_mut().and_then(|c| c.get_mut(&open.name)) {
            *n -= 1;
        }
        Some(open)
    }

    /// The index of the innermost open element called `name`; a search
    /// that only runs when there is one, and costs what popping to it costs.
    fn innermost(&self, name: &str) -> Option<usize> {
        if let Some(counts) = &self.counts {
            if counts.get(name).is_none_or(|&n| n == 0) {
                return None;
            }
        }
        self.open.iter().rposition(|o| o.name == name)
    }

    fn top(&self) -> Option<&Open> {
        self.open.last()
    }

    fn len(&self) -> usize {
        self.open.len()
    }
}

impl HtmlCorrector {
    /// Appends the corrected `input` to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        let base = out.len();
        let mut stack = Stack::default();
        let mut body_last = LastChild::None;
        let bytes = input.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let pos = markup::find_byte(bytes, at, b'<').unwrap_or(bytes.len());
            if pos > at {
                push_text(out, &input[at..pos], &mut stack, &mut body_last);
            }
            at = pos;
            if at == bytes.len() {
                break;
            }
            let read = markup::read(input, at);
            at = read.end;
            match read.markup {
                Markup::Text => push_text(out, "&lt;", &mut stack, &mut body_last),
                // Comments, declarations, tags the input ends in and names no
                // element has are dropped, as browsers drop them.
                Markup::Comment | Markup::Bogus => {}
                Markup::Tag(tag) if !tag.terminated || !is_element_name(tag.name) => {}
                Markup::Tag(tag) if tag.is_end => {
                    close(
                        out,
                        &tag.name.to_ascii_lowercase(),
                        &mut stack,
                        &mut body_last,
                    );
                }
                Markup::Tag(tag) => open(out, &tag, &mut stack, &mut body_last),
            }
        }
        while stack.len() > 0 {
            pop(out, &mut stack, &mut body_last);
        }
        debug_assert!(out.len() >= base);
    }
}

/// Letters, digits and `-`, starting with a letter.
fn is_element_name(name: &str) -> bool {
    name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Letters, digits and `-_:.`, starting with a letter.
fn is_attribute_name(name: &str) -> bool {
    name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.'))
}

fn last_child<'s>(stack: &'s mut Stack, body_last: &'s mut LastChild) -> &'s mut LastChild {
    match stack.open.last_mut() {
        Some(open) => &mut open.last,
        None => body_last,
    }
}

fn push_text(out: &mut String, s: &str, stack: &mut Stack, body_last: &mut LastChild) {
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

fn open(out: &mut String, tag: &Tag<'_>, stack: &mut Stack, body_last: &mut LastChild) {
    let name = tag.name.to_ascii_lowercase();
    let name = name.as_str();
    // libxml2 only closes the current element; a paragraph left open further
    // up would end up nested, which HTML forbids, so we close through it.
    if CLOSES_P.contains(&name) {
        if let Some(i) = stack.innermost("p") {
            while stack.len() > i {
                pop(out, stack, body_last);
            }
        }
    }
    if name == "a" && stack.top().is_some_and(|o| o.name == "a") {
        pop(out, stack, body_last);
    }
    if matches!(name, "li" | "dt" | "dd") {
        if let Some(top) = stack.top() {
            let closes = match name {
                "li" => top.name == "li",
                _ => top.name == "dt" || top.name == "dd",
            };
            if closes {
                pop(out, stack, body_last);
            }
        }
    }
    let is_void = VOID_ELEMENTS.contains(&name);
    if !is_void && stack.len() >= MAX_OPEN {
        return;
    }
    let start = out.len();
    out.push('<');
    out.push_str(name);
    let mut seen = Seen::default();
    let mut lang: Option<std::borrow::Cow<'_, str>> = None;
    let mut has_xml_lang = false;
    let mut has_attributes = false;
    for attribute in tag.attributes() {
        if !is_attribute_name(attribute.name) {
            continue;
        }
        let attr = crate::safety::lowercase(attribute.name);
        if !seen.insert(attribute.name) {
            continue;
        }
        has_attributes = true;
        let value = text::decode_entities(attribute.value.unwrap_or(""));
        push_attr(out, &attr, &value);
        if attr == "lang" {
            lang = Some(value);
        } else if attr == "xml:lang" {
            has_xml_lang = true;
        }
    }
    if let (Some(lang), false) = (lang, has_xml_lang) {
        push_attr(out, "xml:lang", &lang);
    }
    let static_name = element_name(name);
    let parent_last = std::mem::replace(
        last_child(stack, body_last),
        LastChild::Element(static_name),
    );
    if is_void {
        out.push_str(" />");
        return;
    }
    out.push('>');
    stack.push(Open {
        name: name.to_owned(),
        last: LastChild::None,
        parent_last,
        has_attributes,
        start,
    });
    if tag.self_closing {
        pop(out, stack, body_last);
    }
}

/// The attribute names of one tag met so far (ASCII case-insensitively):
/// a short list, or a set once there are many.
#[derive(Default)]
struct Seen<'a> {
    few: Vec<&'a str>,
    many: HashSet<String>,
}

impl<'a> Seen<'a> {
    /// False when `name` was met before.
    fn insert(&mut self, name: &'a str) -> bool {
        const FEW: usize = 16;
        if self.many.is_empty() {
            if self.few.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return false;
            }
            if self.few.len() < FEW {
                self.few.push(name);
                return true;
            }
            self.many
                .extend(self.few.drain(..).map(str::to_ascii_lowercase));
        }
        self.many.insert(name.to_ascii_lowercase())
    }
}

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    text::escape_attr_into(out, value);
    out.push('"');
}

fn close(out: &mut String, name: &str, stack: &mut Stack, body_last: &mut LastChild) {
    if let Some(i) = stack.innermost(name) {
        while stack.len() > i {
            pop(out, stack, body_last);
        }
    }
}

fn pop(out: &mut String, stack: &mut Stack, body_last: &mut LastChild) {
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
    fn deep_stacks_are_counted_and_still_closed_correctly() {
        let n = 3 * SHORT;
        let deep = "<em><strong>".repeat(n) + "x" + &"</strong></em>".repeat(n);
        assert_eq!(correct(&deep), deep);
        // End tags of elements that are not open change nothing.
        let stray = "<em>".repeat(n) + &"</p>".repeat(n) + "y";
        assert_eq!(correct(&stray), "<em>".repeat(n) + "y" + &"</em>".repeat(n));
        // A paragraph deep down is closed by a new one.
        let p = "<p>".to_owned() + &"<em>".repeat(n) + "a<p>b";
        assert_eq!(
            correct(&p),
            "<p>".to_owned() + &"<em>".repeat(n) + "a" + &"</em>".repeat(n) + "</p><p>b</p>"
        );
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(correct("a\u{fffe}b\u{c}c"), "abc");
    }
}
