//! The address grammar of the `drupal` matcher: where a full URL, a
//! `www.` address or an e-mail address starts and ends in decoded text,
//! each read once however the candidates overlap.

use super::*;

/// What the address matchers learnt about a run of characters, for the
/// next candidate that starts inside the same run: in a flood such as
/// `-www.-www.…` or `http:-http:-…` every candidate's host or user info
/// reaches the same far end, and is read once.
#[derive(Debug, Default)]
pub(super) struct Runs {
    /// A run of user-info characters: `(asked at, ends at)`.
    auth: Option<(usize, usize)>,
    /// A run of host-label characters.
    label: Option<LabelRun>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct LabelRun {
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
pub(super) fn full_url_at(text: &str, start: usize, runs: &mut Runs) -> Option<usize> {
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
pub(super) fn www_at(text: &str, start: usize, runs: &mut Runs) -> Option<usize> {
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
pub(super) fn host_at(text: &str, at: usize, ipv4: bool, runs: &mut Runs) -> Option<usize> {
    let end = domain_at(text, at, runs).or_else(|| if ipv4 { ipv4_at(text, at) } else { None })?;
    Some(if text.as_bytes().get(end) == Some(&b'/') {
        end + 1
    } else {
        end
    })
}

/// Letters, digits, marks and `._+-`: what a host's labels are made of.
pub(super) fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
}

/// A word character, as a regex's `\b` sees it.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `(labels.)?tld` at `at`, with a TLD of 2-64 letters ending at a word
/// boundary; the labels part as long as possible (last dot first).
pub(super) fn domain_at(text: &str, at: usize, runs: &mut Runs) -> Option<usize> {
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
pub(super) fn tld_at(s: &str, from: usize) -> Option<usize> {
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
pub(super) fn ipv4_at(text: &str, at: usize) -> Option<usize> {
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
pub(super) fn scheme_candidates(text: &str) -> impl Iterator<Item = usize> + '_ {
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
pub(super) fn www_candidates(text: &str) -> impl Iterator<Item = usize> + '_ {
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
pub(super) fn host_of(address: &str, kind: Kind) -> &str {
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
pub(super) fn host_is_single_script(host: &str) -> bool {
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
pub(super) fn might_contain_link(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr2(b':', b'@', b).is_some()
        || memchr::memchr_iter(b'.', b).any(|i| i >= 3 && b[i - 3..i].eq_ignore_ascii_case(b"www"))
}

/// Is the character before `i` a letter or digit (so a match at `i` would
/// start in the middle of a word)?
pub(super) fn preceded_by_word_char(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Drupal's URL tail: `A-Za-z0-9 : % _ + * ~ # & = / ; ? ! . , -`, brackets
/// and parentheses when balanced, and non-ASCII letters and symbols; the
/// last character may not be `? ! . ,`. Returns where the URL ends.
pub(super) fn scan_trail(text: &str, from: usize) -> usize {
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
pub(super) fn ends_url(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            '\u{a0}'..='\u{bf}' | '\u{d7}' | '\u{f7}' | '\u{2000}'..='\u{206f}'
            | '\u{3000}'..='\u{303f}' | '\u{fe30}'..='\u{fe4f}' | '\u{ff01}'..='\u{ff0f}'
            | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}' | '\u{ff5b}'..='\u{ff65}')
}

/// Calls `f(offset, gap)` for each stretch of `text` between found links.
pub(super) fn for_each_gap(text: &str, found: &[Found], mut f: impl FnMut(usize, &str)) {
    let mut at = 0;
    for link in found {
        f(at, &text[at..link.start]);
        at = link.end;
    }
    f(at, &text[at..]);
}

pub(super) fn merge(mut a: Vec<Found>, b: Vec<Found>) -> Vec<Found> {
    a.extend(b);
    a.sort_by_key(|f| f.start);
    a
}

/// Characters of an e-mail local part or host label. Drupal's pattern reads
/// UTF-8 one byte at a time against Latin-1 letter classes; a character
/// counts when all its bytes do, which keeps Drupal's results for whole
/// characters (`müller@…` links, `почта@…` does not) without its habit of
/// cutting characters in half.
pub(super) fn is_email_name_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-');
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).bytes().all(is_latin1_name_byte)
}

pub(super) fn is_email_tld_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).bytes().all(is_latin1_letter_byte)
}

pub(super) fn is_latin1_name_byte(b: u8) -> bool {
    matches!(b, 0xaa | 0xb2 | 0xb3 | 0xb5 | 0xb9 | 0xba | 0xbc..=0xbe | 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff)
}

pub(super) fn is_latin1_letter_byte(b: u8) -> bool {
    matches!(b, 0xaa | 0xb5 | 0xba | 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff)
}

/// Letters of scripts written with spaces between words: an address glued to
/// one of these belongs to the word (`élodie@…`); one glued to, say, Chinese
/// text starts where the Latin letters start.
pub(super) fn extends_local_part(c: char) -> bool {
    c.is_alphanumeric() && (c as u32) < 0x0590
}

/// E-mail addresses in `text`, as `(start, end)` byte ranges.
pub(super) fn find_emails(text: &str) -> Vec<(usize, usize)> {
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
pub(super) fn email_domain_end(text: &str, from: usize) -> Option<usize> {
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
pub(super) struct Decoded<'a> {
    pub(super) text: std::borrow::Cow<'a, str>,
    /// `(decoded offset, original offset)` at the start of each reference
    /// and just after it; between two breakpoints both advance together.
    breaks: Vec<(usize, usize)>,
}

impl<'a> Decoded<'a> {
    pub(super) fn new(s: &'a str) -> Self {
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
    pub(super) fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        (self.original(start), self.original(end))
    }
}
