//! Fuzzes policy loading, two ways over every input.
//!
//! * **Raw:** the bytes, if UTF-8, are a policy file. `Policy::from_toml` must
//!   return (never panic), its errors must point inside the file, and a policy
//!   that loads must stay within the safety floor and render a hostile comment
//!   within every invariant.
//! * **Structured:** the first bytes choose a policy from lists that hold both
//!   legal and forbidden values (`script`, `style`, `onclick`, `javascript:`,
//!   settings of the wrong filter kind, out-of-range numbers, …); the rest is a
//!   comment. The target knows what it asked for, so it checks the loader
//!   both ways: a policy that asked for anything forbidden or invalid must be
//!   refused, and one that asked for nothing of the kind must load, and then
//!   render the comment within every invariant
//!   ([`colloquy::invariants::check_rendering`]).
//!
//! `COLLOQUY_FUZZ_SHOW=1` prints the policy and comment each structured
//! input stands for, to read a crash.
#![no_main]

use std::fmt::Write as _;
use std::sync::LazyLock;

use colloquy::invariants::check_rendering;
use colloquy::safety::{FLOOR, FLOOR_GLOBAL_ATTRIBUTES, FLOOR_SCHEMES};
use colloquy::{Policy, PolicyError};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.toml";

/// `COLLOQUY_FUZZ_SHOW=1` prints each structured policy and comment, to read
/// what a crashing input stands for (`cargo fuzz run policy <file>`).
static SHOW: LazyLock<bool> = LazyLock::new(|| std::env::var_os("COLLOQUY_FUZZ_SHOW").is_some());

/// Rendered by every policy that loads, besides the fuzzer's own text.
const HOSTILE: &str = "<script>alert(1)</script><style>p{}</style>\
<a href=\"javascript:alert(1)\" onclick=\"x()\">j</a> <em onmouseover=x style=\"x\">e</em>\n\n\
<img src=x onerror=alert(1)><blockquote cite=\"data:text/html,x\">q</blockquote>\
<svg><a xlink:href=\"javascript:x\">s</a></svg><!-- c --><iframe src=//x></iframe>\n\
www.example.com http://example.com/?a=<b>&c=\"d\" user@example.com \
[l](javascript:x) <ftp://example.com/f> <p title=\"t\" lang=\"en\" dir=\"rtl\">p</p>\n\
<é> <i—> <code\u{a0}x> www.ex\u{e4}mple.com/\u{2014}p? http://\u{0430}pple.com \u{202e}x@\u{e9}.fr\n\
&#0; &#x110000; &amp;lt;script&amp;gt; > >> >>>\r\n\r\n* a\n1. b";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        raw(text);
    }
    structured(data);
});

/// The input as a policy file.
fn raw(text: &str) {
    match Policy::from_toml(FILE, text) {
        Ok(policy) => {
            within_floor(&policy, text);
            rendering_holds(&policy, HOSTILE, text);
        }
        Err(e) => error_is_sane(&e, text),
    }
}

/// A policy assembled from choices, and a comment.
fn structured(data: &[u8]) {
    let mut bytes = Bytes { data, pos: 0 };
    let spec = Spec::generate(&mut bytes);
    let comment = String::from_utf8_lossy(bytes.rest());
    if *SHOW {
        eprintln!(
            "--- structured policy (forbidden: {:?}, invalid: {:?}):\n{}--- comment: {comment:?}",
            spec.forbidden, spec.invalid, spec.toml
        );
    }
    match Policy::from_toml(FILE, &spec.toml) {
        Ok(policy) => {
            assert!(
                spec.forbidden.is_empty(),
                "a policy asking for forbidden things loaded: {:?}\n{}",
                spec.forbidden,
                spec.toml
            );
            assert!(
                spec.invalid.is_empty(),
                "an invalid policy loaded: {:?}\n{}",
                spec.invalid,
                spec.toml
            );
            within_floor(&policy, &spec.toml);
            rendering_holds(&policy, &comment, &spec.toml);
            rendering_holds(&policy, HOSTILE, &spec.toml);
        }
        Err(e) => {
            error_is_sane(&e, &spec.toml);
            assert!(
                !(spec.forbidden.is_empty() && spec.invalid.is_empty()),
                "a valid policy was refused: {e}\n{}",
                spec.toml
            );
        }
    }
}

fn rendering_holds(policy: &Policy, comment: &str, toml: &str) {
    if let Err(violation) = check_rendering(policy, comment) {
        panic!("invariant violated: {violation}\ncomment: {comment:?}\npolicy:\n{toml}");
    }
}

/// Whatever a file says, what loads is confined to the floor.
fn within_floor(policy: &Policy, toml: &str) {
    let allow = policy.allowlist();
    for tag in allow.tag_names() {
        assert!(floor_tag(tag), "tag `{tag}` beyond the floor:\n{toml}");
        for attr in allow.attributes_of(tag) {
            assert!(
                floor_attribute(tag, attr),
                "attribute `{attr}` on `{tag}` beyond the floor:\n{toml}"
            );
        }
    }
    for scheme in allow.schemes() {
        assert!(
            FLOOR_SCHEMES.contains(&scheme.as_str()),
            "scheme `{scheme}` beyond the floor:\n{toml}"
        );
    }
}

fn error_is_sane(e: &PolicyError, text: &str) {
    assert_eq!(e.file, FILE);
    let lines = text.matches('\n').count() + 1;
    assert!(
        (1..=lines).contains(&e.line) && e.column >= 1,
        "error position {}:{} outside a {lines}-line file: {e}",
        e.line,
        e.column
    );
    assert!(
        !e.key.is_empty() && !e.message.is_empty(),
        "empty error: {e:?}"
    );
}

fn floor_tag(tag: &str) -> bool {
    FLOOR.iter().any(|(t, _)| *t == tag)
}

/// The floor, read from its tables: global attributes anywhere, the rest only
/// where listed, never an event handler or `style`.
fn floor_attribute(tag: &str, attr: &str) -> bool {
    !attr.starts_with("on")
        && attr != "style"
        && (FLOOR_GLOBAL_ATTRIBUTES.contains(&attr)
            || FLOOR
                .iter()
                .any(|(t, attrs)| *t == tag && attrs.contains(&attr)))
}

/// Reads choices off the front of the input. Once it runs out every byte is
/// 0xff: no bad or optional choice, so a short input is a plain valid policy.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0xff);
        self.pos = (self.pos + 1).min(self.data.len());
        b
    }

    /// True with probability `n`/256.
    fn chance(&mut self, n: u8) -> bool {
        self.byte() < n
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn pick<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.below(list.len())]
    }

    fn rest(&self) -> &[u8] {
        &self.data[self.pos..]
    }
}

/// How often (of 256) a choice reaches for the bad list.
const BAD: u8 = 20;
/// How often (of 256) a setting of another filter kind is written.
const STRAY: u8 = 1;

#[rustfmt::skip]
const KINDS: &[&str] = &[
    "html_escape", "html", "url", "autop", "html_corrector", "markdown",
];
const BAD_KINDS: &[&str] = &["bbcode", "HTML", "", "html ", "php"];

/// Every setting, with the kind it belongs to.
const SETTINGS: &[(&str, &str)] = &[
    ("allowed_tags", "html"),
    ("allowed_attributes", "html"),
    ("url_schemes", "html"),
    ("disallowed", "html"),
    ("parser", "html"),
    ("link_rel", "html"),
    ("max_display_length", "url"),
    ("rel", "url"),
    ("emails", "url"),
    ("grammar", "url"),
    ("schemes", "url"),
    ("tables", "markdown"),
    ("strikethrough", "markdown"),
];

#[rustfmt::skip]
const BAD_TAGS: &[&str] = &[
    "script", "style", "iframe", "svg", "math", "img", "object", "embed", "form", "input",
    "textarea", "noscript", "template", "base", "link", "meta", "plaintext", "xmp", "title",
    "frame", "video", "blink", "div", "span", "font", "marquee", "EM", "Script", "<em>", "</p>",
    "", " em", "a ", "p\u{0}",
];

const ATTRIBUTES: &[&str] = &["title", "lang", "dir", "href", "rel", "cite", "start"];
#[rustfmt::skip]
const BAD_ATTRIBUTES: &[&str] = &[
    "onclick", "onerror", "onload", "onmouseover", "style", "class", "id", "src", "srcset",
    "formaction", "xmlns", "xml:lang", "ONCLICK", "Title", "href ", "data-x", "",
];

const SCHEMES: &[&str] = &["http", "https", "ftp", "mailto"];
#[rustfmt::skip]
const BAD_SCHEMES: &[&str] = &[
    "javascript", "data", "vbscript", "file", "blob", "HTTP", "Javascript", "java\tscript", "",
    "http:", "https ",
];

#[rustfmt::skip]
const RELS: &[&str] = &[
    "nofollow", "nofollow ugc", "  noopener   noreferrer ", "ugc", "x-y",
];
#[rustfmt::skip]
const BAD_RELS: &[&str] = &[
    "NoFollow", "nofollow\" onclick=\"x", "x y2", "a_b", "nofollow;",
];

/// A policy file and what the generator knows about it.
struct Spec {
    toml: String,
    /// What it asked for that the safety floor forbids.
    forbidden: Vec<String>,
    /// Other reasons it must not load.
    invalid: Vec<String>,
}

impl Spec {
    fn generate(b: &mut Bytes<'_>) -> Spec {
        let mut s = Spec {
            toml: String::new(),
            forbidden: Vec::new(),
            invalid: Vec::new(),
        };
        s.header(b);
        let count = b.below(6);
        if count == 0 {
            s.invalid.push("no [[filter]]".into());
        }
        for _ in 0..count {
            s.filter(b);
        }
        s
    }

    fn header(&mut self, b: &mut Bytes<'_>) {
        let long_ok = "z".repeat(64);
        let long_bad = "z".repeat(65);
        let id = if b.chance(BAD) {
            let id = match b.below(9) {
                0 => "",
                1 => "Fuzz",
                2 => "1abc",
                3 => "_x",
                4 => "a-b",
                5 => "a b",
                6 => "é",
                7 => "x\n",
                _ => &long_bad,
            };
            self.invalid.push(format!("id {id:?}"));
            Some(id.to_owned())
        } else if b.chance(3) {
            self.invalid.push("no id".into());
            None
        } else {
            let ok = ["fuzz", "x", "a_1", "filtered_html", &long_ok];
            Some(ok[b.below(ok.len())].to_owned())
        };
        let name_ok = "é".repeat(100);
        let name_bad = "x".repeat(101);
        let name = if b.chance(BAD) {
            let name = b.pick(&["", "   ", "\t\n", name_bad.as_str()]).to_owned();
            self.invalid.push(format!("name {name:?}"));
            Some(name)
        } else if b.chance(3) {
            self.invalid.push("no name".into());
            None
        } else {
            Some(
                b.pick(&["Fuzz", "  Padded  ", "Ünïcode <b>", name_ok.as_str()])
                    .to_owned(),
            )
        };
        if let Some(id) = id {
            let _ = writeln!(self.toml, "id = {}", quote(&id));
        }
        if let Some(name) = name {
            let _ = writeln!(self.toml, "name = {}", quote(&name));
        }
        if b.chance(3) {
            self.invalid.push("unknown top-level key".into());
            self.toml.push_str("version = 2\n");
        }
    }

    fn filter(&mut self, b: &mut Bytes<'_>) {
        let kind = if b.chance(BAD / 2) {
            let kind = b.pick(BAD_KINDS);
            self.invalid.push(format!("kind {kind:?}"));
            kind
        } else {
            b.pick(KINDS)
        };
        let _ = writeln!(self.toml, "\n[[filter]]\nkind = {}", quote(kind));
        let known = KINDS.contains(&kind);

        // Settings, in the order of SETTINGS: the kind's own ones (allowed_tags
        // nearly always), now and then one belonging to another kind.
        let mut tags: Vec<&'static str> = Vec::new();
        let mut schemes_given: Option<bool> = None; // url: does `schemes` hold mailto?
        let mut emails = true;
        let mut parser_html5 = false;
        let mut escape = false;
        for &(setting, owner) in SETTINGS {
            let own = owner == kind;
            let write = if own {
                if setting == "allowed_tags" {
                    !b.chance(4)
                } else {
                    b.chance(128)
                }
            } else {
                b.chance(STRAY)
            };
            if !write {
                if own && setting == "allowed_tags" {
                    self.invalid.push("html filter without allowed_tags".into());
                }
                continue;
            }
            if !own && known {
                self.invalid
                    .push(format!("`{setting}` on a `{kind}` filter"));
            }
            match setting {
                "allowed_tags" => tags = self.allowed_tags(b),
                "allowed_attributes" => self.allowed_attributes(b, &tags),
                "url_schemes" => {
                    self.schemes(b, "url_schemes");
                }
                "disallowed" => {
                    let v = self.choose(
                        b,
                        "disallowed",
                        &["strip", "escape"],
                        &["remove", "Strip", ""],
                    );
                    escape = v == "escape";
                }
                "parser" => {
                    let v = self.choose(b, "parser", &["lenient", "html5"], &["xml", "HTML5", ""]);
                    parser_html5 = v == "html5";
                }
                "link_rel" => self.rel(b, "link_rel", true),
                "max_display_length" => self.max_display_length(b),
                "rel" => self.rel(b, "rel", true),
                "emails" => emails = self.boolean(b, "emails"),
                "grammar" => {
                    self.choose(b, "grammar", &["drupal", "linkify"], &["regex", "Drupal"]);
                }
                "schemes" => schemes_given = Some(self.schemes(b, "schemes")),
                _ => {
                    self.boolean(b, setting);
                }
            }
        }
        if kind == "html" && parser_html5 && escape {
            self.invalid
                .push("html5 parser with disallowed = escape".into());
        }
        if kind == "url" && emails && schemes_given == Some(false) {
            self.invalid.push("emails without mailto".into());
        }
        if b.chance(2) {
            self.invalid.push("unknown setting".into());
            self.toml.push_str("allowd_tags = []\n");
        }
    }

    fn allowed_tags(&mut self, b: &mut Bytes<'_>) -> Vec<&'static str> {
        let mut tags: Vec<&'static str> = Vec::new();
        for _ in 0..b.below(7) {
            let tag = if b.chance(BAD) {
                let tag = b.pick(BAD_TAGS);
                self.forbidden.push(format!("tag {tag:?}"));
                tag
            } else {
                b.pick(FLOOR).0
            };
            if tags.contains(&tag) {
                self.invalid.push(format!("tag {tag:?} twice"));
            }
            tags.push(tag);
        }
        let _ = writeln!(self.toml, "allowed_tags = {}", list(&tags));
        tags
    }

    fn allowed_attributes(&mut self, b: &mut Bytes<'_>, tags: &[&'static str]) {
        let mut keys: Vec<&str> = Vec::new();
        let mut entries = Vec::new();
        for _ in 0..b.below(4) {
            let key = match b.below(8) {
                0 | 1 => "*",
                // A floor tag, maybe not in allowed_tags.
                2 => b.pick(FLOOR).0,
                3 if b.chance(64) => b.pick(BAD_TAGS),
                _ if !tags.is_empty() => b.pick(tags),
                _ => "*",
            };
            if keys.contains(&key) {
                continue;
            }
            keys.push(key);
            if key != "*" && !tags.contains(&key) {
                self.invalid
                    .push(format!("attributes for {key:?}, not in allowed_tags"));
            }
            let mut attrs = Vec::new();
            for _ in 0..b.below(4) {
                let attr = if b.chance(BAD) {
                    b.pick(BAD_ATTRIBUTES)
                } else {
                    b.pick(ATTRIBUTES)
                };
                let ok = if key == "*" {
                    FLOOR_GLOBAL_ATTRIBUTES.contains(&attr)
                } else {
                    floor_attribute(key, attr)
                };
                if !ok {
                    self.forbidden
                        .push(format!("attribute {attr:?} on {key:?}"));
                }
                attrs.push(attr);
            }
            entries.push(format!("{} = {}", quote(key), list(&attrs)));
        }
        let _ = writeln!(
            self.toml,
            "allowed_attributes = {{ {} }}",
            entries.join(", ")
        );
    }

    /// Writes a scheme list; returns whether it holds `mailto`.
    fn schemes(&mut self, b: &mut Bytes<'_>, key: &str) -> bool {
        let mut schemes = Vec::new();
        for _ in 0..b.below(5) {
            let scheme = if b.chance(BAD) {
                let scheme = b.pick(BAD_SCHEMES);
                self.forbidden.push(format!("{key} {scheme:?}"));
                scheme
            } else {
                b.pick(SCHEMES)
            };
            schemes.push(scheme);
        }
        let _ = writeln!(self.toml, "{key} = {}", list(&schemes));
        schemes.contains(&"mailto")
    }

    fn choose(
        &mut self,
        b: &mut Bytes<'_>,
        key: &str,
        ok: &[&'static str],
        bad: &[&'static str],
    ) -> &'static str {
        let v = if b.chance(BAD) {
            let v = b.pick(bad);
            self.invalid.push(format!("{key} {v:?}"));
            v
        } else {
            b.pick(ok)
        };
        let _ = writeln!(self.toml, "{key} = {}", quote(v));
        v
    }

    fn rel(&mut self, b: &mut Bytes<'_>, key: &str, blank_ok: bool) {
        let long = "a".repeat(101);
        let v = if b.chance(BAD) {
            let v = match b.below(BAD_RELS.len() + 1) {
                i if i < BAD_RELS.len() => BAD_RELS[i].to_owned(),
                _ => long,
            };
            self.invalid.push(format!("{key} {v:?}"));
            v
        } else if blank_ok && b.chance(32) {
            b.pick(&["", "   "]).to_owned()
        } else {
            b.pick(RELS).to_owned()
        };
        let _ = writeln!(self.toml, "{key} = {}", quote(&v));
    }

    fn max_display_length(&mut self, b: &mut Bytes<'_>) {
        let v = if b.chance(BAD) {
            let v = b.pick(&[
                "-1",
                "2049",
                "9223372036854775807",
                "-9223372036854775808",
                "\"long\"",
                "7.5",
                "true",
            ]);
            self.invalid.push(format!("max_display_length {v}"));
            v
        } else {
            b.pick(&["0", "1", "5", "72", "2048"])
        };
        let _ = writeln!(self.toml, "max_display_length = {v}");
    }

    fn boolean(&mut self, b: &mut Bytes<'_>, key: &str) -> bool {
        if b.chance(BAD / 2) {
            self.invalid.push(format!("{key} not a boolean"));
            let _ = writeln!(self.toml, "{key} = \"yes\"");
            return true;
        }
        let v = b.chance(128);
        let _ = writeln!(self.toml, "{key} = {v}");
        v
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
