//! Policies: one text format each, loaded from a TOML file.
//!
//! A policy names its filters in run order with their settings. Loading
//! checks everything once — unknown keys, contradictions, anything the safety
//! floor forbids — so rendering never fails. Each policy carries a version,
//! the hash of its file, returned with every rendering so stored comments can
//! be re-rendered when a policy changes.

mod file;
mod tips;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::filter::Pipeline;
use crate::safety::SafeHtml;

/// The bundled policy files, compiled into the binary.
const BUNDLED: &[(&str, &str)] = &[
    (
        "policies/filtered_html.toml",
        include_str!("../../policies/filtered_html.toml"),
    ),
    (
        "policies/plain_text.toml",
        include_str!("../../policies/plain_text.toml"),
    ),
    (
        "policies/markdown.toml",
        include_str!("../../policies/markdown.toml"),
    ),
];

/// A policy file that could not be loaded: where, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}: {message}")]
pub struct PolicyError {
    /// The file (as given to the loader).
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key concerned, as a path (`filter[1].allowed_tags`).
    pub key: String,
    /// What is wrong, for a person to act on.
    pub message: String,
}

/// One rendering: safe HTML and the version of the policy that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The rendered comment.
    pub html: SafeHtml,
    /// The version of the policy that rendered it.
    pub policy_version: String,
}

/// A loaded, validated text format.
#[derive(Debug, Clone)]
pub struct Policy {
    id: String,
    name: String,
    version: String,
    tips: Vec<String>,
    long_tips: Vec<String>,
    pipeline: Pipeline,
    source: PathBuf,
}

impl Policy {
    /// Loads a policy from TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the line and key of the first problem.
    pub fn from_toml(file: &str, text: &str) -> Result<Policy, PolicyError> {
        Policy::check_toml(file, text).map_err(|all| {
            all.into_iter().next().unwrap_or_else(|| PolicyError {
                file: file.to_owned(),
                line: 1,
                column: 1,
                key: "(file)".to_owned(),
                message: "the file is not a valid policy".to_owned(),
            })
        })
    }

    /// Like [`Policy::from_toml`], with every problem of the file (in the
    /// order of the file) when it is not valid: what `colloquy policy
    /// check` lists.
    ///
    /// # Errors
    /// One [`PolicyError`] per problem, never an empty list.
    pub fn check_toml(file: &str, text: &str) -> Result<Policy, Vec<PolicyError>> {
        let compiled = file::compile(file, text)?;
        let digest = Sha256::digest(text.as_bytes());
        let version = format!("sha256:{}", hex(&digest[..8]));
        let (tips, long_tips) = tips::generate(&compiled.pipeline);
        Ok(Policy {
            id: compiled.id,
            name: compiled.name,
            version,
            tips,
            long_tips,
            pipeline: compiled.pipeline,
            source: PathBuf::from(file),
        })
    }

    /// The format's id, e.g. `filtered_html`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The human name, e.g. "Filtered HTML".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's version: a hash of its file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Short tips shown under the comment box, in filter order.
    pub fn tips(&self) -> &[String] {
        &self.tips
    }

    /// Longer explanations for a help page.
    pub fn long_tips(&self) -> &[String] {
        &self.long_tips
    }

    /// The file this policy was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The filter kinds in run order.
    pub fn filter_kinds(&self) -> Vec<&'static str> {
        self.pipeline.filters().iter().map(|f| f.kind()).collect()
    }

    /// The safety net's allow-list for this policy.
    pub fn allowlist(&self) -> &crate::safety::Allowlist {
        self.pipeline.allowlist()
    }

    /// The compiled filters and safety net.
    #[cfg(test)]
    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Renders a raw comment. Never fails: every input has an output.
    pub fn render(&self, raw: &str) -> Rendered {
        Rendered {
            html: self.pipeline.render(raw),
            policy_version: self.version.clone(),
        }
    }

    /// Renders a raw comment to its HTML alone (no copy of the version):
    /// what [`Policy::render`] gives as `html`.
    pub fn render_html(&self, raw: &str) -> SafeHtml {
        self.pipeline.render(raw)
    }
}

/// The formats a site can offer, by id.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: BTreeMap<String, Policy>,
}

/// Errors from loading a directory of policies.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The directory or a file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Two files declare the same id.
    #[error("{second}: id `{id}` is already used by {first}")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// The file that declared it first.
        first: String,
        /// The file that declared it again.
        second: String,
    },
    /// The directory holds no policy file.
    #[error("{0}: no policy files (*.toml) found")]
    Empty(String),
}

impl PolicySet {
    /// The three bundled formats: `filtered_html`, `plain_text`, `markdown`.
    pub fn bundled() -> PolicySet {
        let mut set = PolicySet::default();
        for (file, text) in BUNDLED {
            match Policy::from_toml(file, text) {
                Ok(p) => {
                    set.policies.insert(p.id.clone(), p);
                }
                // The bundled files are tested; a broken one is a build bug.
                Err(e) => panic!("bundled policy is invalid: {e}"),
            }
        }
        set
    }

    /// Loads every `*.toml` file in `dir`.
    ///
    /// # Errors
    /// The first invalid file, an unreadable directory, or a repeated id.
    pub fn load_dir(dir: &Path) -> Result<PolicySet, LoadError> {
        let io = |path: &Path, source| LoadError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(LoadError::Empty(dir.display().to_string()));
        }
        let mut set = PolicySet::default();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let policy = Policy::from_toml(&path.display().to_string(), &text)?;
            if let Some(first) = set.policies.get(&policy.id) {
                return Err(LoadError::DuplicateId {
                    id: policy.id.clone(),
                    first: first.source.display().to_string(),
                    second: path.display().to_string(),
                });
            }
            set.policies.insert(policy.id.clone(), policy);
        }
        Ok(set)
    }

    /// The policy with this id.
    pub fn get(&self, id: &str) -> Option<&Policy> {
        self.policies.get(id)
    }

    /// All policies, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    /// The ids, ordered.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.name)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
