//! From a comment to hashed features: normalised words, word pairs and
//! letter 4-grams of the text, and one indicator per fact.
//!
//! Everything here is linear in the input and bounded: only the first
//! [`MAX_BODY_BYTES`] of the body are read, the normalised text stops at
//! [`MAX_NORMALIZED_BYTES`], and each feature family stops at its own cap,
//! so a 1 MB comment or a flood of one character costs no more than 16 KiB
//! of ordinary text. [`MAX_FEATURES`] bounds the distinct features of any
//! input.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
use unicode_segmentation::UnicodeSegmentation;

use super::input::ScoringInput;

/// Bytes of the body that are read; the rest of a longer body is ignored
/// (its length still counts, as a feature).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Bytes of normalised text kept (NFKC can expand a character).
pub const MAX_NORMALIZED_BYTES: usize = 32 * 1024;
/// Words read from the body.
pub const MAX_WORDS: usize = 3_000;
/// Letter 4-grams taken from the body.
pub const MAX_CHAR_GRAMS: usize = 6_000;
/// Bytes of a word that count (longer words are cut, at a character).
pub const MAX_WORD_BYTES: usize = 32;
/// Characters of a word that letter 4-grams are taken from.
const MAX_GRAM_CHARS: usize = 24;
/// Length of the letter n-grams.
const GRAM: usize = 4;
/// Link domains looked at, and distinct ones kept.
const MAX_LINKS_READ: usize = 256;
const MAX_DOMAINS: usize = 16;
/// Words of the author's name kept.
const MAX_AUTHOR_WORDS: usize = 8;
/// Consecutive combining marks kept after a letter ("Zalgo" text stacks
/// dozens to dodge word lists).
const MAX_MARKS: usize = 2;
/// Distinct features any input can give: words, pairs, grams, author
/// words, two domain families and the fixed facts.
pub const MAX_FEATURES: usize =
    MAX_WORDS * 2 + MAX_CHAR_GRAMS + MAX_AUTHOR_WORDS + 2 * MAX_DOMAINS + 10;

/// What a feature describes; part of its hash, so a word and a domain with
/// the same letters are different features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FeatureKind {
    /// A word of the body.
    Word,
    /// Two consecutive words of the body.
    Phrase,
    /// Four consecutive letters of one word (catches "c4sino", "casin0s");
    /// named by the word they are part of.
    Letters,
    /// A word of the author's name.
    AuthorWord,
    /// The domain of a link.
    LinkDomain,
    /// The top-level domain of a link.
    LinkTld,
    /// How many links the comment has.
    Links,
    /// How many of the link domains the site has never seen approved.
    NewDomains,
    /// The author's e-mail domain.
    EmailDomain,
    /// The author's homepage domain.
    Homepage,
    /// Whether the author has approved comments here.
    Author,
    /// Time since the previous comment from the same address.
    PostingGap,
    /// Age of the thread.
    ThreadAge,
    /// Reader reports.
    Reports,
    /// Length of the body.
    Length,
    /// Most letters are capitals.
    Shouting,
}

impl FeatureKind {
    /// Text features are scaled to unit length per family; facts are 0 or 1.
    fn family(self) -> Option<usize> {
        match self {
            FeatureKind::Word => Some(0),
            FeatureKind::Phrase => Some(1),
            FeatureKind::Letters => Some(2),
            FeatureKind::AuthorWord => Some(3),
            _ => None,
        }
    }

    fn tag(self) -> u8 {
        self as u8 + 1
    }
}

/// A set of [`FeatureKind`]s: the kinds a model ignores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FeatureKinds(u32);

impl FeatureKinds {
    /// No kind.
    pub const NONE: FeatureKinds = FeatureKinds(0);
    /// Bits that name a kind; others are invalid in a stored model.
    pub(crate) const VALID: u32 = (1 << (FeatureKind::Shouting as u32 + 1)) - 1;

    /// This set and `kind`.
    #[must_use]
    pub const fn with(self, kind: FeatureKind) -> FeatureKinds {
        FeatureKinds(self.0 | 1 << kind as u32)
    }

    /// Whether `kind` is in the set.
    #[must_use]
    pub const fn contains(self, kind: FeatureKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }

    pub(crate) const fn bits(self) -> u32 {
        self.0
    }

    pub(crate) const fn from_bits(bits: u32) -> Option<FeatureKinds> {
        if bits & !Self::VALID == 0 {
            Some(FeatureKinds(bits))
        } else {
            None
        }
    }
}

/// One distinct feature of an input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) hash: u64,
    pub(crate) kind: FeatureKind,
    pub(crate) count: u32,
    pub(crate) value: f32,
    /// Where its text is: `text` for body features, `aux` for the rest.
    in_body: bool,
    start: u32,
    end: u32,
}

/// The features of one input, with the text that names each.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub(crate) entries: Vec<Entry>,
    ignore: FeatureKinds,
    text: String,
    aux: String,
    slots: Vec<u32>,
}

impl Extracted {
    /// The words or value a feature stands for, for explanations.
    pub(crate) fn label(&self, e: &Entry) -> &str {
        let buf = if e.in_body { &self.text } else { &self.aux };
        buf.get(e.start as usize..e.end as usize).unwrap_or("")
    }

    fn add(&mut self, hash: u64, kind: FeatureKind, in_body: bool, start: usize, end: usize) {
        if self.ignore.contains(kind) {
            return;
        }
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        // Feature hashes are already mixed: their low bits index the table.
        let mut i = (hash as usize) & mask;
        loop {
            match self.slots[i] {
                0 => {
                    self.entries.push(Entry {
                        hash,
                        kind,
                        count: 1,
                        value: 0.0,
                        in_body,
                        start: start as u32,
                        end: end as u32,
                    });
                    self.slots[i] = self.entries.len() as u32;
                    return;
                }
                k => {
                    let e = &mut self.entries[k as usize - 1];
                    if e.hash == hash {
                        e.count = e.count.saturating_add(1);
                        return;
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        self.slots.clear();
        self.slots.resize(size, 0);
        let mask = size - 1;
        for (n, e) in self.entries.iter().enumerate() {
            let mut i = (e.hash as usize) & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = n as u32 + 1;
        }
    }

    /// A fact feature whose label is written into `aux`.
    fn fact(&mut self, kind: FeatureKind, label: &str) {
        let start = self.aux.len();
        self.aux.push_str(label);
        let hash = hash_bytes(kind.tag(), label.as_bytes());
        self.add(hash, kind, false, start, self.aux.len());
    }

    /// Text features: counts become `1 + ln(count)`, scaled so each family
    /// has unit length; a word repeated a thousand times weighs like one
    /// sentence, not like a thousand.
    fn finish(&mut self) {
        let mut sums = [0.0f32; 4];
        for e in &mut self.entries {
            match e.kind.family() {
                Some(f) => {
                    let tf = if e.count == 1 {
                        1.0
                    } else {
                        1.0 + libm::logf(e.count as f32)
                    };
                    e.value = tf;
                    sums[f] += tf * tf;
                }
                None => e.value = 1.0,
            }
        }
        let norms = sums.map(libm::sqrtf);
        for e in &mut self.entries {
            if let Some(f) = e.kind.family() {
                e.value /= norms[f];
            }
        }
        self.slots = Vec::new();
    }
}

/// The features of `input`, less the kinds in `ignore`.
pub(crate) fn extract(input: &ScoringInput<'_>, ignore: FeatureKinds) -> Extracted {
    let mut x = Extracted {
        ignore,
        ..Extracted::default()
    };
    let letters = normalize_into(input.body, &mut x.text);
    body_features(&mut x);
    length_features(&mut x, input.body.len(), letters);
    author_features(&mut x, input.author);
    link_features(&mut x, input);
    fact_features(&mut x, input);
    x.finish();
    x
}

/// Letters and capitals seen, for the "shouting" feature.
#[derive(Debug, Clone, Copy, Default)]
struct Letters {
    all: u32,
    upper: u32,
}

/// Lowercased NFKC of the first [`MAX_BODY_BYTES`] of `src`, without
/// invisible format characters and with stacks of combining marks cut.
///
/// Each piece between ASCII spaces is normalised on its own: nothing
/// composes across a space, so the result is the same, and the ASCII
/// pieces of a mostly-English comment with one accent stay on the fast path.
fn normalize_into(src: &str, out: &mut String) -> Letters {
    let head = &src[..floor_char_boundary(src, MAX_BODY_BYTES)];
    let mut seen = Letters::default();
    out.reserve(head.len());
    let mut marks = 0;
    for piece in head.split_inclusive(|c: char| c.is_ascii_whitespace()) {
        if out.len() >= MAX_NORMALIZED_BYTES {
            break;
        }
        if piece.is_ascii() {
            let room = MAX_NORMALIZED_BYTES - out.len();
            for b in piece.bytes().take(room) {
                if b.is_ascii_alphabetic() {
                    seen.all += 1;
                    seen.upper += u32::from(b.is_ascii_uppercase());
                }
                out.push(char::from(b.to_ascii_lowercase()));
            }
            marks = 0;
            continue;
        }
        let mut push = |c: char, out: &mut String| {
            if is_invisible(c) {
                return;
            }
            if is_combining_mark(c) {
                marks += 1;
                if marks > MAX_MARKS {
                    return;
                }
            } else {
                marks = 0;
            }
            if c.is_alphabetic() {
                seen.all += 1;
                seen.upper += u32::from(c.is_uppercase());
            }
            if c.is_uppercase() {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        };
        if is_nfkc_quick(piece.chars()) == IsNormalized::Yes {
            for c in piece.chars() {
                push(c, out);
            }
        } else {
            // Stream-safe first: NFKC buffers each run of combining marks,
            // and this caps a run at 30.
            for c in piece.stream_safe().nfkc() {
                if out.len() >= MAX_NORMALIZED_BYTES {
                    break;
                }
                push(c, out);
            }
        }
    }
    seen
}

/// Characters that draw nothing and split no word: soft hyphens,
/// zero-width spaces and joiners, direction marks, variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{E0000}'..='\u{E0FFF}')
}

fn body_features(x: &mut Extracted) {
    let text = std::mem::take(&mut x.text);
    // About one word, pair or gram per byte of text, at most half full:
    // sized once, the table never grows for ordinary text.
    let expected = (text.len() + 64).min(MAX_FEATURES);
    x.slots = vec![0; (2 * expected).next_power_of_two()];
    x.entries.reserve(expected);
    let mut prev: Option<(u64, usize)> = None;
    let mut grams = 0;
    // Words never span an ASCII space, so each piece is split on its own:
    // the ASCII ones take the segmenter's fast path.
    let words = text
        .split_inclusive(|c: char| c.is_ascii_whitespace())
        .scan(0, |offset, piece| {
            let at = *offset;
            *offset += piece.len();
            Some((at, piece))
        })
        .flat_map(|(at, piece)| piece.unicode_word_indices().map(move |(i, w)| (at + i, w)));
    for (start, word) in words.take(MAX_WORDS) {
        let word = &word[..floor_char_boundary(word, MAX_WORD_BYTES)];
        let end = start + word.len();
        let h = hash_bytes(FeatureKind::Word.tag(), word.as_bytes());
        x.add(h, FeatureKind::Word, true, start, end);
        if let Some((ph, pstart)) = prev {
            let pair = mix(ph ^ h.rotate_left(29) ^ u64::from(FeatureKind::Phrase.tag()));
            x.add(pair, FeatureKind::Phrase, true, pstart, end);
        }
        prev = Some((h, start));
        if grams < MAX_CHAR_GRAMS {
            grams += letter_grams(x, word, start, MAX_CHAR_GRAMS - grams);
        }
    }
    x.text = text;
}

/// Adds the letter 4-grams of a word of five or more characters; returns
/// how many.
fn letter_grams(x: &mut Extracted, word: &str, offset: usize, budget: usize) -> usize {
    let mut bounds = [0usize; MAX_GRAM_CHARS + 1];
    let mut n = 0;
    for (i, _) in word.char_indices().take(MAX_GRAM_CHARS) {
        bounds[n] = i;
        n += 1;
    }
    if n <= GRAM {
        return 0;
    }
    bounds[n] = word.char_indices().nth(n).map_or(word.len(), |(i, _)| i);
    let count = (n + 1 - GRAM).min(budget);
    for i in 0..count {
        let (s, e) = (bounds[i], bounds[i + GRAM]);
        let h = hash_bytes(FeatureKind::Letters.tag(), &word.as_bytes()[s..e]);
        // Named by the whole word: "remove" tells a moderator more than "emov".
        x.add(h, FeatureKind::Letters, true, offset, offset + word.len());
    }
    count
}

fn length_features(x: &mut Extracted, bytes: usize, letters: Letters) {
    let bucket = match bytes {
        0..=31 => "under 32 bytes",
        32..=127 => "32 to 127 bytes",
        128..=511 => "128 to 511 bytes",
        512..=2047 => "512 to 2047 bytes",
        2048..=8191 => "2 to 8 KiB",
        _ => "over 8 KiB",
    };
    x.fact(FeatureKind::Length, bucket);
    if letters.all >= 12 && letters.upper * 2 >= letters.all {
        x.fact(FeatureKind::Shouting, "mostly capitals");
    }
}

fn author_features(x: &mut Extracted, author: Option<&str>) {
    let Some(name) = author else { return };
    let mut norm = String::new();
    normalize_into(&name[..floor_char_boundary(name, 256)], &mut norm);
    for word in norm.unicode_words().take(MAX_AUTHOR_WORDS) {
        let word = &word[..floor_char_boundary(word, MAX_WORD_BYTES)];
        let start = x.aux.len();
        x.aux.push_str(word);
        let h = hash_bytes(FeatureKind::AuthorWord.tag(), word.as_bytes());
        x.add(h, FeatureKind::AuthorWord, false, start, x.aux.len());
    }
}

fn link_features(x: &mut Extracted, input: &ScoringInput<'_>) {
    let links = input.link_domains.len();
    let count = match links {
        0 => "no links",
        1 => "1 link",
        2 => "2 links",
        3..=5 => "3 to 5 links",
        _ => "6 or more links",
    };
    x.fact(FeatureKind::Links, count);
    let mut distinct: Vec<u64> = Vec::new();
    for raw in input.link_domains.iter().take(MAX_LINKS_READ) {
        if distinct.len() == MAX_DOMAINS {
            break;
        }
        let Some((h, start, end)) = domain_feature(x, FeatureKind::LinkDomain, raw) else {
            continue;
        };
        if distinct.contains(&h) {
            continue;
        }
        distinct.push(h);
        let domain = x.aux[start..end].to_owned();
        if let Some((_, tld)) = domain.rsplit_once('.') {
            x.fact(FeatureKind::LinkTld, tld);
        }
    }
    if let Some(new) = input.facts.new_link_domains {
        if links > 0 || new > 0 {
            let bucket = match new {
                0 => "links only to known domains",
                1 => "links to 1 new domain",
                2 => "links to 2 new domains",
                _ => "links to 3 or more new domains",
            };
            x.fact(FeatureKind::NewDomains, bucket);
        }
    }
    if let Some(d) = input.email_domain {
        domain_feature(x, FeatureKind::EmailDomain, d);
    }
    if let Some(d) = input.homepage_domain {
        domain_feature(x, FeatureKind::Homepage, d);
    }
}

/// Adds a domain, lowercased, without `www.` and a trailing dot, and
/// returns its hash and where its text is in `aux`; ignores empty and
/// absurdly long ones.
fn domain_feature(x: &mut Extracted, kind: FeatureKind, raw: &str) -> Option<(u64, usize, usize)> {
    let d = raw.trim().trim_end_matches('.');
    let d = d.strip_prefix("www.").unwrap_or(d);
    if d.is_empty() || d.len() > 253 {
        return None;
    }
    let start = x.aux.len();
    for c in d.chars() {
        x.aux.extend(c.to_lowercase());
    }
    let end = x.aux.len();
    let hash = hash_bytes(kind.tag(), &x.aux.as_bytes()[start..end]);
    x.add(hash, kind, false, start, end);
    Some((hash, start, end))
}

fn fact_features(x: &mut Extracted, input: &ScoringInput<'_>) {
    let f = &input.facts;
    if let Some(known) = f.author_known {
        x.fact(
            FeatureKind::Author,
            if known { "author known" } else { "author new" },
        );
    }
    if let Some(secs) = f.secs_since_last_post_by_ip {
        let bucket = match secs {
            0..=9 => "posted under 10 s after the last post from its address",
            10..=59 => "posted under a minute after the last post from its address",
            60..=599 => "posted under 10 min after the last post from its address",
            600..=3599 => "posted under an hour after the last post from its address",
            _ => "an hour or more since the last post from its address",
        };
        x.fact(FeatureKind::PostingGap, bucket);
    }
    if let Some(age) = f.thread_age_secs {
        let bucket = match age {
            0..=86_399 => "thread under a day old",
            86_400..=604_799 => "thread under a week old",
            604_800..=2_591_999 => "thread under 30 days old",
            2_592_000..=31_535_999 => "thread under a year old",
            _ => "thread a year old or more",
        };
        x.fact(FeatureKind::ThreadAge, bucket);
    }
    match f.reports {
        0 => {}
        1 => x.fact(FeatureKind::Reports, "1 report"),
        2 => x.fact(FeatureKind::Reports, "2 reports"),
        _ => x.fact(FeatureKind::Reports, "3 or more reports"),
    }
}

/// The largest char boundary of `s` at or below `max`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// FNV-1a over a kind tag and bytes, then [`mix`]. Part of the model
/// format: changing it changes every bucket (bump the format version).
pub(crate) fn hash_bytes(tag: u8, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(tag);
    h = h.wrapping_mul(0x0000_0100_0000_01b3);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The splitmix64 finaliser: every input bit moves every output bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The bucket of a feature hash in a table of `2^bits` weights.
pub(crate) fn bucket(hash: u64, bits: u8) -> usize {
    (hash >> (64 - u32::from(bits))) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::Facts;

    fn words_of(body: &str) -> Vec<String> {
        let input = ScoringInput {
            body,
            ..ScoringInput::default()
        };
        let x = extract(&input, FeatureKinds::NONE);
        x.entries
            .iter()
            .filter(|e| e.kind == FeatureKind::Word)
            .map(|e| x.label(e).to_owned())
            .collect()
    }

    #[test]
    fn words_are_lowercased_nfkc_and_split_on_unicode_boundaries() {
        assert_eq!(
            words_of("ＦＲＥＥ Casino—BONUS! ﬁnal"),
            ["free", "casino", "bonus", "final"]
        );
        assert_eq!(words_of("Ärger über Öl"), ["ärger", "über", "öl"]);
    }

    #[test]
    fn invisible_characters_and_mark_stacks_do_not_hide_a_word() {
        assert_eq!(words_of("ca\u{200B}si\u{AD}no"), ["casino"]);
        let zalgo: String = "casino"
            .chars()
            .flat_map(|c| std::iter::once(c).chain(std::iter::repeat_n('\u{301}', 20)))
            .collect();
        let w = words_of(&zalgo);
        assert_eq!(w.len(), 1);
        assert!(w[0].chars().count() <= 6 * (1 + MAX_MARKS), "{:?}", w[0]);
    }

    #[test]
    fn repeats_are_counted_once_with_a_damped_value() {
        let input = ScoringInput {
            body: "spam spam spam spam eggs",
            ..ScoringInput::default()
        };
        let x = extract(&input, FeatureKinds::NONE);
        let word = |w: &str| {
            *x.entries
                .iter()
                .find(|e| e.kind == FeatureKind::Word && x.label(e) == w)
                .expect("present")
        };
        assert_eq!(word("spam").count, 4);
        assert_eq!(word("eggs").count, 1);
        let (s, e) = (word("spam").value, word("eggs").value);
        assert!(s > e && s < 4.0 * e, "spam {s}, eggs {e}");
        let norm: f32 = x
            .entries
            .iter()
            .filter(|e| e.kind == FeatureKind::Word)
            .map(|e| e.value * e.value)
            .sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }

    #[test]
    fn pairs_and_letter_grams_name_their_text() {
        let input = ScoringInput {
            body: "cheap Viagra",
            ..ScoringInput::default()
        };
        let x = extract(&input, FeatureKinds::NONE);
        let labels = |k: FeatureKind| -> Vec<&str> {
            x.entries
                .iter()
                .filter(|e| e.kind == k)
                .map(|e| x.label(e))
                .collect()
        };
        assert_eq!(labels(FeatureKind::Phrase), ["cheap viagra"]);
        // chea, heap; viag, iagr, agra: five grams, each named by its word.
        assert_eq!(
            labels(FeatureKind::Letters),
            ["cheap", "cheap", "viagra", "viagra", "viagra"]
        );
        let grams: std::collections::HashSet<u64> = x
            .entries
            .iter()
            .filter(|e| e.kind == FeatureKind::Letters)
            .map(|e| e.hash)
            .collect();
        assert_eq!(grams.len(), 5);
    }

    #[test]
    fn facts_become_named_features() {
        let input = ScoringInput {
            body: "see my site",
            author: Some("Best Casino"),
            email_domain: Some("Mail.Example"),
            homepage_domain: Some("www.casino.example."),
            link_domains: &["casino.example", "casino.example", "bonus.test"],
            facts: Facts {
                author_known: Some(false),
                new_link_domains: Some(2),
                secs_since_last_post_by_ip: Some(4),
                thread_age_secs: Some(400 * 86_400),
                reports: 1,
            },
        };
        let x = extract(&input, FeatureKinds::NONE);
        let mut got: Vec<(FeatureKind, &str)> = x
            .entries
            .iter()
            .filter(|e| !matches!(e.kind, FeatureKind::Word | FeatureKind::Phrase))
            .map(|e| (e.kind, x.label(e)))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                (FeatureKind::AuthorWord, "best"),
                (FeatureKind::AuthorWord, "casino"),
                (FeatureKind::LinkDomain, "bonus.test"),
                (FeatureKind::LinkDomain, "casino.example"),
                (FeatureKind::LinkTld, "example"),
                (FeatureKind::LinkTld, "test"),
                (FeatureKind::Links, "3 to 5 links"),
                (FeatureKind::NewDomains, "links to 2 new domains"),
                (FeatureKind::EmailDomain, "mail.example"),
                (FeatureKind::Homepage, "casino.example"),
                (FeatureKind::Author, "author new"),
                (
                    FeatureKind::PostingGap,
                    "posted under 10 s after the last post from its address"
                ),
                (FeatureKind::ThreadAge, "thread a year old or more"),
                (FeatureKind::Reports, "1 report"),
                (FeatureKind::Length, "under 32 bytes"),
            ]
        );
        let domain = x
            .entries
            .iter()
            .find(|e| e.kind == FeatureKind::LinkDomain && x.label(e) == "casino.example")
            .expect("present");
        assert_eq!(domain.count, 2);
    }

    #[test]
    fn unknown_facts_add_nothing() {
        let x = extract(&ScoringInput::default(), FeatureKinds::NONE);
        let kinds: Vec<FeatureKind> = x.entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [FeatureKind::Length, FeatureKind::Links]);
    }

    #[test]
    fn shouting_needs_mostly_capitals() {
        let kinds = |body: &str| -> Vec<FeatureKind> {
            let input = ScoringInput {
                body,
                ..ScoringInput::default()
            };
            extract(&input, FeatureKinds::NONE)
                .entries
                .iter()
                .map(|e| e.kind)
                .collect()
        };
        assert!(kinds("BUY NOW CHEAP PILLS TODAY").contains(&FeatureKind::Shouting));
        assert!(!kinds("Buy now, cheap pills today").contains(&FeatureKind::Shouting));
        assert!(!kinds("OK").contains(&FeatureKind::Shouting));
    }

    /// Hostile bodies of 1 MB: each gives a bounded number of features and
    /// reads a bounded amount of text.
    #[test]
    fn hostile_inputs_stay_bounded() {
        let mb = 1 << 20;
        let mut garbage = String::with_capacity(mb);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        while garbage.len() < mb {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if let Some(c) = char::from_u32((state % 0x3_0000) as u32) {
                garbage.push(c);
            }
        }
        let words: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        let bodies = [
            "a".repeat(mb),
            "a ".repeat(mb / 2),
            "\u{301}".repeat(mb / 2),
            "\u{FDFA}".repeat(mb / 3),
            "\u{200B}".repeat(mb / 3),
            "ｗ".repeat(mb / 3),
            garbage,
            words,
        ];
        for body in &bodies {
            let input = ScoringInput {
                body,
                ..ScoringInput::default()
            };
            let x = extract(&input, FeatureKinds::NONE);
            assert!(x.entries.len() <= MAX_FEATURES, "{}", x.entries.len());
            assert!(
                x.text.len() <= MAX_NORMALIZED_BYTES + 16,
                "{}",
                x.text.len()
            );
            let words = x
                .entries
                .iter()
                .filter(|e| e.kind == FeatureKind::Word)
                .map(|e| e.count as usize)
                .sum::<usize>();
            assert!(words <= MAX_WORDS);
            assert!(x.entries.iter().all(|e| e.value.is_finite()));
        }
        let many: Vec<String> = (0..10_000).map(|i| format!("d{i}.example")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let input = ScoringInput {
            link_domains: &refs,
            ..ScoringInput::default()
        };
        let x = extract(&input, FeatureKinds::NONE);
        assert!(x.entries.len() <= 2 + 2 * MAX_DOMAINS);
    }

    #[test]
    fn buckets_cover_the_table() {
        for bits in [10u8, 18, 24] {
            assert!(bucket(u64::MAX, bits) < 1 << bits);
            assert_eq!(bucket(0, bits), 0);
        }
    }
}
