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
                        _ if l.as_str().contains("://") || l.as_str().starts_with("mailto:") => {
                            Kind::Full
                        }
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

/// What the address matchers learnt about a run of characters, for the
/// next candidate that starts inside the same run: in a flood such as
/// `-www.-www.…` or `http:-http:-…` every candidate's host or user info
/// reaches the same far end, and is read once.
#[derive(Debug, Default)]
struct Runs {
    /// A run of user-info characters: `(asked at, ends at)`.
    auth: Option<(usize, usize)>,
    /// A run of host-label characters.
    label: Option<LabelRun>,
}

#[derive(Debug, Clone, Copy)]
struct LabelRun {
    /// The position asked about when the run was read.
    from: usize,
    end: usize,
    /// The last dot after `from` that a valid TLD follows, and where that
    /// TLD ends.
    last_dot: Option<(usize, usize)>,
}

impl Runs {
    /// Where the run of user-info characters starting at `at` ends.
    fn auth_end(&mut self, b: &[u8], at: usize) -> usize {
        match self.auth {
            Some((from, end)) if from <= at && at <= end => end,
            _ => {
                let end = markup::run_end(b, at, |c| {
                    c.is_ascii_alphanumeric() || b":%_+*~#?&=.,/;-".contains(&c)
                });
                self.auth = Some((at, end));
                end
            }
        }
    }

    /// The run of host-label characters that `at` is in, read from `at`.
    fn label_run(&mut self, text: &str, at: usize) -> LabelRun {
        if let Some(run) = self.label {
            if run.from <= at && at <= run.end {
                return run;
            }
        }
        let end = markup::char_run_end(text, at, is_label_char);
        let mut last_dot = None;
        for (dot, _) in text[at..end].rmatch_indices('.') {
            if dot == 0 {
                continue;
            }
            if let Some(tld_end) = tld_at(text, at + dot + 1) {
                last_dot = Some((at + dot, tld_end));
                break;
            }
        }
        let run = LabelRun {
            from: at,
            end,
            last_dot,
        };
        self.label = Some(run);
        run
    }
}

/// Where scheme, user info, host and optional `/` of a full URL starting at
/// `start` end: Drupal's `scheme:(//)?(userinfo@)?(host|ipv4)/?`, trying the
/// alternatives in the order a backtracking regex would.
fn full_url_at(text: &str, start: usize, runs: &mut Runs) -> Option<usize> {
    let b = text.as_bytes();
    let colon = markup::find_byte(b, start, b':')?;
    let after_colon = colon + 1;
    // Read from the colon first, so that both starts share the answer.
    let auth_end = runs.auth_end(b, after_colon);
    let mut starts = Vec::with_capacity(2);
    if b[after_colon..].starts_with(b"//") {
        starts.push(after_colon + 2);
    }
    starts.push(after_colon);
    for at in starts {
        let auth = auth_end.max(at) - at;
        if auth > 0 && b.get(at + auth) == Some(&b'@') {
            if let Some(end) = host_at(text, at + auth + 1, true, runs) {
                return Some(end);
            }
        }
        if let Some(end) = host_at(text, at, true, runs) {
            return Some(end);
        }
    }
    None
}

/// The same for `www.` addresses: `www.` (any case), a host, optional `/`.
fn www_at(text: &str, start: usize, runs: &mut Runs) -> Option<usize> {
    let b = text.as_bytes();
    if !(b.len() >= start + 4
        && b[start..start + 3].eq_ignore_ascii_case(b"www")
        && b[start + 3] == b'.')
    {
        return None;
    }
    host_at(text, start + 4, false, runs)
}

/// A host name (or, when allowed, an IPv4 address) at `at`, then an
/// optional `/`; returns where that ends.
fn host_at(text: &str, at: usize, ipv4: bool, runs: &mut Runs) -> Option<usize> {
    let end = domain_at(text, at, runs).or_else(|| if ipv4 { ipv4_at(text, at) } else { None })?;
    Some(if text.as_bytes().get(end) == Some(&b'/') {
        end + 1
    } else {
        end
    })
}

/// Letters, digits, marks and `._+-`: what a host's labels are made of.
fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
}

/// A word character, as a regex's `\b` sees it.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `(labels.)?tld` at `at`, with a TLD of 2-64 letters ending at a word
/// boundary; the labels part as long as possible (last dot first).
fn domain_at(text: &str, at: usize, runs: &mut Runs) -> Option<usize> {
    let run = runs.label_run(text, at);
    match run.last_dot {
        // The last valid dot of the run, if it comes after `at`, is the
        // last valid one after `at`.
        Some((dot, tld_end)) if dot > at => Some(tld_end),
        _ => tld_at(text, at),
    }
}

/// Where a TLD starting at `from` ends: 2-64 letters, then no word
/// character.
fn tld_at(s: &str, from: usize) -> Option<usize> {
    let mut count = 0;
    let mut end = from;
    for (i, c) in s[from..].char_indices().take(65) {
        if !c.is_alphabetic() {
            break;
        }
        count += 1;
        end = from + i + c.len_utf8();
    }
    markup::examined(end - from + 1);
    let boundary = !s[end..].chars().next().is_some_and(is_word_char);
    ((2..=64).contains(&count) && boundary).then_some(end)
}

/// `d{1,3}.d{1,3}.d{1,3}.d{1,3}` at `at` (the last group as long as it goes).
fn ipv4_at(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = at;
    for group in 0..4 {
        let digits = b[i..]
            .iter()
            .take(3)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        i += digits;
        if group < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    Some(i)
}

/// Positions where a scheme that Drupal links starts (`http:`, `MAILTO:`),
/// not glued to a preceding letter or digit.
fn scheme_candidates(text: &str) -> impl Iterator<Item = usize> + '_ {
    let b = text.as_bytes();
    memchr::memchr_iter(b':', b).filter_map(move |colon| {
        let start = b[..colon]
            .iter()
            .rposition(|c| !c.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        markup::examined(colon - start + 1);
        let scheme = &text[start..colon];
        let known = (3..=6).contains(&scheme.len())
            && SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme));
        (known && !preceded_by_word_char(text, start)).then_some(start)
    })
}

/// Positions of `www.` (any case) that do not continue a word, host or path.
fn www_candidates(text: &str) -> impl Iterator<Item = usize> + '_ {
    let b = text.as_bytes();
    memchr::memchr_iter(b'.', b).filter_map(move |dot| {
        let start = dot.checked_sub(3)?;
        // Checked first: only then is `start` known to be a character boundary.
        if !b[start..dot].eq_ignore_ascii_case(b"www") {
            return None;
        }
        let glued =
            preceded_by_word_char(text, start) || text[..start].ends_with(['.', '/', '@', ':']);
        (!glued).then_some(start)
    })
}

/// The host part of an address as written.
fn host_of(address: &str, kind: Kind) -> &str {
    let rest = match kind {
        Kind::Email => return address.rsplit('@').next().unwrap_or(""),
        Kind::Www => address,
        Kind::Full => {
            let after_scheme = address.split_once(':').map_or(address, |(_, r)| r);
            let after_slashes = after_scheme.strip_prefix("//").unwrap_or(after_scheme);
            let authority_end = after_slashes
                .find(['/', '?', '#'])
                .unwrap_or(after_slashes.len());
            match after_slashes[..authority_end].rfind('@') {
                Some(at) => &after_slashes[at + 1..],
                None => after_slashes,
            }
        }
    };
    let end = rest.find(['/', '?', '#', ':']).unwrap_or(rest.len());
    &rest[..end]
}

/// True when no label of `host` mixes letters of different scripts (Latin
/// with Cyrillic, say), the usual test for look-alike domain names.
fn host_is_single_script(host: &str) -> bool {
    fn script(c: char) -> u32 {
        match c as u32 {
            0x41..=0x5a | 0x61..=0x7a | 0xc0..=0x24f | 0x1e00..=0x1eff => 1,
            0x370..=0x3ff | 0x1f00..=0x1fff => 2,
            0x400..=0x52f => 3,
            other => 0x1000 + (other >> 8),
        }
    }
    host.split('.').all(|label| {
        let mut seen = None;
        label.chars().filter(|c| c.is_alphabetic()).all(|c| {
            let s = script(c);
            *seen.get_or_insert(s) == s
        })
    })
}

/// A cheap test that rules out most text without addresses.
fn might_contain_link(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr2(b':', b'@', b).is_some()
        || memchr::memchr_iter(b'.', b).any(|i| i >= 3 && b[i - 3..i].eq_ignore_ascii_case(b"www"))
}

/// Is the character before `i` a letter or digit (so a match at `i` would
/// start in the middle of a word)?
fn preceded_by_word_char(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Drupal's URL tail: `A-Za-z0-9 : % _ + * ~ # & = / ; ? ! . , -`, brackets
/// and parentheses when balanced, and non-ASCII letters and symbols; the
/// last character may not be `? ! . ,`. Returns where the URL ends.
fn scan_trail(text: &str, from: usize) -> usize {
    let mut end = from;
    // Open parentheses and brackets: how many, and the outermost one.
    let mut parens = (0usize, from);
    let mut brackets = (0usize, from);
    for (off, c) in text[from..].char_indices() {
        let at = from + off;
        match c {
            'a'..='z'
            | 'A'..='Z'
            | '0'..='9'
            | ':'
            | '%'
            | '_'
            | '+'
            | '*'
            | '~'
            | '#'
            | '&'
            | '='
            | '/'
            | ';'
            | '?'
            | '!'
            | '.'
            | ','
            | '-' => {}
            '(' | '[' => {
                let open = if c == '(' { &mut parens } else { &mut brackets };
                if open.0 == 0 {
                    open.1 = at;
                }
                open.0 += 1;
            }
            ')' | ']' => {
                let open = if c == ')' { &mut parens } else { &mut brackets };
                if open.0 == 0 {
                    break;
                }
                open.0 -= 1;
            }
            c if !c.is_ascii() && !ends_url(c) => {}
            _ => break,
        }
        end = at + c.len_utf8();
    }
    markup::examined(end - from + 1);
    // An opening bracket never closed is not part of the URL.
    for (count, first) in [parens, brackets] {
        if count > 0 {
            end = end.min(first);
        }
    }
    let trimmed = text[from..end].trim_end_matches(['?', '!', '.', ',']);
    from + trimmed.len()
}

/// Non-ASCII characters that end an address: spaces and punctuation.
fn ends_url(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            '\u{a0}'..='\u{bf}' | '\u{d7}' | '\u{f7}' | '\u{2000}'..='\u{206f}'
            | '\u{3000}'..='\u{303f}' | '\u{fe30}'..='\u{fe4f}' | '\u{ff01}'..='\u{ff0f}'
            | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}' | '\u{ff5b}'..='\u{ff65}')
}

/// Calls `f(offset, gap)` for each stretch of `text` between found links.
fn for_each_gap(text: &str, found: &[Found], mut f: impl FnMut(usize, &str)) {
    let mut at = 0;
    for link in found {
        f(at, &text[at..link.start]);
        at = link.end;
    }
    f(at, &text[at..]);
}

fn merge(mut a: Vec<Found>, b: Vec<Found>) -> Vec<Found> {
    a.extend(b);
    a.sort_by_key(|f| f.start);
    a
}

/// Characters of an e-mail local part or host label. Drupal's pattern reads
/// UTF-8 one byte at a time against Latin-1 letter classes; a character
/// counts when all its bytes do, which keeps Drupal's results for whole
/// characters (`müller@…` links, `почта@…` does not) without its habit of
/// cutting characters in half.
fn is_email_name_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-');
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).bytes().all(is_latin1_name_byte)
}

fn is_email_tld_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).bytes().all(is_latin1_letter_byte)
}

fn is_latin1_name_byte(b: u8) -> bool {
    matches!(b, 0xaa | 0xb2 | 0xb3 | 0xb5 | 0xb9 | 0xba | 0xbc..=0xbe | 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff)
}

fn is_latin1_letter_byte(b: u8) -> bool {
    matches!(b, 0xaa | 0xb5 | 0xba | 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff)
}

/// Letters of scripts written with spaces between words: an address glued to
/// one of these belongs to the word (`élodie@…`); one glued to, say, Chinese
/// text starts where the Latin letters start.
fn extends_local_part(c: char) -> bool {
    c.is_alphanumeric() && (c as u32) < 0x0590
}

/// E-mail addresses in `text`, as `(start, end)` byte ranges.
fn find_emails(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut resume = 0;
    for at in memchr::memchr_iter(b'@', text.as_bytes()) {
        if at < resume {
            continue;
        }
        // The local part never reaches back into the previous address.
        let mut start = at;
        for (i, c) in text[resume..at].char_indices().rev() {
            if !is_email_name_char(c) {
                break;
            }
            start = resume + i;
        }
        markup::examined(at - start + 1);
        if start == at {
            continue;
        }
        // Never start inside a word: take the whole word, or nothing.
        let local_start = start;
        for (i, c) in text[resume..start].char_indices().rev() {
            if !extends_local_part(c) {
                break;
            }
            start = resume + i;
        }
        markup::examined(local_start - start + 1);
        if text[start..at].len() > 254 {
            continue;
        }
        let Some(end) = email_domain_end(text, at + 1) else {
            continue;
        };
        found.push((start, end));
        resume = end;
    }
    found
}

/// The end of `(labels.)+tld` starting at `from`, where the TLD is 2–64
/// bytes of letters followed by a non-word character.
fn email_domain_end(text: &str, from: usize) -> Option<usize> {
    let run_end = markup::char_run_end(text, from, is_email_name_char);
    let run = &text[from..run_end];
    let tld_ok = |tld_start: usize| -> Option<usize> {
        let tld_end = markup::char_run_end(text, tld_start, is_email_tld_char);
        let len = tld_end - tld_start;
        let boundary = !text[tld_end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        ((2..=64).contains(&len) && boundary).then_some(tld_end)
    };
    // Greedy labels, backing off to the last dot that leaves a valid TLD.
    // At least one label: Drupal's domain is `(name.)+tld`, so
    // `user@localhost` is no address.
    for (i, _) in run.rmatch_indices('.') {
        if i == 0 {
            continue;
        }
        if let Some(end) = tld_ok(from + i + 1) {
            return Some(end);
        }
    }
    None
}

/// Text with its character references decoded, remembering where each
/// reference was so that links can be cut out of the original.
struct Decoded<'a> {
    text: std::borrow::Cow<'a, str>,
    /// `(decoded offset, original offset)` at the start of each reference
    /// and just after it; between two breakpoints both advance together.
    breaks: Vec<(usize, usize)>,
}

impl<'a> Decoded<'a> {
    fn new(s: &'a str) -> Self {
        if !s.contains('&') {
            return Decoded {
                text: s.into(),
                breaks: Vec::new(),
            };
        }
        let mut text = String::with_capacity(s.len());
        let mut breaks = Vec::new();
        let mut copied = 0;
        for amp in memchr::memchr_iter(b'&', s.as_bytes()) {
            if amp < copied {
                continue;
            }
            let rest = &s[amp..];
            let decoded: Option<(String, usize)> = match text::parse_char_ref(rest) {
                Some(text::CharRef::Numeric { code, len }) => Some((
                    text::numeric_char(code)
                        .map(String::from)
                        .unwrap_or_default(),
                    len,
                )),
                Some(text::CharRef::Named { len }) => {
                    text::lookup_named(&rest[..len]).map(|(a, b)| {
                        let mut p = String::from(a);
                        p.extend(b);
                        (p, len)
                    })
                }
                None => None,
            };
            let Some((piece, len)) = decoded else {
                continue;
            };
            text.push_str(&s[copied..amp]);
            breaks.push((text.len(), amp));
            text.push_str(&piece);
            copied = amp + len;
            breaks.push((text.len(), copied));
        }
        text.push_str(&s[copied..]);
        Decoded {
            text: text.into(),
            breaks,
        }
    }

    /// The original offset of decoded offset `at` (which never falls inside
    /// a decoded reference: links start and end on whole characters).
    fn original(&self, at: usize) -> usize {
        let i = self.breaks.partition_point(|&(d, _)| d <= at);
        match i.checked_sub(1).and_then(|i| self.breaks.get(i)) {
            Some(&(d, o)) => o + (at - d),
            None => at,
        }
    }

    /// The original byte range of decoded range `start..end`.
    fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        (self.original(start), self.original(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> UrlFilter {
        UrlFilter {
            grammar: Grammar::Drupal,
            max_display_length: 72,
            rel: Some("nofollow ugc".to_owned()),
            emails: true,
            schemes: ["http", "https", "ftp", "mailto"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn link(s: &str) -> String {
        let mut out = String::new();
        filter().apply(s, &mut out);
        out
    }

    #[test]
    fn urls_become_links_with_rel() {
        assert_eq!(
            link("see http://example.com/x."),
            "see <a href=\"http://example.com/x\" rel=\"nofollow ugc\">http://example.com/x</a>."
        );
    }

    #[test]
    fn www_and_email_addresses_are_linked() {
        assert_eq!(
            link("www.example.com a@example.org"),
            "<a href=\"http://www.example.com\" rel=\"nofollow ugc\">www.example.com</a> \
             <a href=\"mailto:a@example.org\" rel=\"nofollow ugc\">a@example.org</a>"
        );
    }

    #[test]
    fn text_inside_links_code_and_attributes_is_left_alone() {
        let s = "<a href=\"http://x.org\">http://x.org</a><code>http://y.org</code><em title=\"http://z.org\">z</em>";
        assert_eq!(link(s), s);
    }

    #[test]
    fn parentheses_are_kept_when_balanced() {
        assert!(link("(https://en.wikipedia.org/wiki/A_(b)_c)")
            .contains("href=\"https://en.wikipedia.org/wiki/A_(b)_c\""));
        assert!(link("(see http://example.com/page)").contains("page</a>)"));
    }

    #[test]
    fn escaped_quotes_after_a_url_stay_outside() {
        assert_eq!(
            link("&quot;http://x.com&quot;"),
            "&quot;<a href=\"http://x.com\" rel=\"nofollow ugc\">http://x.com</a>&quot;"
        );
    }

    #[test]
    fn disallowed_schemes_are_not_linked() {
        assert_eq!(link("javascript://%0aalert(1)"), "javascript://%0aalert(1)");
        assert_eq!(link("ssh://git@example.org/x"), "ssh://git@example.org/x");
    }

    #[test]
    fn words_glued_before_a_scheme_prevent_linking() {
        assert_eq!(link("gluedhttp://example.com"), "gluedhttp://example.com");
    }

    #[test]
    fn long_display_text_is_cut_at_a_character_boundary() {
        let addr = format!("http://example.com/{}", "ü".repeat(60));
        let out = link(&addr);
        let caption = out.split('>').nth(1).unwrap_or_default();
        assert!(caption.ends_with("...</a"));
        assert!(caption.len() <= 72 + 3 + 3);
    }

    #[test]
    fn dots_after_multibyte_characters_are_not_mistaken_for_www() {
        assert_eq!(link("é. ü. 記.www"), "é. ü. 記.www");
        assert_eq!(link("ééé.www.x"), "ééé.www.x");
    }

    #[test]
    fn links_are_cut_from_the_original_text_around_references() {
        assert_eq!(
            link("&lt;&eacute; http://x.org/a&amp;b &quot;z&quot;"),
            "&lt;&eacute; <a href=\"http://x.org/a&amp;b\" rel=\"nofollow ugc\">http://x.org/a&amp;b</a> &quot;z&quot;"
        );
    }

    #[test]
    fn a_very_long_host_is_still_judged_on_all_of_it() {
        let host = format!("http://{}.example/x", "a".repeat(600));
        assert!(link(&host).contains("<a href="));
    }

    #[test]
    fn tags_with_any_characters_never_split_a_character() {
        // Found by fuzzing: `url` first in a policy sees raw `<` and text.
        assert_eq!(
            link("<é> <a\u{e9}> </é> http://x.org"),
            "<é> <a\u{e9}> </é> <a href=\"http://x.org\" rel=\"nofollow ugc\">http://x.org</a>"
        );
        assert_eq!(link("<aé>http://x.org</aé>").matches("<a href").count(), 1);
    }

    proptest::proptest! {
        /// The hand-written matchers find exactly what the regular
        /// expressions of Drupal's grammar find.
        #[test]
        fn matchers_agree_with_the_grammar(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "http:", "HTTPS://", "ftp://", "mailto:", "www.", "WWW.", "a", "bc", "é", "ü", "例", "д", "1", "12",
                "123", "1234", ".", "..", "-", "_", "+", "@", ":", "/", "//", "?", "#", " ", "x@", "com", "org",
                "co.uk", "localhost", "(", ")", "&", "-www.", "http:-", "a.b.",
            ]), 1..16),
        ) {
            let text: String = pieces.concat();
            // One memory of runs for all candidates, as the filter uses it.
            let mut runs = Runs::default();
            for start in scheme_candidates(&text) {
                let expected = FULL_URL.find(&text[start..]).map(|m| start + m.end());
                proptest::prop_assert_eq!(full_url_at(&text, start, &mut runs), expected, "{:?} at {}", text, start);
            }
            let mut runs = Runs::default();
            for start in www_candidates(&text) {
                let expected = WWW.find(&text[start..]).map(|m| start + m.end());
                proptest::prop_assert_eq!(www_at(&text, start, &mut runs), expected, "{:?} at {}", text, start);
            }
        }
    }

    #[test]
    fn an_email_domain_needs_a_dot() {
        for bare in [
            "user@localhost",
            "root@intranet now",
            "a.b+c@server.",
            "(x@host)",
            "x@host, y@host2",
        ] {
            assert!(!link(bare).contains("mailto:"), "{bare}");
        }
        for dotted in [
            "user@localhost.localdomain",
            "a@b.co",
            "x@mail.example.org.",
        ] {
            assert!(link(dotted).contains("mailto:"), "{dotted}");
        }
        // A full URL's host needs no dot; `mailto:` makes one.
        assert!(link("mailto:root@localhost").contains("href=\"mailto:root@localhost\""));
    }

    #[test]
    fn glued_addresses_never_overlap() {
        let out = link("user@example.comuser@example.com");
        assert_eq!(out.matches("<a ").count(), 1, "{out}");
    }

    #[test]
    fn email_local_parts_are_whole_words() {
        assert!(link("élodie@example.fr").contains(">élodie@example.fr<"));
        assert_eq!(link("почта@example.ru"), "почта@example.ru");
    }

    #[test]
    fn look_alike_hosts_are_not_linked_but_single_script_ones_are() {
        assert_eq!(link("www.\u{435}xample.com"), "www.\u{435}xample.com");
        assert!(link("www.bücher.de").contains("href=\"http://www.bücher.de\""));
    }

    #[test]
    fn linkify_grammar_finds_links_too() {
        let mut f = filter();
        f.grammar = Grammar::Linkify;
        let mut out = String::new();
        f.apply("go to https://example.com/a.", &mut out);
        assert!(out.contains("<a href=\"https://example.com/a\""));
    }
}
