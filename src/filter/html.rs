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
const KNOWN_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "basefont",
    "bdi",
    "bdo",
    "bgsound",
    "big",
    "blink",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "i",
    "iframe",
    "image",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "link",
    "listing",
    "main",
    "map",
    "mark",
    "marquee",
    "math",
    "menu",
    "menuitem",
    "meta",
    "meter",
    "nav",
    "nobr",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "plaintext",
    "pre",
    "progress",
    "q",
    "rb",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "script",
    "search",
    "section",
    "select",
    "slot",
    "small",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
    "xmp",
];

/// Attribute names that may stand without a value in real markup; a bare word
/// outside this list (`<b and c>`) means the `<` was prose.
const BARE_ATTRIBUTES: &[&str] = &[
    "allowfullscreen",
    "async",
    "autofocus",
    "autoplay",
    "checked",
    "compact",
    "controls",
    "default",
    "defer",
    "disabled",
    "formnovalidate",
    "hidden",
    "inert",
    "ismap",
    "itemscope",
    "loop",
    "multiple",
    "muted",
    "nohref",
    "noresize",
    "noshade",
    "novalidate",
    "nowrap",
    "open",
    "playsinline",
    "readonly",
    "required",
    "reversed",
    "selected",
    "download",
    "contenteditable",
    "draggable",
    "spellcheck",
    "translate",
];

/// Removing one of these between two words would glue the words together
/// ("Sub</h2><h3>Subsub" reading "SubSubsub"), so a space stands in for it.
const WORD_BOUNDARY_TAGS: &[&str] = &[
    "a",
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "img",
    "input",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
];

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
mod reference {
    use super::BARE_ATTRIBUTES;

    /// Where the tag starting at `s` ends: `(length, ended_with_gt)`. Quoted
    /// attribute values may contain `>`; when a quote is never closed, the tag
    /// ends at the first `>` instead (as Drupal reads it); with no `>` at all it
    /// runs to the end of the input.
    pub(super) fn tag_extent(s: &str, from: usize) -> (usize, bool) {
        let b = s.as_bytes();
        let mut i = from;
        let mut after_equals = false;
        while i < b.len() {
            match b[i] {
                b'>' => return (i + 1, true),
                b'=' => {
                    after_equals = true;
                    i += 1;
                    continue;
                }
                q @ (b'"' | b'\'') if after_equals => match memchr::memchr(q, &b[i + 1..]) {
                    Some(close) => i += close + 2,
                    None => break,
                },
                c if c.is_ascii_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => i += 1,
            }
            after_equals = false;
        }
        match memchr::memchr(b'>', &b[from..]) {
            Some(gt) => (from + gt + 1, true),
            None => (s.len(), false),
        }
    }

    /// One attribute as written; `value` is `None` when it was malformed.
    pub(super) struct Attr<'a> {
        pub(super) name: String,
        pub(super) value: Option<std::borrow::Cow<'a, str>>,
        pub(super) bare: bool,
    }

    impl Attr<'_> {
        /// Would real markup carry this attribute? (See [`BARE_ATTRIBUTES`].)
        pub(super) fn is_plausible(&self) -> bool {
            !self.bare
                || BARE_ATTRIBUTES.contains(&self.name.as_str())
                || self.name.starts_with("data-")
                || self.name.starts_with("aria-")
                || self.name.starts_with("on")
        }
    }

    /// Reads attributes like Drupal's attribute scanner, but with quoted values
    /// allowed to hold anything. Malformed pieces are skipped to the next space.
    pub(super) fn parse_attributes(s: &str) -> Vec<Attr<'_>> {
        // Drupal first cuts a final `/` (and the spaces after it) off.
        let cut = s.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let s = cut.strip_suffix('/').unwrap_or(s);
        let b = s.as_bytes();
        // The end, a `>` (inside a tag only where a quoted value held it),
        // or a `/` with nothing but spaces after it.
        let at_end = |k: usize| match b.get(k) {
            None | Some(b'>') => true,
            Some(b'/') => {
                let mut m = k + 1;
                while b.get(m).is_some_and(u8::is_ascii_whitespace) {
                    m += 1;
                }
                matches!(b.get(m), None | Some(b'>'))
            }
            Some(_) => false,
        };
        let space_or_end = |k: usize| b.get(k).is_none_or(u8::is_ascii_whitespace) || at_end(k);
        // Junk: quoted strings and other non-space characters, to a space.
        let skip_junk = |mut k: usize| {
            while k < b.len() && !b[k].is_ascii_whitespace() {
                if b[k] == b'"' || b[k] == b'\'' {
                    k = memchr::memchr(b[k], &b[k + 1..]).map_or(b.len(), |c| k + c + 2);
                } else {
                    k += 1;
                }
            }
            k
        };
        let mut attrs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if at_end(i) {
                break;
            }
            if !(c.is_ascii_alphabetic() || c == b'_' || c == b'-') {
                i = skip_junk(i);
                attrs.push(Attr {
                    name: String::new(),
                    value: None,
                    bare: true,
                });
                continue;
            }
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'_' | b':' | b'.'))
            {
                i += 1;
            }
            let name = s[start..i].to_ascii_lowercase();
            let mut j = i;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) != Some(&b'=') {
                let glued = j == i && !at_end(j);
                attrs.push(Attr {
                    name,
                    value: (!glued).then(|| "".into()),
                    bare: true,
                });
                if glued {
                    i = skip_junk(i);
                }
                continue;
            }
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => match memchr::memchr(q, &b[j + 1..]) {
                    Some(close) if space_or_end(j + close + 2) => {
                        attrs.push(Attr {
                            name,
                            value: Some(s[j + 1..j + 1 + close].into()),
                            bare: false,
                        });
                        i = j + close + 2;
                    }
                    Some(_) => {
                        attrs.push(Attr {
                            name,
                            value: None,
                            bare: false,
                        });
                        i = skip_junk(j);
                    }
                    None => {
                        attrs.push(Attr {
                            name,
                            value: None,
                            bare: false,
                        });
                        i = b.len();
                    }
                },
                Some(_) => {
                    let v_start = j;
                    while j < b.len()
                        && !b[j].is_ascii_whitespace()
                        && b[j] != b'"'
                        && b[j] != b'\''
                    {
                        j += 1;
                    }
                    let value = if space_or_end(j) {
                        Some(s[v_start..j].into())
                    } else {
                        j = skip_junk(v_start);
                        None
                    };
                    attrs.push(Attr {
                        name,
                        value,
                        bare: false,
                    });
                    i = j;
                }
                None => {
                    attrs.push(Attr {
                        name,
                        value: None,
                        bare: false,
                    });
                    i = j;
                }
            }
        }
        attrs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(disallowed: Disallowed) -> HtmlFilter {
        let global = |extra: &[&str]| {
            let mut v: Vec<String> = vec!["title".into(), "lang".into(), "dir".into()];
            v.extend(extra.iter().map(|s| (*s).to_owned()));
            v
        };
        HtmlFilter {
            allow: Allowlist::new(
                [
                    ("em", global(&[])),
                    ("strong", global(&[])),
                    ("blockquote", global(&["cite"])),
                    ("br", global(&[])),
                    ("p", global(&[])),
                ],
                ["http", "https", "mailto"],
            ),
            disallowed,
            parser: Parser::Lenient,
            link_rel: None,
        }
    }

    fn strip(s: &str) -> String {
        let mut out = String::new();
        filter(Disallowed::Strip).apply(s, &mut out);
        out
    }

    fn escape(s: &str) -> String {
        let mut out = String::new();
        filter(Disallowed::Escape).apply(s, &mut out);
        out
    }

    #[test]
    fn allowed_tags_stay_and_disallowed_ones_leave_their_text() {
        assert_eq!(
            strip("<em>a</em> <span>b</span> <b>c</b>"),
            "<em>a</em> b c"
        );
    }

    #[test]
    fn script_style_and_svg_go_with_their_content() {
        assert_eq!(strip("a<script>alert(1)</script>b"), "ab");
        assert_eq!(strip("<style>x{}</style>y"), "y");
        assert_eq!(strip("<svg><circle/></svg>z"), "z");
        assert_eq!(strip("<noscript>n</noscript>m"), "m");
    }

    #[test]
    fn a_lone_less_than_sign_is_text_not_a_tag() {
        assert_eq!(strip("for (i=0;i<n;i++) x"), "for (i=0;i&lt;n;i++) x");
        assert_eq!(strip("List<String> x"), "List&lt;String&gt; x");
        assert_eq!(strip("if a<b and c>d then"), "if a&lt;b and c&gt;d then");
        assert_eq!(
            strip("<john@example.com> wrote"),
            "&lt;john@example.com&gt; wrote"
        );
    }

    #[test]
    fn tags_are_still_recognised_when_they_are_real_markup() {
        assert_eq!(strip("<img src=x onerror=alert(1)>"), "");
        assert_eq!(strip("<foo>unknown</foo>"), "unknown");
        assert_eq!(strip("text <em"), "text <em>");
    }

    #[test]
    fn event_handlers_style_and_unlisted_attributes_are_removed() {
        assert_eq!(
            strip("<em onclick=\"x\" style=\"y\" class=\"z\" title=\"t\">a</em>"),
            "<em title=\"t\">a</em>"
        );
    }

    #[test]
    fn quoted_values_may_contain_greater_than() {
        assert_eq!(
            strip("<em title=\"a > b\">x</em>"),
            "<em title=\"a &gt; b\">x</em>"
        );
    }

    #[test]
    fn url_attributes_keep_only_allowed_schemes() {
        assert_eq!(
            strip("<blockquote cite=\"javascript:alert(1)\">q</blockquote>"),
            "<blockquote>q</blockquote>"
        );
        assert_eq!(
            strip("<blockquote cite=\"http://example.com/s\">q</blockquote>"),
            "<blockquote cite=\"http://example.com/s\">q</blockquote>"
        );
    }

    #[test]
    fn escape_mode_shows_disallowed_tags_as_text() {
        assert_eq!(
            escape("x <b>y</b> <em>z</em>"),
            "x &lt;b&gt;y&lt;/b&gt; <em>z</em>"
        );
    }

    #[test]
    fn entities_are_normalised_and_bare_ampersands_escaped() {
        assert_eq!(
            strip("R&D &amp; &#65; &#0; &{alert(1)};x"),
            "R&amp;D &amp; &#65; &#0; x"
        );
    }

    #[test]
    fn removed_block_tags_do_not_glue_words() {
        assert_eq!(strip("<h2>Sub</h2><h3>Subsub</h3>"), "Sub Subsub");
        assert_eq!(strip("un<span>believ</span>able"), "unbelievable");
    }

    #[test]
    fn known_elements_are_sorted_for_binary_search() {
        assert!(KNOWN_ELEMENTS.windows(2).all(|w| w[0] < w[1]));
    }

    proptest::proptest! {
        /// The reader that remembers what it found answers, for every tag
        /// start in turn, exactly what reading that tag afresh answers:
        /// where it ends, whether it closes itself, whether its attributes
        /// are plausible, and what they are.
        #[test]
        fn the_remembering_reader_agrees_with_reading_each_tag_afresh(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<", ">", "\"", "'", "=", " ", "\n", "a", "b", "em", "/", "<b", "<y", "<em ", "title", "disabled",
                "x", "<!", "é", "\u{a0}", "data-x", "-", "_", ":", ".", "&", "a=\"", "'>'", "=\"", "= '", "</b>", "<b a=",
            ]), 0..28),
        ) {
            let text: String = pieces.concat();
            let b = text.as_bytes();
            let mut reader = Drupal::new(&text);
            for (lt, _) in text.match_indices('<') {
                if !b.get(lt + 1).is_some_and(u8::is_ascii_alphabetic) {
                    continue;
                }
                let i = lt + 1 + b[lt + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
                let s = &text[lt..];
                let (len, terminated) = reference::tag_extent(s, i - lt);
                let (end, now_terminated) = reader.extent(i);
                proptest::prop_assert_eq!((lt + len, terminated), (end, now_terminated), "{:?} at {}", text, lt);
                let old_attrs = if terminated { &s[i - lt..len - 1] } else { &s[i - lt..len] };
                let attrs_end = lt + len - usize::from(terminated);
                let old_self_closing = terminated && old_attrs.trim_end().ends_with('/');
                proptest::prop_assert_eq!(terminated && reader.slash_before(i, attrs_end), old_self_closing);
                let parsed = reference::parse_attributes(old_attrs);
                let old_plausible = parsed.iter().all(reference::Attr::is_plausible);
                let plausible = reader.first_implausible(i, is_plausible).is_none_or(|p| p >= attrs_end);
                proptest::prop_assert_eq!(plausible, old_plausible, "{:?} at {}", text, lt);
                let old: Vec<_> = parsed.iter().map(|a| (a.name.clone(), a.value.as_deref().map(str::to_owned), a.bare)).collect();
                let now: Vec<_> = DrupalAttributes::new(&text, i, attrs_end)
                    .map(|a| (a.name.to_ascii_lowercase(), a.value.map(str::to_owned), a.bare))
                    .collect();
                proptest::prop_assert_eq!(now, old, "{:?} at {}", text, lt);
            }
        }
    }

    #[test]
    fn a_tag_glued_into_a_tag_name_is_one_tag_as_in_drupal() {
        for (input, expected) in [
            ("<scr<em>x</em>", "x</em>"),
            ("a<scr<strong>b", "ab"),
            ("<em<strong>x</em>", "<em>x</em>"),
            ("<x<y<z>w", "w"),
            ("<scr<script>x", "x"),
        ] {
            assert_eq!(strip(input), expected, "{input}");
        }
        // Prose with spaces, or no `>`, keeps its text.
        assert_eq!(strip("i<n<m; a>b"), "i&lt;n&lt;m; a&gt;b");
        assert_eq!(strip("i<n<m"), "i&lt;n&lt;m");
    }

    #[test]
    fn a_relative_cite_stays() {
        for cite in ["/quote", "quote.html", "../q?a=1#b", "#here"] {
            let input = format!("<blockquote cite=\"{cite}\">x</blockquote>");
            assert_eq!(strip(&input), input);
        }
        assert_eq!(
            strip("<blockquote cite=\"javascript:alert(1)\">x</blockquote>"),
            "<blockquote>x</blockquote>"
        );
    }

    #[test]
    fn attributes_glued_together_are_read_as_drupal_reads_them() {
        // A value must be followed by a space or the end; otherwise it and
        // what is glued to it are junk, up to the next space.
        for (input, expected) in [
            ("<em title=\"a\"title=\"b\">x</em>", "<em>x</em>"),
            ("<em title=\"x\"onclick=alert(1)>x</em>", "<em>x</em>"),
            ("<em title='a'lang='en'>x</em>", "<em>x</em>"),
            (
                "<em title=\"a\"lang=\"en\" dir=\"rtl\">x</em>",
                "<em dir=\"rtl\">x</em>",
            ),
            ("<em title=a\"b\" lang=en>x</em>", "<em lang=\"en\">x</em>"),
            ("<em title\"x\" lang=en>x</em>", "<em lang=\"en\">x</em>"),
            (
                "<em title=\"a\" lang=\"en\">x</em>",
                "<em title=\"a\" lang=\"en\">x</em>",
            ),
            ("<em title=\"a\"/>", "<em title=\"a\" />"),
            ("<em title=\"a\"/lang=\"en\">x</em>", "<em>x</em>"),
            ("<em title=\"a b\"x=\"c lang=en\">x</em>", "<em>x</em>"),
        ] {
            assert_eq!(strip(input), expected, "{input}");
        }
    }

    #[test]
    fn html5_mode_parses_like_a_browser() {
        let mut f = filter(Disallowed::Strip);
        f.parser = Parser::Html5;
        let mut out = String::new();
        f.apply("<em>a<script>x</script><div>b</div>", &mut out);
        assert_eq!(out, "<em>ab</em>");
    }
}
