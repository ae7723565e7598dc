//! `url`: web addresses and e-mail addresses in text become links.
//!
//! Only text is touched: tags and attribute values never are, nor anything
//! inside `<a>`, `<code>`, `<pre>`, `<script>` or `<style>`. Character
//! references in the text are decoded before matching (so `&quot;` after an
//! address is not swallowed into it) and the text around links is copied
//! byte for byte.
//!
//! Two grammars:
//!
//! * `drupal` (the bundled formats) finds what Drupal 7's URL filter finds —
//!   same schemes, same host rules, the same trailing characters kept or
//!   left outside — with its flaws fixed: schemes and `www.` in any case, a
//!   left word boundary (`gluedhttp://` is not a link), balanced parentheses
//!   and brackets inside links, non-ASCII paths and hosts, e-mail addresses
//!   never linked from the middle of a word.
//! * `linkify` uses the linkify crate's finder (suits Markdown text).
//!
//! Every generated link's target goes through [`safety::check_url`]: a link
//! whose scheme the policy does not allow stays plain text. Display text
//! longer than the limit is cut, at a character boundary, and ends in `...`.

#[cfg(test)]
use std::sync::LazyLock;

#[cfg(test)]
use regex::Regex;

use crate::markup::{self, Markup, Read};
use crate::safety;
use crate::text;

mod grammar;
use grammar::*;

/// How the filter finds addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// Drupal 7's patterns, corrected (see the module docs).
    Drupal,
    /// The linkify crate.
    Linkify,
}

/// The compiled `url` filter.
#[derive(Debug, Clone)]
pub(crate) struct UrlFilter {
    pub(crate) grammar: Grammar,
    /// Display text longer than this (plus three) is cut; 0 means never.
    pub(crate) max_display_length: usize,
    /// `rel` for generated links, or `None` for no attribute.
    pub(crate) rel: Option<String>,
    /// Whether e-mail addresses become `mailto:` links.
    pub(crate) emails: bool,
    /// Schemes that may be linked (already confined to the safety floor).
    pub(crate) schemes: Vec<String>,
}

/// Elements whose content is never auto-linked.
const IGNORE_TAGS: &[&str] = &["a", "script", "style", "code", "pre"];

/// The address grammar as regular expressions. The filter uses the
/// equivalent hand-written matchers below ([`full_url_at`], [`www_at`]):
/// Unicode classes make these patterns too big for the regex crate's fast
/// engines. The tests keep them as the reference the matchers must agree with.
#[cfg(test)]
static FULL_URL: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"^(?i:https?|ftp|irc|mailto|news|nntp|rtsp|sftp|ssh|telnet|tel|webcal):(?://)?",
        r"(?:[a-zA-Z0-9:%_+*~#?&=.,/;-]+@)?",
        r"(?:(?:[\p{L}\p{N}\p{M}._+-]+\.)?[\p{L}\p{M}]{2,64}\b|(?:[0-9]{1,3}\.){3}[0-9]{1,3})/?",
    ))
});

#[cfg(test)]
static WWW: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(?i:www)\.(?:(?:[\p{L}\p{N}\p{M}._+-]+\.)?[\p{L}\p{M}]{2,64}\b)/?")
});

/// Schemes Drupal's URL filter recognises (matched case-insensitively);
/// only the policy's schemes become links.
const SCHEMES: &[&str] = &[
    "http", "https", "ftp", "irc", "mailto", "news", "nntp", "rtsp", "sftp", "ssh", "telnet",
    "tel", "webcal",
];

#[cfg(test)]
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("url pattern {pattern}: {e}"))
}

/// One link to make: where its address is in the text, its checked
/// target, and the text to show (`cut`: followed by `...`).
pub(crate) struct Link<'t, 'h> {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) href: &'h safety::CheckedUrl,
    pub(crate) display: &'t str,
    pub(crate) cut: bool,
}

/// One address found in decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Full,
    Www,
    Email,
}

impl UrlFilter {
    /// Appends `input` with links added to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        let bytes = input.as_bytes();
        let mut ignoring: Option<&'static str> = None;
        let mut at = 0;
        let mut scan = 0;
        while at < bytes.len() {
            // Text runs to the next `<` that starts markup (a `<` that
            // starts nothing is text, and so may end an address).
            let lt = markup::find_byte(bytes, scan, b'<').unwrap_or(bytes.len());
            let read = (lt < bytes.len()).then(|| markup::read(input, lt));
            if let Some(Read {
                markup: Markup::Text,
                ..
            }) = read
            {
                scan = lt + 1;
                continue;
            }
            let segment = &input[at..lt];
            if ignoring.is_none() {
                self.link_text(segment, out);
            } else {
                out.push_str(segment);
            }
            let Some(read) = read else { break };
            out.push_str(&input[lt..read.end]);
            if let Markup::Tag(tag) = &read.markup {
                match ignoring {
                    None if !tag.is_end => {
                        ignoring = IGNORE_TAGS.iter().copied().find(|n| tag.is(n));
                    }
                    Some(name) if tag.is_end && tag.is(name) => ignoring = None,
                    _ => {}
                }
            }
            at = read.end;
            scan = at;
        }
    }

    /// Links the addresses in one piece of text (HTML-escaped, no tags).
    fn link_text(&self, segment: &str, out: &mut String) {
        // Decoding references costs; skip it when no address can start here.
        let has_candidate = self.has_candidate(segment);
        if !has_candidate {
            out.push_str(segment);
            return;
        }
        let decoded = Decoded::new(segment);
        let mut copied = 0;
        self.each_link(&decoded.text, |link| {
            let (orig_start, orig_end) = decoded.original_range(link.start, link.end);
            out.push_str(&segment[copied..orig_start]);
            out.push_str("<a href=\"");
            text::escape_into(out, link.href.as_str());
            out.push('"');
            if let Some(rel) = &self.rel {
                out.push_str(" rel=\"");
                text::escape_into(out, rel);
                out.push('"');
            }
            out.push('>');
            text::escape_into(out, link.display);
            if link.cut {
                out.push_str("...");
            }
            out.push_str("</a>");
            copied = orig_end;
        });
        out.push_str(&segment[copied..]);
    }

    /// Could `text` (tag-free, no character references) hold an address?
    /// The characters candidates hinge on (`:`, `@`, `www.`) are never
    /// escaped, so for escaped text the raw text answers for the decoded one.
    pub(crate) fn has_candidate(&self, text: &str) -> bool {
        match self.grammar {
            Grammar::Drupal => {
                scheme_candidates(text).next().is_some()
                    || (self.emails && text.contains('@'))
                    || www_candidates(text).next().is_some()
            }
            Grammar::Linkify => might_contain_link(text),
        }
    }

    /// Calls `f` for each link to make in `text` (decoded, tag-free), left
    /// to right: what [`Self::link_text`] links, for the fast path too.
    pub(crate) fn each_link<'t>(&self, text: &'t str, mut f: impl FnMut(Link<'t, '_>)) {
        let found = match self.grammar {
            Grammar::Drupal => self.find_drupal(text),
            Grammar::Linkify => self.find_linkify(text),
        };
        for link in found {
            let address = &text[link.start..link.end];
            if !host_is_single_script(host_of(address, link.kind)) {
                // `www.еxample.com` with a Cyrillic `е`: a look-alike of
                // another site's name is not worth a link.
                continue;
            }
            let href: std::borrow::Cow<'_, str> = match link.kind {
                Kind::Full => address.into(),
                Kind::Www => format!("http://{address}").into(),
                Kind::Email => format!("mailto:{address}").into(),
            };
            let Some(href) = safety::checked_url(&href, &self.schemes) else {
                continue;
            };
            let display = self.display(address);
            f(Link {
                start: link.start,
                end: link.end,
                href: &href,
                display,
                cut: display.len() < address.len(),
            });
        }
    }

    /// The part of an address shown as link text (without the `...`).
    fn display<'s>(&self, address: &'s str) -> &'s str {
        let max = self.max_display_length;
        if max == 0 || address.len() <= max + 3 {
            return address;
        }
        &address[..text::floor_char_boundary(address, max)]
    }

    fn find_drupal(&self, text: &str) -> Vec<Found> {
        // Full URLs first, then e-mail addresses and `www.` addresses in the
        // gaps between them, as Drupal's three passes do.
        let mut found: Vec<Found> = Vec::new();
        let mut runs = Runs::default();
        for start in scheme_candidates(text) {
            if found.last().is_some_and(|f| f.end > start) {
                continue;
            }
            if let Some(prefix_end) = full_url_at(text, start, &mut runs) {
                let end = scan_trail(text, prefix_end);
                found.push(Found {
                    start,
                    end,
                    kind: Kind::Full,
                });
            }
        }
        let mut gaps_found = Vec::new();
        if self.emails {
            for_each_gap(text, &found, |gap_start, gap| {
                for (s, e) in find_emails(gap) {
                    gaps_found.push(Found {
                        start: gap_start + s,
                        end: gap_start + e,
                        kind: Kind::Email,
                    });
                }
            });
        }
        let all = merge(found, gaps_found);
        let mut www_found: Vec<Found> = Vec::new();
        for_each_gap(text, &all, |gap_start, gap| {
            let mut runs = Runs::default();
            for start in www_candidates(gap) {
                if www_found.last().is_some_and(|f| f.end > gap_start + start) {
                    continue;
                }
                if let Some(prefix_end) = www_at(gap, start, &mut runs) {
                    let end = scan_trail(gap, prefix_end);
                    www_found.push(Found {
                        start: gap_start + start,
                        end: gap_start + end,
                        kind: Kind::Www,
                    });
                }
            }
        });
        merge(all, www_found)
    }

    fn find_linkify(&self, text: &str) -> Vec<Found> {
        LINK_FINDERS.with(|finders| {
            finders[usize::from(self.emails)]
                .links(text)
                .map(|l| {
                    let kind = match l.kind() {
                        linkify::LinkKind::Email => Kind::Email,
                        _ if starts_with_scheme(l.as_str()) => Kind::Full,
                        _ => Kind::Www,
                    };
                    Found {
                        start: l.start(),
                        end: l.end(),
                        kind,
                    }
                })
                .collect()
        })
    }
}

/// Whether a link linkify found begins with its own scheme (`https://…`,
/// `mailto:…`). A `://` later on (`example.com/@a https://…` run together)
/// is part of the path: such a link has no scheme and gets `http://`.
fn starts_with_scheme(link: &str) -> bool {
    if link.starts_with("mailto:") {
        return true;
    }
    let Some(colon) = link.find("://") else {
        return false;
    };
    let scheme = &link[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

thread_local! {
    /// The linkify finders, built once per thread rather than once per
    /// piece of text: URLs without a scheme, and without or with e-mail
    /// addresses.
    static LINK_FINDERS: [linkify::LinkFinder; 2] = [false, true].map(|emails| {
        let mut finder = linkify::LinkFinder::new();
        finder.url_must_have_scheme(false);
        if emails {
            finder.kinds(&[linkify::LinkKind::Url, linkify::LinkKind::Email]);
        } else {
            finder.kinds(&[linkify::LinkKind::Url]);
        }
        finder
    });
}

#[cfg(test)]
mod tests;
