//! `html`: keep only the tags and attributes a policy allows.
//!
//! Two parsers, chosen by the policy:
//!
//! * `lenient` (the bundled Filtered HTML format) reads markup the way
//!   Drupal 7's `filter_xss` does, so comments written for a Drupal site come
//!   out the same: an unclosed `<em` at the end is still an `<em>`, the text
//!   of a removed tag stays. It fixes what Drupal gets wrong: a `<` that does
//!   not start real markup (`i<n`, `List<String>`, `<john@example.com>`) is
//!   text, not a tag that swallows everything up to the next `>`; quoted
//!   attribute values may contain `>`; script, style, raw-text and
//!   SVG/MathML elements go with their content.
//! * `html5` parses as a browser does (html5ever through ammonia). It suits
//!   HTML produced by other filters, such as Markdown's.
//!
//! Either way the output holds only allowed tags with allowed attributes;
//! URL attributes keep only values whose scheme the policy allows.

use std::collections::{HashMap, HashSet};

use super::html5;
use crate::markup::{self, Drupal, DrupalAttribute, DrupalAttributes};
use crate::safety::{self, Allowlist};
use crate::text::{self, CharRef};

mod elements;
use elements::{BARE_ATTRIBUTES, KNOWN_ELEMENTS, WORD_BOUNDARY_TAGS};

/// What happens to a tag the policy does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disallowed {
    /// Remove the tag, keep its text (Drupal's behaviour).
    Strip,
    /// Show the tag as text: `<b>` reads as `<b>` in the comment.
    Escape,
}

/// How the filter reads markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// Drupal-compatible reading, see the module docs.
    Lenient,
    /// The HTML5 parsing algorithm, through ammonia.
    Html5,
}

/// The compiled `html` filter.
#[derive(Debug, Clone)]
pub(crate) struct HtmlFilter {
    pub(crate) allow: Allowlist,
    pub(crate) disallowed: Disallowed,
    pub(crate) parser: Parser,
    /// `rel` written on every `<a>` the policy lets through.
    pub(crate) link_rel: Option<String>,
}

/// HTML element names: a `<` followed by one of these is markup even without
/// a matching end tag (`<img src=x>`, `<br>`); any other name needs its end tag
/// to count as markup.
impl HtmlFilter {
    /// Appends the filtered `input` to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        match self.parser {
            Parser::Lenient => {
                // Drupal trims the filtered text; leading and trailing blank
                // lines or spaces left by removed tags go.
                let start = out.len();
                Lenient::new(self, input, out).run();
                let kept = text::php_trim(&out[start..]);
                let (lead, len) = (
                    kept.as_ptr() as usize - out[start..].as_ptr() as usize,
                    kept.len(),
                );
                out.drain(start..start + lead);
                out.truncate(start + len);
            }
            Parser::Html5 => self.apply_html5(input, out),
        }
    }

    fn apply_html5(&self, input: &str, out: &mut String) {
        let tags: HashSet<&str> = self.allow.tag_names().collect();
        let mut tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
        for tag in &tags {
            let attrs = self
                .allow
                .attributes_of(tag)
                .iter()
                .map(String::as_str)
                .collect();
            tag_attributes.insert(tag, attrs);
        }
        let clean_content: HashSet<&str> = safety::DROP_WITH_CONTENT
            .iter()
            .copied()
            .filter(|t| !tags.contains(t))
            .collect();
        let schemes: HashSet<&str> = self.allow.schemes().iter().map(String::as_str).collect();
        let prepared = html5::prepare(input);
        let cleaned = ammonia::Builder::empty()
            .tags(tags)
            .tag_attributes(tag_attributes)
            .clean_content_tags(clean_content)
            .url_schemes(schemes)
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(self.link_rel.as_deref())
            .strip_comments(true)
            .clean(&prepared.text)
            .to_string();
        out.push_str(&html5::restore(&prepared, cleaned));
    }
}

/// One run of the lenient lexer.
struct Lenient<'a> {
    filter: &'a HtmlFilter,
    input: &'a str,
    out: &'a mut String,
    /// Lower-case names that occur in an end tag somewhere in the input.
    end_tags: Option<HashSet<String>>,
    /// A removed tag stood here; if words meet across it, separate them.
    pending_boundary: bool,
    /// Drupal's reading of tags, with what it has found out so far.
    reader: Drupal<'a>,
}

impl<'a> Lenient<'a> {
    fn new(filter: &'a HtmlFilter, input: &'a str, out: &'a mut String) -> Self {
        Lenient {
            filter,
            input,
            out,
            end_tags: None,
            pending_boundary: false,
            reader: Drupal::new(input),
        }
    }

    fn run(mut self) {
        let input = self.input;
        let bytes = input.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let pos =
                memchr::memchr3(b'<', b'>', b'&', &bytes[at..]).map_or(bytes.len(), |i| at + i);
            markup::examined(pos - at + 1);
            self.push_text(&input[at..pos]);
            at = pos;
            match bytes.get(at) {
                None => break,
                Some(b'>') => {
                    self.push_text_raw("&gt;");
                    at += 1;
                }
                Some(b'&') => at = self.reference(at),
                Some(_) => at = self.markup(at),
            }
        }
    }

    /// Text between markup: copied as is (quotes stay raw, as in Drupal).
    fn push_text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.pending_boundary {
            self.pending_boundary = false;
            let glued = self
                .out
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
                && s.chars().next().is_some_and(char::is_alphanumeric);
            if glued {
                self.out.push(' ');
            }
        }
        self.out.push_str(s);
    }

    fn push_text_raw(&mut self, s: &str) {
        self.pending_boundary = false;
        self.out.push_str(s);
    }

    /// `&` at `at`: Netscape `&{…};` script entities vanish; a valid
    /// reference stays; any other `&` is escaped. Returns where to go on.
    fn reference(&mut self, at: usize) -> usize {
        let input = self.input;
        let bytes = input.as_bytes();
        let after = markup::run_end(bytes, at + 1, |c| c.is_ascii_whitespace());
        if bytes.get(after) == Some(&b'{') {
            return match markup::find_byte(bytes, after + 1, b'}') {
                Some(close) => {
                    let tail = markup::run_end(bytes, close + 1, |c| c.is_ascii_whitespace());
                    if bytes.get(tail) == Some(&b';') {
                        tail + 1
                    } else {
                        tail
                    }
                }
                None => bytes.len(),
            };
        }
        let s = &input[at..];
        match text::parse_char_ref(s) {
            // References to characters we never output (`&#0;`) stay for
            // now, as in Drupal; the corrector or the safety net drops them.
            Some(CharRef::Numeric { len, .. }) | Some(CharRef::Named { len }) => {
                markup::examined(len);
                self.push_text(&s[..len]);
                at + len
            }
            None => {
                self.push_text_raw("&amp;");
                at + 1
            }
        }
    }

    /// `<` at `at`.
    fn markup(&mut self, at: usize) -> usize {
        let input = self.input;
        let b = input.as_bytes();
        if b[at..].starts_with(b"<!--") {
            // `<!-->` and `<!--->` are complete (empty) comments in HTML.
            let body = at + 4;
            if b.get(body) == Some(&b'>') {
                return body + 1;
            }
            if b[body..].starts_with(b"->") {
                return body + 2;
            }
            return markup::find_seq(b, body, b"-->").map_or(b.len(), |end| end + 3);
        }
        match b.get(at + 1) {
            Some(b'!') => match self.reader.next_gt(at) {
                // `<!DOCTYPE …>`, `<![CDATA[…]>`: not content.
                Some(gt) => gt + 1,
                None => self.escape_lt(at),
            },
            Some(b'/') => self.end_tag(at),
            Some(c) if c.is_ascii_alphabetic() => self.start_tag(at),
            _ => self.escape_lt(at),
        }
    }

    fn escape_lt(&mut self, at: usize) -> usize {
        self.push_text_raw("&lt;");
        at + 1
    }

    fn end_tag(&mut self, at: usize) -> usize {
        let input = self.input;
        let b = input.as_bytes();
        let name_start = markup::run_end(b, at + 2, |c| c.is_ascii_whitespace());
        let name_end = markup::run_end(b, name_start, |c| {
            c.is_ascii_alphanumeric() || c == b'-' || c == b':'
        });
        let name_ok = name_end > name_start && b[name_start].is_ascii_alphabetic();
        let Some(gt) = self.reader.next_gt(name_end) else {
            if !name_ok {
                return self.escape_lt(at);
            }
            // `</em` at the very end: Drupal reads it as a tag; so do we.
            let name = input[name_start..name_end].to_ascii_lowercase();
            self.emit_end_tag(&name, &input[at..]);
            return b.len();
        };
        if !name_ok {
            // `</>`, `</%x>`, `</ 3>`: bogus markup, dropped as HTML does.
            return gt + 1;
        }
        let name = input[name_start..name_end].to_ascii_lowercase();
        self.emit_end_tag(&name, &input[at..gt + 1]);
        gt + 1
    }

    fn emit_end_tag(&mut self, name: &str, original: &str) {
        if self.filter.allow.allows_tag(name) {
            if !safety::VOID_ELEMENTS.contains(&name) {
                self.push_text_raw("</");
                self.out.push_str(name);
                self.out.push('>');
            }
        } else {
            self.remove(name, original);
        }
    }

    /// A disallowed tag: stripped (with a word boundary where needed) or
    /// shown as text, as the policy says.
    fn remove(&mut self, name: &str, original: &str) {
        match self.filter.disallowed {
            Disallowed::Strip => {
                if WORD_BOUNDARY_TAGS.contains(&name) {
                    self.pending_boundary = true;
                }
            }
            Disallowed::Escape => {
                let mut escaped = String::with_capacity(original.len() + 8);
                text::escape_text_min_into(&mut escaped, original);
                self.push_text(&escaped);
            }
        }
    }

    fn has_end_tag(&mut self, name: &str) -> bool {
        let input = self.input;
        let set = self.end_tags.get_or_insert_with(|| collect_end_tags(input));
        set.contains(name)
    }

    fn start_tag(&mut self, at: usize) -> usize {
        let input = self.input;
        let b = input.as_bytes();
        let i = markup::run_end(b, at + 1, |c| c.is_ascii_alphanumeric() || c == b'-');
        let namespaced =
            b.get(i) == Some(&b':') && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic);
        let name = input[at + 1..i].to_ascii_lowercase();
        let (tag_end, terminated) = self.reader.extent(i);
        // The attributes: up to the `>`, or to the end of the input.
        let attrs_end = if terminated { tag_end - 1 } else { tag_end };
        let self_closing = terminated && self.reader.slash_before(i, attrs_end);

        // `<scr<script>`: Drupal reads one tag, named `scr`, up to the
        // `>`; so do we when the `<` glued to the name starts a tag and
        // nothing in between is a space (prose such as `i<n<m; a>b` stays
        // text).
        let glued_tag = b.get(i) == Some(&b'<')
            && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
            && terminated
            && !input[at..tag_end].bytes().any(|c| c.is_ascii_whitespace());
        let allowed = self.filter.allow.allows_tag(&name);
        let is_markup = allowed
            || glued_tag
            || name.contains('-')
            || namespaced
            || self_closing
            || self.has_end_tag(&name)
            || (KNOWN_ELEMENTS.binary_search(&name.as_str()).is_ok()
                && self
                    .reader
                    .first_implausible(i, is_plausible)
                    .is_none_or(|p| p >= attrs_end));
        if !is_markup {
            return self.escape_lt(at);
        }
        if allowed {
            let attributes = DrupalAttributes::new(input, i, attrs_end);
            self.emit_start_tag(&name, attributes, self_closing);
            return tag_end;
        }
        if safety::DROP_WITH_CONTENT.contains(&name.as_str())
            && !self_closing
            && self.filter.disallowed == Disallowed::Strip
            && self.has_end_tag(&name)
        {
            return b.len() - safety::skip_past_end_tag(&input[tag_end..], &name).len();
        }
        self.remove(&name, &input[at..tag_end]);
        tag_end
    }

    fn emit_start_tag(&mut self, name: &str, attributes: DrupalAttributes<'_>, self_closing: bool) {
        self.push_text_raw("<");
        self.out.push_str(name);
        // At most one per allowed attribute, so a short list.
        let mut written: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for attr in attributes {
            let Some(value) = attr.value else {
                continue;
            };
            let attr_name = safety::lowercase(attr.name);
            if written.contains(&attr_name)
                || (attr_name == "rel" && self.filter.link_rel.is_some())
                || attr_name.starts_with("on")
                || attr_name == "style"
                || !self.filter.allow.allows_attribute(name, &attr_name)
            {
                continue;
            }
            let decoded = text::decode_entities(value);
            let cleaned: String = decoded
                .chars()
                .filter(|&c| !text::is_forbidden_char(c))
                .collect();
            let Some(value) = checked_value(&attr_name, &cleaned, self.filter.allow.schemes())
            else {
                continue;
            };
            self.out.push(' ');
            self.out.push_str(&attr_name);
            self.out.push_str("=\"");
            // Newlines are written as references so that no later filter
            // mistakes them for line breaks of the text.
            text::escape_attr_into(self.out, &value);
            self.out.push('"');
            written.push(attr_name);
        }
        if let (Some(rel), "a") = (&self.filter.link_rel, name) {
            self.out.push_str(" rel=\"");
            text::escape_into(self.out, rel);
            self.out.push('"');
        }
        if self_closing {
            self.out.push_str(" /");
        }
        self.out.push('>');
    }
}

/// Applies the value rules of the attributes with a fixed meaning; returns
/// `None` to drop the attribute.
fn checked_value(name: &str, value: &str, schemes: &[String]) -> Option<String> {
    match name {
        "href" | "cite" => safety::check_url(value.trim(), schemes).map(|v| v.into_owned()),
        "dir" => {
            let v = value.trim().to_ascii_lowercase();
            matches!(v.as_str(), "ltr" | "rtl" | "auto").then_some(v)
        }
        "lang" => {
            let v = value.trim();
            (v.len() <= 35 && v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
                .then(|| v.to_owned())
        }
        _ => Some(value.to_owned()),
    }
}

/// Would real markup carry this attribute? A bare word outside
/// [`BARE_ATTRIBUTES`] (`<b and c>`), or junk, says the `<` was prose.
fn is_plausible(attr: &DrupalAttribute<'_>) -> bool {
    if !attr.bare {
        return true;
    }
    let name = safety::lowercase(attr.name);
    BARE_ATTRIBUTES.contains(&&*name)
        || name.starts_with("data-")
        || name.starts_with("aria-")
        || name.starts_with("on")
}

/// Every lower-case name that appears as `</name` in `s`.
fn collect_end_tags(s: &str) -> HashSet<String> {
    let b = s.as_bytes();
    let mut names = HashSet::new();
    let mut from = 0;
    while let Some(pos) = markup::find_seq(b, from, b"</") {
        let start = markup::run_end(b, pos + 2, |c| c.is_ascii_whitespace());
        let end = markup::run_end(b, start, |c| c.is_ascii_alphanumeric() || c == b'-');
        if end > start {
            names.insert(s[start..end].to_ascii_lowercase());
        }
        from = pos + 2;
    }
    names
}

/// The reading this filter had before it remembered anything: each tag
/// read from scratch. The tests check the remembering reader against it.
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
