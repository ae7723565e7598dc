//! The layering of ARCHITECTURE.md, checked (and one rule of the store's
//! layout: migration numbers are unique): a module that names another
//! module (or an outside crate) its layer may not use fails this test with
//! the file and line.
//!
//! The check reads `src/` as text. It looks at `crate::<module>` paths (in
//! `use` lines and inline), at `<crate>::` paths for outside crates, and at
//! `.store()` calls; code under `#[cfg(test)]` at the end of a file and files
//! that are tests themselves are skipped, since tests may reach anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// Modules of the core: the text formats, the domain types and rules. They
/// know nothing of HTTP, databases, the runtime or the service.
const CORE: &[&str] = &[
    "audit",
    "clock",
    "comment",
    "commenter",
    "error",
    "filter",
    "invariants",
    "markup",
    "moderation",
    "net",
    "outbox",
    "policy",
    "reader",
    "report",
    "safety",
    "scoring",
    "secret",
    "site",
    "statement",
    "text",
    "urls",
    "vote",
];

/// What no core module may name.
const NOT_IN_CORE: &[&str] = &[
    "crate::service",
    "crate::store",
    "crate::http",
    "crate::server",
    "crate::notify",
    "crate::transfer",
    "crate::cli",
    "crate::config",
    "crate::keys",
    "crate::render_pool",
    "crate::connections",
    "crate::memo",
    "crate::ratelimit",
    "axum::",
    "sqlx::",
    "tokio::",
    "hyper::",
    "hyper_util::",
    "tower::",
    "tower_http::",
    "reqwest::",
    "lettre::",
    "askama::",
];

/// What the runtime services beside the service may not name.
const RUNTIME_FORBIDDEN: &[&str] = &["crate::http", "crate::server", "crate::cli", "axum::"];

struct Rule {
    /// Top-level module (file or directory under `src/`).
    module: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        module: "config",
        forbidden: &[
            "crate::service",
            "crate::store",
            "crate::http",
            "crate::server",
            "crate::notify",
            "crate::transfer",
            "axum::",
            "sqlx::",
        ],
        why: "configuration is read before anything runs and depends on the domain only",
    },
    Rule {
        module: "service",
        forbidden: &[
            "crate::http",
            "crate::server",
            "crate::cli",
            "axum::",
            "hyper::",
            "tower::",
            "tower_http::",
            "askama::",
        ],
        why: "the service is the API of the application; HTTP is one of its callers",
    },
    Rule {
        module: "store",
        forbidden: &[
            "crate::service",
            "crate::http",
            "crate::server",
            "crate::notify",
            "crate::transfer",
            "crate::cli",
            "crate::policy",
            "crate::filter",
            "axum::",
        ],
        why: "storage keeps rows; rules and rendering live above it",
    },
    Rule {
        module: "http",
        forbidden: &["crate::store", "sqlx::", ".store()", "crate::transfer::run"],
        why: "the HTTP layer asks the service, never the database",
    },
    Rule {
        module: "notify",
        forbidden: &["crate::http", "crate::server", "axum::"],
        why: "notifications are sent by a worker, not by request handlers",
    },
    Rule {
        module: "transfer",
        forbidden: &["crate::http", "crate::server", "axum::"],
        why: "imports and exports run from the CLI and the admin API alike",
    },
    Rule {
        module: "auth",
        forbidden: RUNTIME_FORBIDDEN,
        why:
            "runtime services are used by the service and the server, not by HTTP handlers directly",
    },
    Rule {
        module: "sso",
        forbidden: RUNTIME_FORBIDDEN,
        why: "sign-in tokens are verified for the service, which HTTP asks",
    },
    Rule {
        module: "keys",
        forbidden: RUNTIME_FORBIDDEN,
        why: "keys are loaded at start-up for the service",
    },
    Rule {
        module: "memo",
        forbidden: RUNTIME_FORBIDDEN,
        why: "the service's caches know nothing of requests",
    },
    Rule {
        module: "ratelimit",
        forbidden: RUNTIME_FORBIDDEN,
        why: "limits are decided by the service",
    },
    Rule {
        module: "render_pool",
        forbidden: RUNTIME_FORBIDDEN,
        why: "the render pool is the service's",
    },
    Rule {
        module: "connections",
        forbidden: &[
            "crate::service",
            "crate::store",
            "crate::http",
            "axum::",
            "sqlx::",
        ],
        why: "connection limits sit under HTTP and know nothing above the socket",
    },
    Rule {
        module: "cli",
        forbidden: &["crate::store", "sqlx::", ".store()"],
        why: "the CLI is a caller of the service like HTTP",
    },
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src_dir()).expect("under src/");
    let first = rel.components().next().expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The file's lines that are not test code, with their numbers.
fn production_lines(path: &Path) -> Vec<(usize, String)> {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name == "linearity.rs" {
        return Vec::new();
    }
    let text = fs::read_to_string(path).expect("source is UTF-8");
    let mut lines = Vec::new();
    let mut previous_is_cfg_test = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        // A test module at the end of the file: stop reading there.
        if previous_is_cfg_test && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
            break;
        }
        previous_is_cfg_test = trimmed.starts_with("#[cfg(test)]");
        // Comments may speak of other layers.
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push((i + 1, line.to_string()));
    }
    lines
}

/// `needle` occurs in `line` as a path, not inside a longer identifier
/// (`crate::store` must not match `crate::storefront`).
fn names(line: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(at) = line[from..].find(needle) {
        let start = from + at;
        let end = start + needle.len();
        let before_ok = start == 0 || {
            let c = line[..start].chars().next_back().unwrap();
            !(c.is_alphanumeric() || c == '_') || needle.starts_with('.')
        };
        let after_ok = needle.ends_with("::")
            || needle.ends_with(')')
            || line[end..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

fn violations() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let module = module_of(file);
        let mut forbidden: Vec<(&str, &str)> = Vec::new();
        if CORE.contains(&module.as_str()) {
            for f in NOT_IN_CORE {
                forbidden.push((f, "the core knows nothing of the layers above it"));
            }
        }
        for rule in RULES.iter().filter(|r| r.module == module) {
            for f in rule.forbidden {
                forbidden.push((f, rule.why));
            }
        }
        for (number, line) in production_lines(file) {
            for (needle, why) in &forbidden {
                if names(&line, needle) {
                    let rel = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                    found.push(format!(
                        "{}:{number}: `{module}` names `{needle}` ({why}):\n    {}",
                        rel.display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_stays_in_its_layer() {
    let found = violations();
    assert!(
        found.is_empty(),
        "imports across layers (see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_forbidden_path() {
    assert!(names("use crate::store::Store;", "crate::store"));
    assert!(names("    let s = self.store().x();", ".store()"));
    assert!(names("fn f(_: axum::Json<()>) {}", "axum::"));
    assert!(!names("use crate::storefront::X;", "crate::store"));
    assert!(!names("use my_axum::X;", "axum::"));
}

#[test]
fn every_top_level_module_has_a_layer() {
    // A new module must be placed in ARCHITECTURE.md and here; otherwise
    // nothing would check what it imports.
    let placed: Vec<&str> = CORE
        .iter()
        .copied()
        .chain(RULES.iter().map(|r| r.module))
        .chain(["lib", "main", "server"])
        .collect();
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut unplaced: Vec<String> = files
        .iter()
        .map(|f| module_of(f))
        .filter(|m| !placed.contains(&m.as_str()))
        .collect();
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules not placed in a layer: {unplaced:?}"
    );
    let architecture =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md exists");
    let mut undocumented: Vec<&str> = placed
        .iter()
        .copied()
        .filter(|m| !["lib", "main"].contains(m))
        .filter(|m| !architecture.contains(&format!("`{m}")))
        .collect();
    undocumented.sort();
    assert!(
        undocumented.is_empty(),
        "modules ARCHITECTURE.md does not mention: {undocumented:?}"
    );
}

#[test]
fn every_migration_has_a_number_of_its_own() {
    // Two branches that each add "the next" migration would otherwise both
    // ship version N, and a database would run only one of them.
    let dir = src_dir().join("store/migrations");
    let mut seen: Vec<(u64, String)> = Vec::new();
    for entry in fs::read_dir(&dir).expect("migrations directory") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let number: u64 = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("migration {name} does not start with its number"));
        if let Some((_, other)) = seen.iter().find(|(n, _)| *n == number) {
            panic!("migrations {other} and {name} share the number {number}");
        }
        seen.push((number, name));
    }
    assert!(seen.len() >= 10, "{seen:?}");
}
