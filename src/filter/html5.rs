//! What the `html` filter's `html5` parser hands to ammonia (html5ever):
//! the input, unchanged unless it would make html5ever superlinear.
//!
//! html5ever 0.40 has three paths that hostile input reaches:
//!
//! * its tree builder scans the stack of open elements for many tokens, and
//!   nothing bounds the depth (upstream issue servo/html5ever#788): 100 KB of
//!   `<pre>` took a second, 1 MB minutes;
//! * its tokenizer checks each attribute of a tag against all the earlier
//!   ones;
//! * its serializer, for each `&` and each character from U+0080 to U+00BF
//!   it writes, searches on to the next `<` or `>` (`"` in attributes):
//!   1 MB of `&amp;amp` took four seconds.
//!
//! [`prepare`] reads the input once with the shared lexer. Start tags nested
//! deeper than [`MAX_NESTING`] are dropped (their content stays), counting
//! strictly: an end tag closes an element only when it is the innermost
//! one, so misnested markup counts deeper than any browser would see it,
//! and the depth html5ever reaches stays below a small multiple of the
//! bound. A tag keeps its first [`MAX_ATTRIBUTES`] attributes. When the
//! text would hold more than [`MAX_ESCAPED`] characters the serializer
//! escapes, every `&` is hidden behind a noncharacter, so that html5ever
//! decodes and re-escapes none; [`restore`] gives the output its `&` back
//! (references come out as written, U+0080–U+00BF as numeric references:
//! both render the same). Ordinary input passes through untouched, and
//! comes out as before.

use std::borrow::Cow;

use crate::markup::{self, Markup};
use crate::text::{self, CharRef};

/// Start tags nested deeper than this (counted strictly) are dropped.
pub(crate) const MAX_NESTING: usize = 256;

/// Attributes of one tag beyond this many are dropped.
pub(crate) const MAX_ATTRIBUTES: usize = 256;

/// Characters the serializer escapes slowly (`&`, U+0080–U+00BF) that the
/// input may decode to before its `&` are hidden.
pub(crate) const MAX_ESCAPED: usize = 64;

/// Stands for `&` while html5ever reads the input: a noncharacter, kept as
/// text by every parser state.
const HIDDEN_AMPERSAND: char = '\u{fdd0}';

/// Void in HTML and never nested in foreign content (where a start tag of
/// these leaves SVG or MathML): the only start tags the strict count may
/// skip without ever counting less than html5ever nests.
const SURELY_VOID: &[&str] = &["br", "embed", "hr", "img", "meta"];

/// The input for html5ever, and whether its `&` are hidden.
pub(crate) struct Prepared<'a> {
    pub(crate) text: Cow<'a, str>,
    hidden: bool,
}

/// Reads `input` and says what html5ever should get instead.
pub(crate) fn prepare(input: &str) -> Prepared<'_> {
    let survey = survey(input);
    let mut text = Cow::Borrowed(input);
    if survey.too_deep || survey.crowded_tags {
        text = Cow::Owned(flatten(input));
    }
    let hidden = survey.escaped > MAX_ESCAPED;
    if hidden {
        text = Cow::Owned(hide_ampersands(&text));
    }
    Prepared { text, hidden }
}

/// ammonia's output for a [`Prepared`] input, with its `&` back.
pub(crate) fn restore(prepared: &Prepared<'_>, cleaned: String) -> String {
    if prepared.hidden {
        cleaned.replace(HIDDEN_AMPERSAND, "&")
    } else {
        cleaned
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Survey {
    /// Some start tag nests deeper than [`MAX_NESTING`] (strictly counted).
    too_deep: bool,
    /// Some tag has more than [`MAX_ATTRIBUTES`] attributes.
    crowded_tags: bool,
    /// Characters the text decodes to that html5ever's serializer escapes
    /// slowly (an upper bound).
    escaped: usize,
}

/// The strict count of open elements: a start tag opens one (unless
/// [`SURELY_VOID`]), an end tag closes the innermost one if it has the
/// same name.
#[derive(Default)]
struct Nesting<'a> {
    open: Vec<&'a str>,
}

impl<'a> Nesting<'a> {
    /// Counts a tag; false for a start tag that would nest too deep.
    fn admit(&mut self, tag: &markup::Tag<'a>) -> bool {
        if tag.is_end {
            if self
                .open
                .last()
                .is_some_and(|n| n.eq_ignore_ascii_case(tag.name))
            {
                self.open.pop();
            }
            return true;
        }
        if SURELY_VOID.iter().any(|v| tag.is(v)) {
            return true;
        }
        if self.open.len() >= MAX_NESTING {
            return false;
        }
        self.open.push(tag.name);
        true
    }
}

fn survey(input: &str) -> Survey {
    let b = input.as_bytes();
    let mut survey = Survey::default();
    let mut nesting = Nesting::default();
    let mut at = 0;
    while at < b.len() {
        let Some(lt) = markup::find_byte(b, at, b'<') else {
            survey.escaped += escaped_in(&input[at..]);
            break;
        };
        survey.escaped += escaped_in(&input[at..lt]);
        let read = markup::read(input, lt);
        if let Markup::Tag(tag) = &read.markup {
            survey.escaped += escaped_in(&input[tag.attributes_at()..read.end]);
            if tag.attribute_count > MAX_ATTRIBUTES {
                survey.crowded_tags = true;
            }
            // Until the first tag is refused, the bounded count is the count.
            if !survey.too_deep && !nesting.admit(tag) {
                survey.too_deep = true;
            }
        }
        at = read.end;
    }
    survey
}

/// How many characters that html5ever's serializer escapes slowly `s` may
/// decode to: `&` (written or as a reference) and U+0080–U+00BF.
fn escaped_in(s: &str) -> usize {
    let b = s.as_bytes();
    let mut count = 0;
    for i in memchr::memchr2_iter(b'&', 0xc2, b) {
        if b[i] == 0xc2 {
            count += 1;
            continue;
        }
        let decoded = match text::parse_char_ref(&s[i..]) {
            Some(CharRef::Numeric { code, .. }) => char::from_u32(code),
            Some(CharRef::Named { len }) => text::lookup_named(&s[i..i + len]).map(|(c, _)| c),
            None => Some('&'),
        };
        if decoded.is_some_and(|c| c == '&' || ('\u{80}'..='\u{bf}').contains(&c)) {
            count += 1;
        }
    }
    markup::examined(b.len() + 1);
    count
}

/// `input` without the start tags nested too deep and the attributes of a
/// tag beyond the first [`MAX_ATTRIBUTES`].
fn flatten(input: &str) -> String {
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut nesting = Nesting::default();
    let mut at = 0;
    while at < b.len() {
        let lt = markup::find_byte(b, at, b'<').unwrap_or(b.len());
        out.push_str(&input[at..lt]);
        if lt == b.len() {
            break;
        }
        let read = markup::read(input, lt);
        match &read.markup {
            Markup::Tag(tag) => {
                if nesting.admit(tag) {
                    match tag.attributes().nth(MAX_ATTRIBUTES - 1) {
                        Some(last)
                            if tag.terminated && tag.attributes().nth(MAX_ATTRIBUTES).is_some() =>
                        {
                            out.push_str(&input[lt..last.end]);
                            out.push_str(if tag.self_closing { "/>" } else { ">" });
                        }
                        _ => out.push_str(&input[lt..read.end]),
                    }
                }
            }
            _ => out.push_str(&input[lt..read.end]),
        }
        at = read.end;
    }
    out
}

/// `s` with every `&` replaced by [`HIDDEN_AMPERSAND`]; the characters
/// U+0080–U+00BF, and the noncharacter itself, are written as references
/// (whose `&` is hidden in turn).
fn hide_ampersands(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '&' => out.push(HIDDEN_AMPERSAND),
            '\u{80}'..='\u{bf}' | HIDDEN_AMPERSAND => {
                out.push(HIDDEN_AMPERSAND);
                out.push_str(&format!("#{};", c as u32));
            }
            c => out.push(c),
        }
    }
    markup::examined(s.len() + 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_passes_through() {
        let s = "<p>a &amp; b <em>c</em><br>\u{a0}&nbsp;</p><ul><li>x</li></ul>";
        let p = prepare(s);
        assert!(matches!(p.text, Cow::Borrowed(_)));
        assert!(!p.hidden);
    }

    #[test]
    fn nesting_beyond_the_bound_is_flattened_strictly() {
        let deep = "<b>".repeat(MAX_NESTING + 10) + "x" + &"</b>".repeat(MAX_NESTING + 10);
        let p = prepare(&deep);
        assert_eq!(p.text.matches("<b>").count(), MAX_NESTING);
        assert!(p.text.contains('x'));
        // Misnested tags count deeper than they nest in a browser.
        let sloppy = "<i><b></i></b>".repeat(MAX_NESTING);
        assert!(survey(&sloppy).too_deep);
    }

    #[test]
    fn a_crowded_tag_keeps_its_first_attributes() {
        let attrs: String = (0..MAX_ATTRIBUTES + 5)
            .map(|i| format!(" a{i}=\"x\""))
            .collect();
        let s = format!("<a{attrs}>y</a>");
        let p = prepare(&s);
        assert!(p.text.contains(&format!("a{}=", MAX_ATTRIBUTES - 1)));
        assert!(!p.text.contains(&format!("a{}=", MAX_ATTRIBUTES)));
        assert!(p.text.ends_with("\">y</a>"));
    }

    #[test]
    fn many_escaped_characters_hide_the_ampersands_and_get_them_back() {
        let s = "&amp;x\u{a0}".repeat(MAX_ESCAPED);
        let p = prepare(&s);
        assert!(p.hidden);
        assert!(!p.text.contains('&') && !p.text.contains('\u{a0}'));
        assert_eq!(
            restore(&p, p.text.to_string()),
            "&amp;x&#160;".repeat(MAX_ESCAPED)
        );
        // Quotes and `&lt;` decode to nothing slow.
        assert!(!prepare(&"&quot;&lt;".repeat(1000)).hidden);
    }
}
