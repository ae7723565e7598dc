//! Policy files: the TOML shape, and its translation into a checked pipeline.
//!
//! The file is read into a raw struct that keeps the position of every value
//! (`toml::Spanned`), then each setting is checked against its filter kind
//! and the safety floor. Errors name the file, line, column and key.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::PolicyError;
use crate::filter::{
    self, autop, html, html_corrector, html_escape, markdown, url, Filter, Pipeline,
};
use crate::safety::{self, Allowlist};

/// Unknown keys are not refused here but by [`unknown_keys`], which finds
/// every one of them (with a suggestion), not just the first.
#[derive(Debug, Deserialize)]
struct PolicyFile {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default, rename = "filter")]
    filters: Vec<Spanned<FilterSpec>>,
}

/// One `[[filter]]` table. Every setting of every kind is listed here (and
/// in [`SETTINGS`], which [`unknown_keys`] checks a file against);
/// [`check_settings`] then rejects settings that belong to another kind.
#[derive(Debug, Deserialize)]
struct FilterSpec {
    kind: Spanned<String>,
    // html
    allowed_tags: Option<Spanned<Vec<Spanned<String>>>>,
    allowed_attributes: Option<Spanned<BTreeMap<String, Vec<Spanned<String>>>>>,
    url_schemes: Option<Spanned<Vec<Spanned<String>>>>,
    disallowed: Option<Spanned<String>>,
    parser: Option<Spanned<String>>,
    link_rel: Option<Spanned<String>>,
    // url
    max_display_length: Option<Spanned<i64>>,
    rel: Option<Spanned<String>>,
    emails: Option<Spanned<bool>>,
    grammar: Option<Spanned<String>>,
    schemes: Option<Spanned<Vec<Spanned<String>>>>,
    // markdown
    tables: Option<Spanned<bool>>,
    strikethrough: Option<Spanned<bool>>,
}

/// Settings each kind accepts.
const SETTINGS: &[(&str, &[&str])] = &[
    ("html_escape", &[]),
    (
        "html",
        &[
            "allowed_tags",
            "allowed_attributes",
            "url_schemes",
            "disallowed",
            "parser",
            "link_rel",
        ],
    ),
    (
        "url",
        &["max_display_length", "rel", "emails", "grammar", "schemes"],
    ),
    ("autop", &[]),
    ("html_corrector", &[]),
    ("markdown", &["tables", "strikethrough"]),
];

/// Elements whose mere presence in a policy is a request for script or
/// style, answered with a specific refusal.
const NEVER_TAGS: &[&str] = &[
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "noscript",
    "xmp",
    "textarea",
    "title",
    "noembed",
    "noframes",
    "template",
    "form",
    "input",
    "button",
    "base",
    "link",
    "meta",
    "frame",
    "frameset",
    "applet",
    "plaintext",
    "listing",
    "img",
    "video",
    "audio",
    "source",
];

pub(super) struct Compiled {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) pipeline: Pipeline,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn error(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> PolicyError {
        let (line, column) = crate::text::line_col(self.text, span.start);
        PolicyError {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Checks a whole file: every problem it has — TOML syntax errors alone
/// when there are some (the rest cannot be read then), else unknown keys
/// first (a misspelt key explains the problems it causes), then the others
/// in the order of the file; each filter contributes its first problem.
pub(super) fn compile(file: &str, text: &str) -> Result<Compiled, Vec<PolicyError>> {
    let ctx = Ctx { file, text };
    let (syntax, unknown) = unknown_keys(&ctx);
    if syntax {
        return Err(unknown);
    }
    let raw: PolicyFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let mut errors = unknown;
            errors.push(serde_error(&ctx, &e));
            return Err(errors);
        }
    };
    let mut errors = Vec::new();

    let id = raw.id.get_ref();
    let id_ok = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !id_ok {
        errors.push(ctx.error(
            raw.id.span(),
            "id",
            "must be 1-64 characters of a-z, 0-9 and _, starting with a letter",
        ));
    }
    let name = raw.name.get_ref().trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(ctx.error(raw.name.span(), "name", "must be 1-100 characters"));
    }
    if raw.filters.is_empty() {
        errors.push(ctx.error(0..0, "filter", "a policy needs at least one [[filter]]"));
    }
    let mut filters = Vec::with_capacity(raw.filters.len());
    for (i, spec) in raw.filters.iter().enumerate() {
        match compile_filter(&ctx, i, spec) {
            Ok(f) => filters.push(f),
            Err(e) => errors.push(e),
        }
    }
    if !unknown.is_empty() || !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(unknown.into_iter().chain(errors).collect());
    }
    Ok(Compiled {
        id: id.clone(),
        name: name.to_owned(),
        pipeline: Pipeline::new(filters),
    })
}

/// Keys of a policy file's top level.
const TOP_KEYS: &[&str] = &["id", "name", "filter"];

/// Every TOML syntax error of the file (`true` when there are some), or
/// else every key the file should not have, each with the closest known
/// key as a suggestion.
fn unknown_keys(ctx: &Ctx<'_>) -> (bool, Vec<PolicyError>) {
    use toml::de::{DeTable, DeValue};
    let (doc, syntax) = DeTable::parse_recoverable(ctx.text);
    if !syntax.is_empty() {
        return (true, syntax.iter().map(|e| serde_error(ctx, e)).collect());
    }
    let filter_keys: Vec<&str> = std::iter::once("kind")
        .chain(SETTINGS.iter().flat_map(|(_, s)| s.iter().copied()))
        .collect();
    let mut errors = Vec::new();
    let mut unknown =
        |key: &toml::Spanned<toml::de::DeString<'_>>, path: String, known: &[&str]| {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                return;
            }
            let hint = closest(name, known)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_else(|| format!("; known keys here: {}", known.join(", ")));
            errors.push(ctx.error(key.span(), path, format!("unknown key `{name}`{hint}")));
        };
    for (key, value) in doc.get_ref() {
        unknown(key, key.get_ref().to_string(), TOP_KEYS);
        if key.get_ref() != "filter" {
            continue;
        }
        let DeValue::Array(tables) = value.get_ref() else {
            continue;
        };
        for table in tables.iter() {
            let DeValue::Table(table) = table.get_ref() else {
                continue;
            };
            for (key, _) in table {
                unknown(key, key.get_ref().to_string(), &filter_keys);
            }
        }
    }
    (false, errors)
}

/// The known key a misspelt one most likely meant: within a third of its
/// length in edits (at least two).
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Turns a serde/TOML error into one with a line and a key.
fn serde_error(ctx: &Ctx<'_>, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim().to_owned();
    let span = e.span().unwrap_or(0..0);
    let named_field = message.contains("unknown field") || message.contains("missing field");
    let key = between_backticks(&message)
        .filter(|_| named_field)
        .map(str::to_owned)
        .or_else(|| key_on_line(ctx.text, span.start))
        .unwrap_or_else(|| "(file)".to_owned());
    ctx.error(span, key, message)
}

/// The key assigned on the line where `at` falls (`key = value`), if any.
fn key_on_line(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let eq = text[line_start..at].find('=')?;
    let key = text[line_start..line_start + eq].trim();
    (!key.is_empty() && key.len() < 64).then(|| key.to_owned())
}

fn between_backticks(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

fn compile_filter(
    ctx: &Ctx<'_>,
    index: usize,
    spec: &Spanned<FilterSpec>,
) -> Result<Filter, PolicyError> {
    let f = spec.get_ref();
    let kind = f.kind.get_ref().as_str();
    let key = |k: &str| format!("filter[{index}].{k}");
    let Some((_, accepted)) = SETTINGS.iter().find(|(k, _)| *k == kind) else {
        let kinds: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
        return Err(ctx.error(
            f.kind.span(),
            key("kind"),
            format!(
                "unknown filter kind `{kind}`; known kinds: {}",
                kinds.join(", ")
            ),
        ));
    };
    check_settings(ctx, index, f, kind, accepted)?;
    Ok(match kind {
        "html_escape" => Filter::HtmlEscape(html_escape::HtmlEscape),
        "autop" => Filter::Autop(autop::Autop),
        "html_corrector" => Filter::HtmlCorrector(html_corrector::HtmlCorrector),
        "markdown" => Filter::Markdown(markdown::MarkdownFilter {
            tables: f.tables.as_ref().is_some_and(|v| *v.get_ref()),
            strikethrough: f.strikethrough.as_ref().is_some_and(|v| *v.get_ref()),
        }),
        "html" => Filter::Html(compile_html(ctx, index, f, spec.span())?),
        _ => Filter::Url(compile_url(ctx, index, f)?),
    })
}

/// Rejects a setting that belongs to another filter kind, naming its owner.
fn check_settings(
    ctx: &Ctx<'_>,
    index: usize,
    f: &FilterSpec,
    kind: &str,
    accepted: &[&str],
) -> Result<(), PolicyError> {
    let present: [(&str, Option<Range<usize>>); 13] = [
        ("allowed_tags", f.allowed_tags.as_ref().map(Spanned::span)),
        (
            "allowed_attributes",
            f.allowed_attributes.as_ref().map(Spanned::span),
        ),
        ("url_schemes", f.url_schemes.as_ref().map(Spanned::span)),
        ("disallowed", f.disallowed.as_ref().map(Spanned::span)),
        ("parser", f.parser.as_ref().map(Spanned::span)),
        ("link_rel", f.link_rel.as_ref().map(Spanned::span)),
        (
            "max_display_length",
            f.max_display_length.as_ref().map(Spanned::span),
        ),
        ("rel", f.rel.as_ref().map(Spanned::span)),
        ("emails", f.emails.as_ref().map(Spanned::span)),
        ("grammar", f.grammar.as_ref().map(Spanned::span)),
        ("schemes", f.schemes.as_ref().map(Spanned::span)),
        ("tables", f.tables.as_ref().map(Spanned::span)),
        ("strikethrough", f.strikethrough.as_ref().map(Spanned::span)),
    ];
    for (name, span) in present {
        let Some(span) = span else { continue };
        if accepted.contains(&name) {
            continue;
        }
        let owner = SETTINGS
            .iter()
            .find(|(_, s)| s.contains(&name))
            .map_or("another", |(k, _)| *k);
        return Err(ctx.error(
            span,
            format!("filter[{index}].{name}"),
            format!("`{name}` is a setting of the `{owner}` filter, not of `{kind}`"),
        ));
    }
    Ok(())
}

fn compile_html(
    ctx: &Ctx<'_>,
    index: usize,
    f: &FilterSpec,
    table_span: Range<usize>,
) -> Result<html::HtmlFilter, PolicyError> {
    let key = |k: &str| format!("filter[{index}].{k}");
    let Some(tags) = &f.allowed_tags else {
        return Err(ctx.error(
            table_span,
            key("allowed_tags"),
            "an `html` filter needs `allowed_tags` (use [] to allow none)",
        ));
    };
    let mut tag_names: Vec<String> = Vec::new();
    for tag in tags.get_ref() {
        let name = tag.get_ref();
        let msg = if name.contains(['<', '>']) {
            Some(format!(
                "write tag names without brackets: `{}`",
                name.trim_matches(['<', '>', '/'])
            ))
        } else if name.to_ascii_lowercase() != *name {
            Some(format!(
                "write tag names in lower case: `{}`",
                name.to_ascii_lowercase()
            ))
        } else if NEVER_TAGS.contains(&name.as_str()) {
            Some(format!(
                "`{name}` can never be allowed: it can run script, load content or hide markup"
            ))
        } else if !safety::floor_allows_tag(name) {
            let floor: Vec<&str> = safety::FLOOR.iter().map(|(t, _)| *t).collect();
            Some(format!(
                "`{name}` is not a tag Colloquy can allow; allowed: {}",
                floor.join(" ")
            ))
        } else if tag_names.contains(name) {
            Some(format!("`{name}` is listed twice"))
        } else {
            None
        };
        if let Some(msg) = msg {
            return Err(ctx.error(tag.span(), key("allowed_tags"), msg));
        }
        tag_names.push(name.clone());
    }

    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(map) = &f.allowed_attributes {
        for (tag, attrs) in map.get_ref() {
            if tag != "*" && !tag_names.contains(tag) {
                return Err(ctx.error(
                    map.span(),
                    format!("filter[{index}].allowed_attributes.{tag}"),
                    format!("`{tag}` is not in allowed_tags; use \"*\" for every allowed tag"),
                ));
            }
            for attr in attrs {
                let a = attr.get_ref();
                let attr_key = format!("filter[{index}].allowed_attributes.{tag}");
                let msg = if a.starts_with("on") {
                    Some(format!(
                        "`{a}`: event handler attributes can never be allowed"
                    ))
                } else if a == "style" {
                    Some(
                        "`style` can never be allowed: CSS can hide, overlay and exfiltrate"
                            .to_owned(),
                    )
                } else if tag == "*" {
                    (!safety::FLOOR_GLOBAL_ATTRIBUTES.contains(&a.as_str())).then(|| {
                        format!(
                            "`{a}` cannot be allowed on every tag; allowed there: {}",
                            safety::FLOOR_GLOBAL_ATTRIBUTES.join(", ")
                        )
                    })
                } else {
                    (!safety::floor_allows_attribute(tag, a))
                        .then(|| format!("`{a}` cannot be allowed on `{tag}`"))
                };
                if let Some(msg) = msg {
                    return Err(ctx.error(attr.span(), attr_key, msg));
                }
                let targets: Vec<String> = if tag == "*" {
                    tag_names.clone()
                } else {
                    vec![tag.clone()]
                };
                for t in targets {
                    let list = attributes.entry(t).or_default();
                    if !list.contains(a) {
                        list.push(a.clone());
                    }
                }
            }
        }
    }

    let schemes = schemes(
        ctx,
        &key("url_schemes"),
        f.url_schemes.as_ref(),
        &["http", "https", "mailto"],
    )?;
    let disallowed = match f
        .disallowed
        .as_ref()
        .map(|v| (v.get_ref().as_str(), v.span()))
    {
        None | Some(("strip", _)) => html::Disallowed::Strip,
        Some(("escape", _)) => html::Disallowed::Escape,
        Some((other, span)) => {
            return Err(ctx.error(
                span,
                key("disallowed"),
                format!("`{other}`: use \"strip\" or \"escape\""),
            ))
        }
    };
    let parser = match f.parser.as_ref().map(|v| (v.get_ref().as_str(), v.span())) {
        None | Some(("lenient", _)) => html::Parser::Lenient,
        Some(("html5", _)) => html::Parser::Html5,
        Some((other, span)) => {
            return Err(ctx.error(
                span,
                key("parser"),
                format!("`{other}`: use \"lenient\" or \"html5\""),
            ))
        }
    };
    if parser == html::Parser::Html5 && disallowed == html::Disallowed::Escape {
        let span = f.disallowed.as_ref().map_or(table_span, Spanned::span);
        return Err(ctx.error(
            span,
            key("disallowed"),
            "the html5 parser can only strip disallowed tags; use parser = \"lenient\" to escape them",
        ));
    }
    let link_rel = match &f.link_rel {
        Some(v) => Some(rel_value(ctx, &key("link_rel"), v)?),
        None if tag_names.iter().any(|t| t == "a") => Some("nofollow ugc".to_owned()),
        None => None,
    };
    let allow = Allowlist::new(
        tag_names.iter().map(|t| {
            let attrs = attributes.get(t).cloned().unwrap_or_default();
            (t.as_str(), attrs)
        }),
        schemes.iter().map(String::as_str),
    );
    Ok(html::HtmlFilter {
        allow,
        disallowed,
        parser,
        link_rel,
    })
}

fn compile_url(ctx: &Ctx<'_>, index: usize, f: &FilterSpec) -> Result<url::UrlFilter, PolicyError> {
    let key = |k: &str| format!("filter[{index}].{k}");
    let max_display_length = match &f.max_display_length {
        None => 72,
        Some(v) => {
            let n = *v.get_ref();
            if !(0..=2048).contains(&n) {
                return Err(ctx.error(
                    v.span(),
                    key("max_display_length"),
                    "must be 0 (never shorten) to 2048",
                ));
            }
            n as usize
        }
    };
    let rel = match &f.rel {
        Some(v) if v.get_ref().trim().is_empty() => None,
        Some(v) => Some(rel_value(ctx, &key("rel"), v)?),
        None => Some("nofollow ugc".to_owned()),
    };
    let grammar = match f.grammar.as_ref().map(|v| (v.get_ref().as_str(), v.span())) {
        None | Some(("drupal", _)) => filter::Grammar::Drupal,
        Some(("linkify", _)) => filter::Grammar::Linkify,
        Some((other, span)) => {
            return Err(ctx.error(
                span,
                key("grammar"),
                format!("`{other}`: use \"drupal\" or \"linkify\""),
            ))
        }
    };
    let emails = f.emails.as_ref().is_none_or(|v| *v.get_ref());
    let schemes = schemes(
        ctx,
        &key("schemes"),
        f.schemes.as_ref(),
        safety::FLOOR_SCHEMES,
    )?;
    if emails && !schemes.iter().any(|s| s == "mailto") {
        let span = f.schemes.as_ref().map_or(0..0, Spanned::span);
        return Err(ctx.error(
            span,
            key("schemes"),
            "emails = true needs \"mailto\" in schemes",
        ));
    }
    Ok(url::UrlFilter {
        grammar,
        max_display_length,
        rel,
        emails,
        schemes,
    })
}

fn schemes(
    ctx: &Ctx<'_>,
    key: &str,
    given: Option<&Spanned<Vec<Spanned<String>>>>,
    default: &[&str],
) -> Result<Vec<String>, PolicyError> {
    let Some(given) = given else {
        return Ok(default.iter().map(|s| (*s).to_owned()).collect());
    };
    let mut out = Vec::new();
    for s in given.get_ref() {
        let scheme = s.get_ref();
        if !safety::FLOOR_SCHEMES.contains(&scheme.as_str()) {
            return Err(ctx.error(
                s.span(),
                key,
                format!(
                    "scheme `{scheme}` can never be allowed; choose from: {}",
                    safety::FLOOR_SCHEMES.join(", ")
                ),
            ));
        }
        out.push(scheme.clone());
    }
    Ok(out)
}

fn rel_value(ctx: &Ctx<'_>, key: &str, v: &Spanned<String>) -> Result<String, PolicyError> {
    let value = v.get_ref().trim();
    let ok = value
        .split_ascii_whitespace()
        .all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
    if !ok || value.len() > 100 {
        return Err(ctx.error(
            v.span(),
            key,
            "must be space-separated link types such as \"nofollow ugc\"",
        ));
    }
    Ok(value.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyError {
        match compile("p.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(mut e) => e.remove(0),
        }
    }

    #[test]
    fn every_problem_of_a_file_is_listed_with_a_suggestion() {
        let all = match compile(
            "p.toml",
            &format!("{HEAD}[[filter]]\nkind = \"html\"\nallowd_tags = []\n[[filter]]\nkind = \"url\"\nrell = \"x\"\nschemes = 3\n"),
        ) {
            Ok(_) => panic!("must fail"),
            Err(all) => all,
        };
        let seen: Vec<(usize, &str)> = all.iter().map(|e| (e.line, e.key.as_str())).collect();
        assert_eq!(seen[..2], [(5, "allowd_tags"), (8, "rell")], "{all:?}");
        assert!(
            all[0].message.contains("did you mean `allowed_tags`?"),
            "{}",
            all[0].message
        );
        assert!(
            all[1].message.contains("did you mean `rel`?"),
            "{}",
            all[1].message
        );
        // A type error is listed too, after the unknown keys.
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(closest("zzzzzz", &["allowed_tags", "rel"]), None);
    }

    const HEAD: &str = "id = \"x\"\nname = \"X\"\n";

    #[test]
    fn unknown_keys_are_reported_with_line_and_key() {
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"html\"\nallowd_tags = []\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (5, "allowd_tags"));
        assert_eq!(e.file, "p.toml");
    }

    #[test]
    fn unknown_filter_kinds_are_rejected() {
        let e = err(&format!("{HEAD}[[filter]]\nkind = \"bbcode\"\n"));
        assert_eq!((e.line, e.key.as_str()), (4, "filter[0].kind"));
        assert!(e.message.contains("bbcode"));
    }

    #[test]
    fn settings_of_another_kind_are_rejected() {
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"autop\"\nrel = \"nofollow\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (5, "filter[0].rel"));
        assert!(e.message.contains("`url`"));
    }

    #[test]
    fn script_style_handlers_and_bad_schemes_are_refused() {
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"html\"\nallowed_tags = [\"em\", \"script\"]\n"
        ));
        assert!(e.message.contains("never"));
        assert_eq!(e.line, 5);
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"html\"\nallowed_tags = [\"em\"]\nallowed_attributes = {{ em = [\"onclick\"] }}\n"
        ));
        assert!(e.message.contains("event handler"));
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"html\"\nallowed_tags = [\"em\"]\nallowed_attributes = {{ \"*\" = [\"style\"] }}\n"
        ));
        assert!(e.message.contains("style"));
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"url\"\nschemes = [\"javascript\"]\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (5, "filter[0].schemes"));
    }

    #[test]
    fn wrong_types_name_the_key() {
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"url\"\nmax_display_length = \"long\"\n"
        ));
        assert_eq!(e.line, 5);
        assert!(e.key.contains("max_display_length"), "{e}");
    }

    #[test]
    fn html5_parser_cannot_escape() {
        let e = err(&format!(
            "{HEAD}[[filter]]\nkind = \"html\"\nallowed_tags = []\nparser = \"html5\"\ndisallowed = \"escape\"\n"
        ));
        assert_eq!(e.line, 7);
    }

    #[test]
    fn a_valid_policy_compiles() {
        let ok = compile(
            "p.toml",
            &format!("{HEAD}[[filter]]\nkind = \"html_escape\"\n[[filter]]\nkind = \"autop\"\n"),
        );
        assert!(ok.is_ok());
    }
}
