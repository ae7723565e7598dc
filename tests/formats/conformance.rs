//! Drupal 7 conformance: every record of the shared corpus, byte for byte.
//!
//! * An untagged record must match Drupal's output exactly (after removing
//!   the `rel` attribute our policies add to generated links), unless it is
//!   listed, with its reason, in `tests/deviations.toml`.
//! * The list is kept exact: a listed case that now matches, or a listed id
//!   that does not exist, fails the test.
//! * A record tagged `deviation:*` shows a Drupal flaw; our output must not
//!   reproduce it, which a check per tag verifies.
//!
//! The corpus is the repository's own copy, `tests/corpus/drupal7/visible.jsonl`;
//! `$COLLOQUY_DRUPAL7_CORPUS` names another file (a newer corpus, say).

use std::collections::BTreeMap;
use std::path::PathBuf;

use colloquy::PolicySet;
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    format: String,
    input: String,
    expected: String,
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DeviationsFile {
    #[serde(default, rename = "case")]
    cases: Vec<ListedCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedCase {
    id: String,
    reason: String,
}

fn corpus_path() -> PathBuf {
    if let Some(p) = std::env::var_os("COLLOQUY_DRUPAL7_CORPUS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/drupal7/visible.jsonl")
}

fn load_corpus() -> Vec<Record> {
    let path = corpus_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the Drupal 7 corpus at {}: {e}\n\
             set COLLOQUY_DRUPAL7_CORPUS to the path of visible.jsonl",
            path.display()
        )
    });
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn load_deviations() -> BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/deviations.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let file: DeviationsFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut map = BTreeMap::new();
    for case in file.cases {
        assert!(
            !case.reason.trim().is_empty(),
            "{}: {} has no reason",
            path.display(),
            case.id
        );
        let previous = map.insert(case.id.clone(), case.reason);
        assert!(
            previous.is_none(),
            "{}: {} is listed twice",
            path.display(),
            case.id
        );
    }
    map
}

/// Our output without the `rel` attribute of generated links.
fn without_rel(html: &str) -> String {
    static REL: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r#" rel="[^"]*""#).expect("valid"));
    REL.replace_all(html, "").into_owned()
}

/// The text of an HTML fragment, tags removed and references decoded.
fn text_of(html: &str) -> String {
    static TAG: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"<[^>]*>").expect("valid"));
    let stripped = TAG.replace_all(html, "");
    stripped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&amp;", "&")
}

fn attributes(html: &str) -> Vec<(String, String)> {
    static ATTR: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#"<[a-z0-9]+((?:\s+[a-zA-Z:-]+="[^"]*")*)\s*/?>"#).expect("valid")
    });
    static PAIR: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r#"([a-zA-Z:-]+)="([^"]*)""#).expect("valid"));
    let mut out = Vec::new();
    for tag in ATTR.captures_iter(html) {
        for pair in PAIR.captures_iter(&tag[1]) {
            out.push((pair[1].to_owned(), pair[2].to_owned()));
        }
    }
    out
}

fn hrefs(html: &str) -> Vec<String> {
    attributes(html)
        .into_iter()
        .filter(|(n, _)| n == "href")
        .map(|(_, v)| v.replace("&amp;", "&"))
        .collect()
}

/// Checks that our output `got` does not show the flaw `tag` names.
fn check_deviation(tag: &str, r: &Record, got: &str) -> Result<(), String> {
    let fail = |why: &str| Err(why.to_owned());
    let text = text_of(got);
    let ok = match tag {
        "invalid-utf8-output" | "libxml-mojibake" => {
            if got.contains('\u{fffd}') || got.contains('Ã') || got.contains("ä¸") {
                return fail("output holds replacement or mojibake characters");
            }
            let address = Regex::new(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}")
                .expect("valid")
                .find(&r.input)
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            text.contains(&address)
        }
        "empty-link-text" => !Regex::new(r"<a [^>]*></a>").expect("valid").is_match(got),
        "attribute-passthrough" => attributes(got).iter().all(|(n, _)| {
            matches!(
                n.as_str(),
                "title" | "lang" | "dir" | "xml:lang" | "cite" | "href" | "rel"
            )
        }),
        "bidi-controls-pass" => {
            !got.chars()
                .any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
                && !got.contains("&#8238;")
        }
        "control-chars-pass" => !got
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "email-link-mid-word" | "url-no-left-boundary" => got.match_indices("<a ").all(|(i, _)| {
            !got[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        }),
        "stripped-tags-join-words" => text_of(&r.expected) != text,
        "lt-swallows-text" => {
            let words = Regex::new(r"[A-Za-z]{2,}").expect("valid");
            let all_present = words.find_iter(&r.input).all(|w| text.contains(w.as_str()));
            all_present
        }
        "attr-value-gt-breaks-tag" => {
            // What followed the `>` inside a quoted value must not leak out as text.
            let values = Regex::new(r#"="([^"]*>[^"]*)""#).expect("valid");
            let contained = values.captures_iter(&r.input).all(|c| {
                let rest = c[1].split_once('>').map_or("", |(_, r)| r);
                !text.contains(&format!("{rest}\""))
            });
            contained
        }
        "script-style-content-kept" => {
            let body =
                Regex::new(r"(?is)<(script|style)[^>]*>(.*?)</(script|style)>").expect("valid");
            let dropped = body
                .captures_iter(&r.input)
                .all(|c| c[2].trim().is_empty() || !text.contains(c[2].trim()));
            dropped
        }
        "protocol-strip-residue" => attributes(got).iter().all(|(n, v)| match n.as_str() {
            "cite" | "href" | "src" => {
                v.starts_with("http:") || v.starts_with("https:") || v.starts_with("mailto:")
            }
            _ => !v.trim().starts_with("alert("),
        }),
        "attr-colon-prefix-stripped" => {
            let values = Regex::new(r#"="([^"]*:[^"]*)""#).expect("valid");
            let no_residue = values.captures_iter(&r.input).all(|c| {
                let residue = c[1].rsplit(':').next().unwrap_or_default();
                !got.contains(&format!("=\"{residue}\""))
            });
            no_residue
        }
        "url-swallows-escaped-markup" => hrefs(got).iter().all(|h| {
            !h.contains(['"', '\'', '<', '>']) && !h.contains("&quot;") && !h.contains("&#039;")
        }),
        "url-brackets-parens" => {
            hrefs(got).iter().all(|h| {
                h.matches('(').count() == h.matches(')').count()
                    && h.matches('[').count() == h.matches(']').count()
            }) && !got.contains("</a>(")
        }
        "url-ascii-only" => {
            got.contains("<a ")
                && Regex::new(r"<a [^>]*>([^<]*)</a>")
                    .expect("valid")
                    .captures_iter(got)
                    .any(|c| !c[1].is_ascii())
        }
        "url-case-sensitive" => got.contains("<a "),
        "odd-hex-entity-escaped" => !got.contains("&amp;#x"),
        "multiline-comment-leak" => !got.contains("--&gt;") && !text.contains("shown?"),
        "uppercase-block-tag-autop" => {
            !got.contains("<p></p>") && !got.contains("</blockquote><br />")
        }
        "empty-paragraph" => !Regex::new(r"<p>\s*</p>").expect("valid").is_match(got),
        "invalid-nesting" => {
            let mut depth = 0i32;
            let tag = Regex::new(r"<(/?)p[ >]").expect("valid");
            let nested_ok = tag.captures_iter(got).all(|c| {
                depth += if &c[1] == "/" { -1 } else { 1 };
                depth <= 1
            });
            nested_ok
        }
        "br-space-newline-double" => !Regex::new(r"<br />\s*<br />").expect("valid").is_match(got),
        other => return Err(format!("no check written for deviation:{other}")),
    };
    if ok {
        Ok(())
    } else {
        fail("the output still shows this flaw")
    }
}

#[test]
fn drupal7_corpus_matches_byte_for_byte_except_listed_deviations() {
    let corpus = load_corpus();
    let listed = load_deviations();
    let formats = PolicySet::bundled();
    let mut failures = Vec::new();
    let (mut untagged, mut matched, mut listed_seen) = (0, 0, 0);
    let mut deviation_cases = 0;
    for r in &corpus {
        let policy = formats
            .get(&r.format)
            .unwrap_or_else(|| panic!("no format {}", r.format));
        let got_full = policy.render(&r.input).html.into_string();
        let got = without_rel(&got_full);
        let deviations: Vec<&str> = r
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix("deviation:"))
            .collect();
        if !deviations.is_empty() {
            deviation_cases += 1;
            if listed.contains_key(&r.id) {
                failures.push(format!(
                    "{}: tagged deviation:* cases are checked, not listed",
                    r.id
                ));
            }
            if got == r.expected {
                failures.push(format!(
                    "{}: reproduces Drupal's flaw {deviations:?} exactly",
                    r.id
                ));
            }
            for d in deviations {
                if let Err(why) = check_deviation(d, r, &got) {
                    failures.push(format!(
                        "{} deviation:{d}: {why}\n  input:    {:?}\n  drupal:   {:?}\n  colloquy: {:?}",
                        r.id, r.input, r.expected, got
                    ));
                }
            }
            continue;
        }
        untagged += 1;
        let is_listed = listed.contains_key(&r.id);
        if is_listed {
            listed_seen += 1;
        }
        match (got == r.expected, is_listed) {
            (true, false) => matched += 1,
            (false, true) => {}
            (true, true) => failures.push(format!(
                "{}: listed in tests/deviations.toml but now matches Drupal; remove it",
                r.id
            )),
            (false, false) => failures.push(format!(
                "{}: mismatch\n  input:    {:?}\n  expected: {:?}\n  got:      {:?}",
                r.id, r.input, r.expected, got
            )),
        }
    }
    for id in listed.keys() {
        if !corpus.iter().any(|r| &r.id == id) {
            failures.push(format!(
                "{id}: listed in tests/deviations.toml but not in the corpus"
            ));
        }
    }
    let rate = 100.0 * matched as f64 / untagged.max(1) as f64;
    println!(
        "drupal7 conformance: {matched}/{untagged} untagged records match ({rate:.1}%), \
         {listed_seen} listed deviations, {deviation_cases} deviation-tagged records checked"
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
