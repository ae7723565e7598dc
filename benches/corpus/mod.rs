//! A seeded, deterministic generator of a realistic comment corpus, and of the
//! inputs for the linear-growth table (ordinary text here, floods of one
//! construct in [`floods`]).
//!
//! No dependency: randomness comes from a SplitMix64 generator written here,
//! so the same seed always gives the same bytes on every platform.
//!
//! Mixture by count (exact, then shuffled):
//!
//! * 60 % plain prose, 200–1500 bytes, with line and paragraph breaks and the
//!   occasional URL or e-mail address;
//! * 25 % prose with allowed tags (`em strong blockquote br p`, `<a href>`)
//!   and URLs;
//! * 10 % prose with disallowed or malformed HTML (div, span, img, script,
//!   style, tables, unclosed tags, stray `<` and `&`);
//! * 5 % large or adversarial, 10–50 KB: deeply nested allowed tags, deeply
//!   nested disallowed tags, thousands of small tags, many links, entity
//!   floods, `<` floods, plain 50 KB comments.

pub(crate) mod floods;

/// SplitMix64: tiny, fast, and good enough for test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi` (`hi` exclusive, `lo < hi`).
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        debug_assert!(lo < hi);
        lo + (self.next_u64() % (hi - lo) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len())]
    }
}

/// Which part of the mixture a comment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain prose with breaks and the odd address.
    Prose,
    /// Prose with the tags `filtered_html` allows, and links.
    AllowedTags,
    /// Prose with disallowed or malformed markup.
    Disallowed,
    /// 10–50 KB, large or hostile.
    Adversarial,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [
        Kind::Prose,
        Kind::AllowedTags,
        Kind::Disallowed,
        Kind::Adversarial,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Prose => "prose",
            Kind::AllowedTags => "allowed_tags",
            Kind::Disallowed => "disallowed",
            Kind::Adversarial => "adversarial",
        }
    }
}

/// One generated comment.
pub(crate) struct Comment {
    pub(crate) kind: Kind,
    pub(crate) text: String,
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "a", "comment", "thread", "article", "really", "think", "agree",
    "disagree", "point", "because", "however", "although", "source", "data",
    "people", "city", "council", "budget", "school", "river", "bridge",
    "weather", "yesterday", "tomorrow", "always", "never", "maybe", "quite",
    "interesting", "wrong", "right", "author", "editor", "reply", "update",
    "version", "release", "bug", "feature", "performance", "memory", "coffee",
    "train", "station", "delay", "minutes", "hours", "and", "or", "but", "not",
    "with", "without", "from", "into", "about", "over", "under", "between",
    "is", "was", "were", "has", "have", "had", "will", "would", "could",
    "should", "this", "that", "these", "those", "it", "they", "we", "you",
    "I", "my", "your", "our", "their", "very", "much", "more", "less",
    // A few non-ASCII words: accents, other scripts, an emoji.
    "café", "naïve", "façade", "résumé", "Straße", "Übermaß", "smörgåsbord",
    "żółć", "niño", "Ελληνικά", "привет", "日本語", "中文", "한국어",
    "العربية", "עברית", "🎉", "—",
];

#[rustfmt::skip]
const URLS: &[&str] = &[
    "http://example.com/",
    "https://www.example.org/news/2024/03/city-budget?ref=rss&utm_source=feed",
    "www.example.net/path/to/page.html",
    "https://en.wikipedia.org/wiki/Rust_(programming_language)",
    "ftp://ftp.example.com/pub/file.tar.gz",
    "http://example.com/search?q=caf%C3%A9&lang=fr#results",
    "https://sub.domain.example.co.uk/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/index.php?id=12345",
    "https://例え.テスト/パス",
];

const EMAILS: &[&str] = &[
    "someone@example.com",
    "jane.doe+news@mail.example.org",
    "x@y.example.net",
];

const LANGS: &[&str] = &["en", "fr", "de", "pl", "ja"];

/// Appends one sentence of 5–20 words, with the odd address.
fn sentence(rng: &mut Rng, out: &mut String, addresses: u64) {
    let n = rng.range(5, 21);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        if rng.chance(addresses) {
            if rng.chance(70) {
                out.push_str(rng.pick(URLS));
            } else {
                out.push_str(rng.pick(EMAILS));
            }
            continue;
        }
        let w = rng.pick(WORDS);
        if i == 0 {
            let mut chars = w.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(w);
        }
        if rng.chance(6) {
            out.push(',');
        }
    }
    out.push_str(rng.pick(&[".", ".", ".", "?", "!", "..."]));
}

/// Appends a separator between sentences: a space, a line break or a
/// paragraph break.
fn separator(rng: &mut Rng, out: &mut String) {
    let r = rng.range(0, 100);
    if r < 10 {
        out.push('\n');
    } else if r < 18 {
        out.push_str("\n\n");
    } else if r < 19 {
        out.push_str("\r\n\r\n");
    } else {
        out.push(' ');
    }
}

fn prose(rng: &mut Rng, target: usize) -> String {
    let mut out = String::with_capacity(target + 200);
    while out.len() < target {
        if !out.is_empty() {
            separator(rng, &mut out);
        }
        sentence(rng, &mut out, 2);
    }
    out
}

/// Appends one piece of markup `filtered_html` allows, around a sentence.
fn allowed_piece(rng: &mut Rng, out: &mut String) {
    let mut inner = String::new();
    sentence(rng, &mut inner, 3);
    match rng.range(0, 10) {
        0 | 1 => {
            out.push_str("<em>");
            out.push_str(&inner);
            out.push_str("</em>");
        }
        2 | 3 => {
            out.push_str("<strong>");
            out.push_str(&inner);
            out.push_str("</strong>");
        }
        4 => {
            out.push_str("<blockquote cite=\"https://example.com/quote\">");
            out.push_str(&inner);
            out.push_str("</blockquote>");
        }
        5 => {
            out.push_str(&inner);
            out.push_str("<br>");
        }
        6 => {
            out.push_str("<p lang=\"");
            out.push_str(rng.pick(LANGS));
            out.push_str("\">");
            out.push_str(&inner);
            out.push_str("</p>");
        }
        7 | 8 => {
            out.push_str("<a href=\"");
            let url = rng.pick(URLS);
            if !url.contains("://") {
                out.push_str("http://");
            }
            out.push_str(url);
            out.push_str("\">");
            out.push_str(&inner);
            out.push_str("</a>");
        }
        _ => {
            out.push_str("<em title=\"a note\">");
            out.push_str(&inner);
            out.push_str("</em> <strong>");
            out.push_str(rng.pick(WORDS));
            out.push_str("</strong>");
        }
    }
}

fn allowed_tags(rng: &mut Rng, target: usize) -> String {
    let mut out = String::with_capacity(target + 400);
    while out.len() < target {
        if !out.is_empty() {
            separator(rng, &mut out);
        }
        if rng.chance(45) {
            allowed_piece(rng, &mut out);
        } else {
            sentence(rng, &mut out, 4);
        }
    }
    out
}

#[rustfmt::skip]
const DISALLOWED: &[&str] = &[
    "<div class=\"quote\">",
    "</div>",
    "<span style=\"color:red\">red</span>",
    "<img src=\"https://example.com/cat.jpg\" onerror=\"alert(1)\">",
    "<script>alert('xss')</script>",
    "<style>body { display: none }</style>",
    "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>",
    "<em>unclosed emphasis",
    "<strong>never closed",
    "</p>",
    "</blockquote>",
    "a < b",
    "x<y and y>z",
    "<3",
    "AT&T",
    "fish & chips",
    "&nbsp;",
    "&#x41;&#66;",
    "&bogus;",
    "&copy 2024",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=x onclick=\"steal()\">x</a>",
    "<!-- a comment -->",
    "<!-- unterminated comment",
    "<p <em>broken</em>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<b>bold</b> <i>italic</i> <u>underline</u>",
    "<ul><li>one<li>two</ul>",
    "<svg><script>alert(1)</script></svg>",
    "<EM>upper case</EM>",
    "<br/><br />",
    "<blockquote><p>nested <em>em</blockquote>",
];

fn disallowed(rng: &mut Rng, target: usize) -> String {
    let mut out = String::with_capacity(target + 200);
    while out.len() < target {
        if !out.is_empty() {
            separator(rng, &mut out);
        }
        if rng.chance(45) {
            out.push_str(rng.pick(DISALLOWED));
            out.push(' ');
        }
        sentence(rng, &mut out, 2);
    }
    out
}

/// Repeats `unit` until `out` holds at least `target` bytes.
fn repeat_to(out: &mut String, unit: &str, target: usize) {
    while out.len() < target {
        out.push_str(unit);
    }
}

fn adversarial(rng: &mut Rng, target: usize, variant: usize) -> String {
    let mut out = String::with_capacity(target + 200);
    match variant % 8 {
        // Deeply nested allowed tags, some closed.
        0 => {
            let opens = target / 2 / "<em><strong>".len();
            for _ in 0..opens {
                out.push_str("<em><strong>");
            }
            sentence(rng, &mut out, 0);
            repeat_to(&mut out, "</strong></em>", target);
        }
        // Deeply nested disallowed tags.
        1 => {
            let unit = rng.pick(&["<div>", "<span>", "<table><tr><td>", "<div><span>"]);
            repeat_to(&mut out, unit, target - 100);
            sentence(rng, &mut out, 0);
        }
        // Thousands of small tags.
        2 => {
            while out.len() < target {
                out.push_str(rng.pick(&[
                    "<em>a</em> ",
                    "<strong>b</strong> ",
                    "<br>",
                    "<p>c</p>",
                    "<span>d</span>",
                    "<em>e</strong>",
                ]));
            }
        }
        // Many links, bare and in <a>.
        3 => {
            let mut i = 0usize;
            while out.len() < target {
                let url = rng.pick(URLS);
                if i % 3 == 0 {
                    out.push_str("<a href=\"https://example.com/p/");
                    out.push_str(&i.to_string());
                    out.push_str("\">link</a> ");
                } else if i % 3 == 1 {
                    out.push_str(url);
                    out.push(' ');
                } else {
                    out.push_str(rng.pick(EMAILS));
                    out.push_str(", ");
                }
                i += 1;
            }
        }
        // Entity flood.
        4 => {
            while out.len() < target {
                out.push_str(rng.pick(&[
                    "&amp;",
                    "&lt;",
                    "&gt;",
                    "&quot;",
                    "&#39;",
                    "&#x1F600;",
                    "&nbsp;",
                    "&bogus;",
                    "& ",
                    "&&&",
                    "&#;",
                    "&#xZZ;",
                    "&eacute;",
                ]));
            }
        }
        // `<` flood and half-open tags.
        5 => {
            while out.len() < target {
                out.push_str(rng.pick(&["<", "< ", "<<", "<a", "<em", "</", "<!", "<3 "]));
            }
        }
        // A long, ordinary comment (up to 50 KB).
        6 => out.push_str(&prose(rng, target)),
        // A long comment with allowed markup.
        _ => out.push_str(&allowed_tags(rng, target)),
    }
    out
}

/// Generates `n` comments from `seed`: same seed, same bytes.
pub(crate) fn generate(seed: u64, n: usize) -> Vec<Comment> {
    let mut rng = Rng::new(seed);
    // Exact proportions: 12 + 5 + 2 + 1 out of every 20.
    let mut kinds: Vec<Kind> = (0..n)
        .map(|i| match i % 20 {
            0..=11 => Kind::Prose,
            12..=16 => Kind::AllowedTags,
            17..=18 => Kind::Disallowed,
            _ => Kind::Adversarial,
        })
        .collect();
    // Fisher–Yates shuffle.
    for i in (1..kinds.len()).rev() {
        let j = rng.range(0, i + 1);
        kinds.swap(i, j);
    }
    let mut adversarial_seen = 0;
    kinds
        .into_iter()
        .map(|kind| {
            let text = match kind {
                Kind::Prose => {
                    let target = rng.range(200, 1400);
                    prose(&mut rng, target)
                }
                Kind::AllowedTags => {
                    let target = rng.range(200, 1300);
                    allowed_tags(&mut rng, target)
                }
                Kind::Disallowed => {
                    let target = rng.range(200, 1300);
                    disallowed(&mut rng, target)
                }
                Kind::Adversarial => {
                    let variant = adversarial_seen;
                    adversarial_seen += 1;
                    // Every eighth large comment is a full 50 KB.
                    let target = if variant % 8 == 6 {
                        50 * 1024
                    } else {
                        rng.range(10 * 1024, 50 * 1024)
                    };
                    adversarial(&mut rng, target, variant)
                }
            };
            Comment { kind, text }
        })
        .collect()
}

/// FNV-1a over every comment, to show the corpus is the same run to run.
pub(crate) fn fingerprint(comments: &[Comment]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for c in comments {
        for &b in c.text.as_bytes().iter().chain(&[0xFF]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

/// The ordinary inputs of the linear-growth table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scale {
    /// Ordinary prose with breaks and addresses.
    Prose,
    /// URLs one after another.
    UrlRun,
}

impl Scale {
    pub(crate) const ALL: [Scale; 2] = [Scale::Prose, Scale::UrlRun];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scale::Prose => "prose",
            Scale::UrlRun => "URL run",
        }
    }

    /// An input of about `size` bytes (at least `size`, at most one unit
    /// more).
    pub(crate) fn input(self, size: usize) -> String {
        let mut out = String::with_capacity(size + 128);
        match self {
            Scale::Prose => {
                let mut rng = Rng::new(0x5CA1_AB1E);
                while out.len() < size {
                    if !out.is_empty() {
                        separator(&mut rng, &mut out);
                    }
                    sentence(&mut rng, &mut out, 2);
                }
            }
            Scale::UrlRun => {
                let mut i = 0usize;
                while out.len() < size {
                    out.push_str("https://www.example.com/articles/");
                    out.push_str(&i.to_string());
                    out.push_str("?ref=feed ");
                    i += 1;
                }
            }
        }
        out
    }
}
