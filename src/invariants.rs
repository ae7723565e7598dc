//! Properties every rendering must have, checked by the property tests and
//! by the fuzz targets.
//!
//! * **Allowed only:** read back by html5ever's tokenizer (the browser's
//!   algorithm), the output holds only elements and attributes the policy's
//!   safety net allows, no comments or doctypes, and every URL attribute has
//!   an allowed scheme (a relative URL, which keeps the page's scheme, where
//!   http or https is allowed).
//! * **Stable:** the safety net run again over the output changes nothing.
//! * **Deterministic:** the same input renders the same twice.
//! * **Well-formed characters:** no character that XML 1.0 or HTML forbids
//!   ([`crate::text`]'s output set: controls, U+FFFE, U+FFFF, bidi
//!   overrides), neither as itself nor as a numeric character reference.
//! * **Bounded:** the output is at most [`MAX_GROWTH`] times the input
//!   (+256). The largest growth is Markdown's: each `>` opens a blockquote,
//!   27 bytes of markup for one byte of input, up to the nesting cap.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use crate::policy::Policy;
use crate::safety;

/// How many times larger than its input an output may be.
pub const MAX_GROWTH: usize = 32;

/// A broken invariant, with what was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// An element the policy does not allow.
    #[error("element <{0}> is not allowed")]
    Element(String),
    /// An attribute the policy does not allow on that element.
    #[error("attribute {1} is not allowed on <{0}>")]
    Attribute(String, String),
    /// A URL with a scheme the policy does not allow.
    #[error("URL {1:?} on <{0}> has a scheme that is not allowed")]
    Url(String, String),
    /// A comment, doctype or other non-content token.
    #[error("unexpected markup token: {0}")]
    Token(String),
    /// The safety net changed its own output.
    #[error("running the safety net again changed the output:\n{0}\n---\n{1}")]
    NotStable(String, String),
    /// Two renderings of one input differ.
    #[error("rendering is not deterministic")]
    NotDeterministic,
    /// A character no output may hold (raw, or as `&#…;`).
    #[error("the output holds the forbidden character {0:?}")]
    Character(char),
    /// The output is too large for its input.
    #[error("output of {0} bytes for {1} bytes of input")]
    TooLarge(usize, usize),
}

/// Renders `input` with `policy` and checks every invariant.
///
/// # Errors
/// The first [`Violation`] found.
pub fn check_rendering(policy: &Policy, input: &str) -> Result<String, Violation> {
    let first = policy.render(input).html.into_string();
    let second = policy.render(input).html.into_string();
    if first != second {
        return Err(Violation::NotDeterministic);
    }
    check_output(policy, input, &first)?;
    Ok(first)
}

/// Checks one output against the policy (everything but determinism).
///
/// # Errors
/// The first [`Violation`] found.
pub fn check_output(policy: &Policy, input: &str, output: &str) -> Result<(), Violation> {
    if output.len() > MAX_GROWTH * input.len() + 256 {
        return Err(Violation::TooLarge(output.len(), input.len()));
    }
    allowed_only(policy, output)?;
    forbidden_characters(output)?;
    let again = safety::finalize(output, policy.allowlist()).into_string();
    if again != output {
        return Err(Violation::NotStable(output.to_owned(), again));
    }
    Ok(())
}

/// Checks that no forbidden character is in `output`, raw or referenced.
///
/// # Errors
/// [`Violation::Character`] with the first one.
pub fn forbidden_characters(output: &str) -> Result<(), Violation> {
    if let Some(c) = output
        .chars()
        .find(|&c| c == '\r' || crate::text::is_forbidden_in_output(c))
    {
        return Err(Violation::Character(c));
    }
    let mut rest = output;
    while let Some(i) = memchr::memchr(b'&', rest.as_bytes()) {
        rest = &rest[i..];
        if let Some(crate::text::CharRef::Numeric { code, .. }) = crate::text::parse_char_ref(rest)
        {
            match char::from_u32(code) {
                Some(c) if c != '\0' && !crate::text::is_forbidden_in_output(c) => {}
                _ => return Err(Violation::Character(char::from_u32(code).unwrap_or('\0'))),
            }
        }
        rest = &rest[1..];
    }
    Ok(())
}

/// Tokenizes `output` as a browser would and checks every tag.
///
/// # Errors
/// The first disallowed element, attribute, URL or token.
pub fn allowed_only(policy: &Policy, output: &str) -> Result<(), Violation> {
    let allow = policy.allowlist();
    for token in tokens(output) {
        match token {
            Seen::Tag(tag) => {
                let name = tag.name.to_string();
                if !allow.allows_tag(&name) {
                    return Err(Violation::Element(name));
                }
                if tag.kind == TagKind::EndTag {
                    continue;
                }
                for attr in &tag.attrs {
                    let attr_name = attr.name.local.to_string();
                    let value = attr.value.to_string();
                    if attr_name.starts_with("on")
                        || attr_name == "style"
                        || !allow.allows_attribute(&name, &attr_name)
                    {
                        return Err(Violation::Attribute(name, attr_name));
                    }
                    if safety::URL_ATTRIBUTES.contains(&attr_name.as_str()) {
                        let allowed = |scheme: &str| {
                            allow.schemes().iter().any(|s| s == scheme)
                                && safety::FLOOR_SCHEMES.contains(&scheme)
                        };
                        // A relative URL (as a browser parses it: no scheme
                        // of its own) keeps the page's http(s) scheme, so
                        // it is allowed where http or https is.
                        let scheme_ok = match url::Url::parse(&value) {
                            Ok(u) => allowed(u.scheme()),
                            Err(url::ParseError::RelativeUrlWithoutBase) => {
                                url::Url::parse("https://colloquy.invalid/")
                                    .and_then(|base| base.join(&value))
                                    .is_ok_and(|u| u.scheme() == "https")
                                    && (allowed("http") || allowed("https"))
                            }
                            Err(_) => false,
                        };
                        if !scheme_ok {
                            return Err(Violation::Url(name, value));
                        }
                    }
                }
            }
            Seen::Other(what) => return Err(Violation::Token(what)),
        }
    }
    Ok(())
}

enum Seen {
    Tag(Tag),
    Other(String),
}

#[derive(Default)]
struct Collector {
    seen: RefCell<Vec<Seen>>,
}

impl TokenSink for Collector {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let seen = match token {
            Token::TagToken(tag) => Some(Seen::Tag(tag)),
            Token::CommentToken(c) => Some(Seen::Other(format!("comment {c:?}"))),
            Token::DoctypeToken(d) => Some(Seen::Other(format!("doctype {d:?}"))),
            Token::CharacterTokens(_) | Token::NullCharacterToken | Token::EOFToken => None,
            Token::ParseError(_) => None,
        };
        if let Some(s) = seen {
            self.seen.borrow_mut().push(s);
        }
        TokenSinkResult::Continue
    }
}

fn tokens(html: &str) -> Vec<Seen> {
    let tokenizer = Tokenizer::new(Collector::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.seen.take()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    #[test]
    fn relative_urls_keep_the_page_scheme_and_pass() {
        let set = PolicySet::bundled();
        let p = set.get("filtered_html").expect("bundled");
        // Found by fuzzing: relative targets are not schemes.
        for input in [
            "<blockquote cite=\"javascriptgtlert(1)\">bad cite</blockquote>",
            "ample.com/@handlehttps://example.com/@handle",
        ] {
            for format in ["filtered_html", "markdown"] {
                let policy = set.get(format).expect("bundled");
                assert_eq!(
                    check_rendering(policy, input).map(|_| ()),
                    Ok(()),
                    "{format}: {input}"
                );
            }
        }
        assert!(allowed_only(p, "<blockquote cite=\"notes/a.html\">x</blockquote>").is_ok());
        assert!(matches!(
            allowed_only(p, "<blockquote cite=\"javascript:alert(1)\">x</blockquote>"),
            Err(Violation::Url(..))
        ));
        assert!(matches!(
            allowed_only(
                p,
                "<blockquote cite=\" java\tscript:alert(1)\">x</blockquote>"
            ),
            Err(Violation::Url(..))
        ));
    }

    #[test]
    fn a_script_tag_in_output_is_reported() {
        let set = PolicySet::bundled();
        let p = set.get("filtered_html").expect("bundled");
        assert_eq!(
            allowed_only(p, "<script>x</script>"),
            Err(Violation::Element("script".into()))
        );
        assert_eq!(
            allowed_only(p, "<em onclick=\"x\">y</em>"),
            Err(Violation::Attribute("em".into(), "onclick".into()))
        );
        assert!(matches!(
            allowed_only(p, "<a href=\"javascript:x\">y</a>"),
            Err(Violation::Url(..))
        ));
        assert!(matches!(
            allowed_only(p, "<!-- x -->"),
            Err(Violation::Token(_))
        ));
    }

    #[test]
    fn ordinary_renderings_hold_every_invariant() {
        let set = PolicySet::bundled();
        for p in set.iter() {
            for input in ["hi", "<em>x</em> http://example.com\n\ny", "a < b & c", ""] {
                assert!(check_rendering(p, input).is_ok(), "{} {input:?}", p.id());
            }
        }
    }
}
