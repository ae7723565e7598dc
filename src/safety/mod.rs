//! The safety net: the last step of every rendering, whatever the policy says.
//!
//! It re-reads the pipeline's output and writes it again in a canonical form:
//! every tag in the result is one this module built from an allow-list, every
//! attribute value is decoded, checked and re-escaped, and text can hold no `<`.
//! A browser therefore parses exactly what was checked — there is no room for
//! a parser differential, whatever the filters before it did.
//!
//! The allow-list is the policy's, which the policy loader has already
//! confined to the fixed [`FLOOR`]: no script, style, event handlers, raw-text
//! or foreign-content elements, and links only to http, https, ftp or mailto.

use std::fmt;

use crate::markup::{self, Markup};
use crate::text::{self, CharRef};

mod urls;
mod writer;
pub use urls::check_url;
pub(crate) use urls::{checked_url, CheckedUrl};
pub(crate) use writer::PlainWriter;

/// HTML produced by the safety net; the only way to obtain one.
///
/// Templates and the HTTP layer may insert a `SafeHtml` without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// The HTML as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The HTML as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// HTML read back from the store. Only for a comment's stored `html`:
    /// the store keeps nothing else there but [`finalize`]'s output, written
    /// when the comment was rendered. Crate-private, so no caller outside
    /// can turn a string into trusted HTML.
    #[cfg(feature = "server")]
    pub(crate) fn from_store(html: String) -> Self {
        SafeHtml(html)
    }
}

/// Read access: a `SafeHtml` can be read as the string it is, never made
/// from one (outside this crate).
impl std::ops::Deref for SafeHtml {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for SafeHtml {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SafeHtml {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SafeHtml {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// URL schemes a link may ever use.
pub const FLOOR_SCHEMES: &[&str] = &["http", "https", "ftp", "mailto"];

/// Attributes allowed on every element of the floor.
pub const FLOOR_GLOBAL_ATTRIBUTES: &[&str] = &["title", "lang", "dir"];

/// Attributes whose value is a URL and goes through the scheme check.
pub const URL_ATTRIBUTES: &[&str] = &["href", "cite"];

/// Every element a policy may allow, with the attributes it may carry beyond
/// [`FLOOR_GLOBAL_ATTRIBUTES`]. Nothing outside this table can ever be output.
pub const FLOOR: &[(&str, &[&str])] = &[
    ("a", &["href", "rel"]),
    ("abbr", &[]),
    ("b", &[]),
    ("blockquote", &["cite"]),
    ("br", &[]),
    ("cite", &[]),
    ("code", &[]),
    ("dd", &[]),
    ("del", &["cite"]),
    ("dl", &[]),
    ("dt", &[]),
    ("em", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("hr", &[]),
    ("i", &[]),
    ("ins", &["cite"]),
    ("kbd", &[]),
    ("li", &[]),
    ("ol", &["start"]),
    ("p", &[]),
    ("pre", &[]),
    ("q", &["cite"]),
    ("s", &[]),
    ("small", &[]),
    ("strong", &[]),
    ("sub", &[]),
    ("sup", &[]),
    ("table", &[]),
    ("tbody", &[]),
    ("td", &[]),
    ("th", &[]),
    ("thead", &[]),
    ("tr", &[]),
    ("u", &[]),
    ("ul", &[]),
];

/// Elements that never have content or an end tag.
pub(crate) const VOID_ELEMENTS: &[&str] = &["br", "hr"];

/// Elements dropped together with everything inside them when a filter lets
/// them through: raw-text and foreign-content elements.
pub(crate) const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "noscript", "xmp", "textarea", "title", "iframe", "noembed", "noframes",
    "svg", "math",
];

/// Nesting deeper than this is flattened: the extra tags go, their text stays.
pub const MAX_DEPTH: usize = 64;

/// Is `tag` in the floor?
pub fn floor_allows_tag(tag: &str) -> bool {
    FLOOR.iter().any(|(t, _)| *t == tag)
}

/// Is `attr` allowed on `tag` by the floor?
pub fn floor_allows_attribute(tag: &str, attr: &str) -> bool {
    FLOOR_GLOBAL_ATTRIBUTES.contains(&attr)
        || FLOOR
            .iter()
            .any(|(t, attrs)| *t == tag && attrs.contains(&attr))
}

/// The tags, attributes and schemes one policy allows, already confined to
/// the floor by the policy loader.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    tags: Vec<AllowedTag>,
    schemes: Vec<String>,
}

#[derive(Debug, Clone)]
struct AllowedTag {
    name: String,
    attributes: Vec<String>,
}

impl Allowlist {
    /// Builds an allow-list, silently keeping only what the floor permits
    /// (the policy loader reports the rest as errors before we get here).
    pub fn new<'a>(
        tags: impl IntoIterator<Item = (&'a str, Vec<String>)>,
        schemes: impl IntoIterator<Item = &'a str>,
    ) -> Allowlist {
        let tags = tags
            .into_iter()
            .filter(|(name, _)| floor_allows_tag(name))
            .map(|(name, attributes)| AllowedTag {
                name: name.to_owned(),
                attributes: attributes
                    .into_iter()
                    .filter(|a| floor_allows_attribute(name, a))
                    .collect(),
            })
            .collect();
        let schemes = schemes
            .into_iter()
            .filter(|s| FLOOR_SCHEMES.contains(s))
            .map(str::to_owned)
            .collect();
        Allowlist { tags, schemes }
    }

    /// Adds a tag (and attributes) to the list; used to admit the links that
    /// the URL filter generates.
    pub(crate) fn add_tag(&mut self, name: &str, attributes: &[&str]) {
        if !floor_allows_tag(name) {
            return;
        }
        let attrs = attributes
            .iter()
            .filter(|a| floor_allows_attribute(name, a))
            .map(|a| (*a).to_owned());
        match self.tags.iter_mut().find(|t| t.name == name) {
            Some(t) => {
                for a in attrs {
                    if !t.attributes.contains(&a) {
                        t.attributes.push(a);
                    }
                }
            }
            None => self.tags.push(AllowedTag {
                name: name.to_owned(),
                attributes: attrs.collect(),
            }),
        }
    }

    /// Adds URL schemes (confined to the floor).
    pub(crate) fn add_schemes(&mut self, schemes: &[String]) {
        for s in schemes {
            if FLOOR_SCHEMES.contains(&s.as_str()) && !self.schemes.contains(s) {
                self.schemes.push(s.clone());
            }
        }
    }

    /// Is this (lower-case) tag allowed?
    pub fn allows_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.name == tag)
    }

    /// Is this (lower-case) attribute allowed on this tag?
    pub fn allows_attribute(&self, tag: &str, attr: &str) -> bool {
        // `xml:lang` is what the HTML corrector writes beside `lang`.
        let attr = if attr == "xml:lang" { "lang" } else { attr };
        self.tags
            .iter()
            .any(|t| t.name == tag && t.attributes.iter().any(|a| a == attr))
    }

    /// The URL schemes links may use.
    pub fn schemes(&self) -> &[String] {
        &self.schemes
    }

    /// The allowed tag names, in the order given.
    pub fn tag_names(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|t| t.name.as_str())
    }

    /// The attributes allowed on one tag.
    pub fn attributes_of(&self, tag: &str) -> &[String] {
        self.tags
            .iter()
            .find(|t| t.name == tag)
            .map(|t| t.attributes.as_slice())
            .unwrap_or(&[])
    }
}

/// Runs the safety net over `html` and returns the canonical, safe result.
pub fn finalize(html: &str, allow: &Allowlist) -> SafeHtml {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut stack: Vec<&'static str> = Vec::new();
    // One scan of the whole input instead of one per piece of text: most
    // HTML holds no forbidden character at all.
    let clean = !text::has_forbidden_in_output(html);
    let bytes = html.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let pos = memchr::memchr3(b'<', b'&', b'>', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        markup::examined(pos - at + 1);
        if clean {
            out.push_str(&html[at..pos]);
        } else {
            push_text(&mut out, &html[at..pos]);
        }
        at = pos;
        match bytes.get(at) {
            None => break,
            Some(b'>') => {
                out.push_str("&gt;");
                at += 1;
            }
            Some(b'&') => {
                let rest = push_reference(&mut out, &html[at..]);
                at = html.len() - rest.len();
            }
            Some(_) => at = handle_markup(&mut out, html, at, allow, &mut stack),
        }
    }
    while let Some(name) = stack.pop() {
        push_end_tag(&mut out, name);
    }
    SafeHtml(out)
}

/// Copies text, dropping forbidden characters (they may arrive through a
/// filter that decoded a reference).
fn push_text(out: &mut String, s: &str) {
    if !text::has_forbidden_in_output(s) {
        out.push_str(s);
        return;
    }
    out.extend(s.chars().filter(|&c| !text::is_forbidden_in_output(c)));
}

/// Writes a character reference as it is when it names an allowed character,
/// otherwise escapes the `&`. Returns the rest of the input.
fn push_reference<'a>(out: &mut String, s: &'a str) -> &'a str {
    // The references the filters themselves write, without a table lookup.
    for common in ["&amp;", "&lt;", "&gt;", "&quot;", "&#039;"] {
        if let Some(rest) = s.strip_prefix(common) {
            out.push_str(common);
            return rest;
        }
    }
    match text::parse_char_ref(s) {
        Some(CharRef::Numeric { code, len }) => {
            if text::numeric_char(code).is_some_and(|c| !text::is_forbidden_in_output(c)) {
                out.push_str(&s[..len]);
            }
            &s[len..]
        }
        Some(CharRef::Named { len }) if text::lookup_named(&s[..len]).is_some() => {
            out.push_str(&s[..len]);
            &s[len..]
        }
        _ => {
            out.push_str("&amp;");
            &s[1..]
        }
    }
}

fn push_end_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Handles the `<` at `at`, read as a browser reads it; returns where the
/// rest of the input starts.
fn handle_markup(
    out: &mut String,
    html: &str,
    at: usize,
    allow: &Allowlist,
    stack: &mut Vec<&'static str>,
) -> usize {
    let read = markup::read(html, at);
    let tag = match read.markup {
        Markup::Text => {
            out.push_str("&lt;");
            return at + 1;
        }
        // Comments and declarations are never output; neither is a tag the
        // input ends in (browsers drop it too).
        Markup::Comment | Markup::Bogus => return read.end,
        Markup::Tag(tag) if !tag.terminated => return read.end,
        Markup::Tag(tag) => tag,
    };
    let rest = read.end;
    let Some(name) = floor_name(tag.name) else {
        if !tag.is_end {
            if let Some(dropped) = DROP_WITH_CONTENT.iter().find(|n| tag.is(n)) {
                return html.len() - skip_past_end_tag(&html[rest..], dropped).len();
            }
        }
        return rest;
    };
    if !allow.allows_tag(name) {
        return rest;
    }
    let is_void = VOID_ELEMENTS.contains(&name);
    if tag.is_end {
        if is_void {
            return rest;
        }
        if let Some(i) = stack.iter().rposition(|n| *n == name) {
            while stack.len() > i {
                if let Some(open) = stack.pop() {
                    push_end_tag(out, open);
                }
            }
        }
        return rest;
    }
    if !is_void && stack.len() >= MAX_DEPTH {
        return rest;
    }
    out.push('<');
    out.push_str(name);
    // At most one per allowed attribute, so a short list.
    let mut written: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for attribute in tag.attributes() {
        let attr = lowercase(attribute.name);
        if written.contains(&attr)
            || attr.starts_with("on")
            || attr == "style"
            || !allow.allows_attribute(name, &attr)
        {
            continue;
        }
        let value = text::decode_entities(attribute.value.unwrap_or(""));
        let value: std::borrow::Cow<'_, str> = if text::has_forbidden_in_output(&value) {
            value
                .chars()
                .filter(|&c| !text::is_forbidden_in_output(c))
                .collect::<String>()
                .into()
        } else {
            value
        };
        let value = if URL_ATTRIBUTES.contains(&&*attr) {
            match check_url(&value, allow.schemes()) {
                Some(v) => std::borrow::Cow::Owned(v.into_owned()),
                None => continue,
            }
        } else {
            value
        };
        out.push(' ');
        out.push_str(&attr);
        out.push_str("=\"");
        text::escape_attr_into(out, &value);
        out.push('"');
        written.push(attr);
    }
    if is_void {
        out.push_str(" />");
    } else if tag.self_closing {
        out.push_str("></");
        out.push_str(name);
        out.push('>');
    } else {
        out.push('>');
        stack.push(name);
    }
    rest
}

/// The floor's own name for a tag name written in any case.
fn floor_name(written: &str) -> Option<&'static str> {
    // No floor name is longer; the floor is sorted.
    let mut lower = [0u8; 10];
    let b = written.as_bytes();
    let lower = lower.get_mut(..b.len())?;
    for (l, c) in lower.iter_mut().zip(b) {
        *l = c.to_ascii_lowercase();
    }
    FLOOR
        .binary_search_by(|(n, _)| n.as_bytes().cmp(lower))
        .ok()
        .map(|i| FLOOR[i].0)
}

/// `s` in ASCII lower case, borrowed when it already is.
pub(crate) fn lowercase(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Skips to just after `</name ...>` (ASCII case-insensitive), or to the end.
pub(crate) fn skip_past_end_tag<'a>(s: &'a str, name: &str) -> &'a str {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(start) = markup::find_seq(bytes, from, b"</") {
        let name_start = start + 2;
        let name_end = name_start + name.len();
        if bytes.len() >= name_end
            && bytes[name_start..name_end].eq_ignore_ascii_case(name.as_bytes())
            && !bytes
                .get(name_end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return match markup::find_byte(bytes, name_end, b'>') {
                Some(gt) => &s[gt + 1..],
                None => "",
            };
        }
        from = start + 2;
    }
    ""
}

#[cfg(test)]
mod tests;
