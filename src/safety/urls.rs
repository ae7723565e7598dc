//! Link targets: which URLs the safety net lets through, parsed the way a
//! browser would read them.

use super::*;

/// Checks a URL the way a browser will read it (WHATWG parsing, which the
/// `url` crate implements) and returns what to write into the attribute, or
/// `None` when it does not parse or its scheme is not allowed.
///
/// A URL with no space, control, quote or other character that needs
/// escaping is written as typed: the browser runs the same parser over the
/// same characters, so it reaches the same scheme we checked. Anything else
/// is written as the parser's serialization.
///
/// A relative reference (`/quote`, `page.html#x`: no scheme as the parser
/// reads it) resolves against the page, so it gets the page's scheme; it is
/// allowed, as written, when http or https is.
pub fn check_url<'a>(value: &'a str, schemes: &[String]) -> Option<std::borrow::Cow<'a, str>> {
    let (scheme, serialized) = parse_url(value)?;
    if scheme.is_empty() {
        return schemes
            .iter()
            .any(|s| s == "http" || s == "https")
            .then_some(std::borrow::Cow::Borrowed(value));
    }
    if !FLOOR_SCHEMES.contains(&scheme.as_str()) || !schemes.contains(&scheme) {
        return None;
    }
    Some(match serialized {
        None => std::borrow::Cow::Borrowed(value),
        Some(s) => std::borrow::Cow::Owned(s),
    })
}

/// A URL that passed [`check_url`], in the form to write; only this module
/// makes one, so a writer that takes one writes no unchecked link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedUrl(String);

impl CheckedUrl {
    /// The URL to write (not yet escaped for an attribute).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// [`check_url`], for a writer that takes only checked links.
pub(crate) fn checked_url(value: &str, schemes: &[String]) -> Option<CheckedUrl> {
    check_url(value, schemes).map(|v| CheckedUrl(v.into_owned()))
}

/// A URL as the WHATWG parser reads it: its scheme (empty for a relative
/// reference), and the serialization to write instead of the value
/// (`None`: write the value as typed).
type ParsedUrl = Option<(String, Option<String>)>;

thread_local! {
    /// The last few URLs parsed on this thread. The URL filter checks each
    /// link it makes, and the safety net checks it again; parsing is a pure
    /// function of the text, so the second check can reuse the first.
    static RECENT_URLS: std::cell::RefCell<std::collections::VecDeque<(String, ParsedUrl)>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

pub(super) fn parse_url(value: &str) -> ParsedUrl {
    const REMEMBERED: usize = 16;
    let hit = RECENT_URLS.with(|r| {
        r.borrow()
            .iter()
            .find(|(v, _)| v == value)
            .map(|(_, p)| p.clone())
    });
    if let Some(parsed) = hit {
        return parsed;
    }
    let parsed = match url::Url::parse(value) {
        Err(url::ParseError::RelativeUrlWithoutBase) => Some((String::new(), None)),
        other => other.ok().map(|u| {
        let plain = value.chars().all(|c| {
            if c.is_ascii() {
                ('\u{21}'..='\u{7e}').contains(&c) && !matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
            } else {
                !c.is_whitespace()
                    && !text::is_forbidden_char(c)
                    && !matches!(c, '\u{80}'..='\u{9f}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
            }
        });
        (u.scheme().to_owned(), (!plain).then(|| u.as_str().to_owned()))
    }),
    };
    RECENT_URLS.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() >= REMEMBERED {
            r.pop_front();
        }
        r.push_back((value.to_owned(), parsed.clone()));
    });
    parsed
}
