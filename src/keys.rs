//! Secret keys, kept out of the database they protect.
//!
//! One master secret, from a key file (`key_file`, `COLLOQUY_KEY_FILE`; by
//! default beside a SQLite database, else `colloquy.keys` in the working
//! directory) or from `COLLOQUY_SECRET_KEY`, gives each purpose its own key
//! by HKDF-SHA-256: IP hashes, one-click links, form stamps and the keyed
//! hashes of subscribed or suppressed e-mail addresses. A dump of the
//! database therefore holds hashes but nothing to check guesses against:
//! IPv4 addresses cannot be recovered by trying all 2^32 of them, and links
//! cannot be forged.
//!
//! The file is made on first start (mode 0600). Older versions kept two
//! keys in the `settings` table (`ip_hash_key`, `notify_link_key`); the
//! first start of this version moves them into the file, so IP hashes
//! already stored still match and links already mailed still work, and
//! then deletes them from the database. Each start stores a fingerprint of
//! the keys (never the keys) in the database and refuses to run when
//! another server wrote a different one: every server on one database
//! needs the same key file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::notify::links::{LinkSigner, UNSUBSCRIBE_LINK_SECS};
use crate::store::Store;

/// The old settings rows holding keys.
const LEGACY_IP_SETTING: &str = "ip_hash_key";
const LEGACY_LINK_SETTING: &str = "notify_link_key";
/// The settings row holding the fingerprint of the keys in use.
const FINGERPRINT_SETTING: &str = "key_fingerprint";
/// Shortest master secret accepted.
const MIN_SECRET_CHARS: usize = 32;

/// The service's keys, one per purpose.
#[derive(Clone)]
pub struct Keys {
    ip_hash: Vec<u8>,
    links: Vec<u8>,
    /// An older version's link key, accepted until this time (Unix s).
    legacy_links: Option<(Vec<u8>, i64)>,
    form_stamp: Vec<u8>,
    addresses: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The key file, as written (TOML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    /// The master secret.
    secret: String,
    /// Keys moved from the database of an older version.
    #[serde(default, skip_serializing_if = "Legacy::is_empty")]
    legacy: Legacy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Legacy {
    /// Keeps hashing IP addresses as before, so stored hashes still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_hash_key: Option<String>,
    /// Checks links mailed before the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link_key: Option<String>,
    /// Until when (Unix seconds) `link_key` is accepted: the longest a link
    /// mailed before the move could be valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link_key_until: Option<i64>,
}

impl Legacy {
    fn is_empty(&self) -> bool {
        self.ip_hash_key.is_none() && self.link_key.is_none()
    }
}

impl Keys {
    /// The keys for a service on `store`: from `COLLOQUY_SECRET_KEY` or the
    /// key file, which is made (or completed with an older version's keys
    /// from the database) when needed. Checks the fingerprint stored in the
    /// database, then deletes the older version's keys from it.
    ///
    /// # Errors
    /// An unreadable or invalid key file, a file that cannot be written, or
    /// keys that differ from those this database was used with.
    pub async fn open(config: &Config, store: &Store) -> Result<Keys> {
        let in_database = Legacy {
            ip_hash_key: store.setting(LEGACY_IP_SETTING).await?,
            link_key: store.setting(LEGACY_LINK_SETTING).await?,
            link_key_until: None,
        };
        let stored_fingerprint = store.setting(FINGERPRINT_SETTING).await?;
        let now_secs = crate::clock::now_ms() / 1000;
        let (file, write) = match &config.secret_key {
            Some(secret) => {
                if !in_database.is_empty() {
                    return Err(Error::invalid(
                        "secret_key",
                        "this database still holds the keys of an older Colloquy version \
                         (settings ip_hash_key, notify_link_key); start once without \
                         COLLOQUY_SECRET_KEY so that they move into a key file, then use \
                         that file (COLLOQUY_KEY_FILE)",
                    ));
                }
                let file = KeyFile {
                    secret: secret.clone(),
                    legacy: Legacy::default(),
                };
                (file, Write::Nothing)
            }
            None => {
                let path = config.key_file_path();
                match read_key_file(&path)? {
                    Some(mut file) => {
                        let changed = merge_legacy(&mut file.legacy, &in_database, now_secs)
                            .map_err(|m| key_file_error(&path, m))?;
                        (
                            file,
                            if changed {
                                Write::Replace(path)
                            } else {
                                Write::Nothing
                            },
                        )
                    }
                    None => {
                        if let Some(fp) = &stored_fingerprint {
                            return Err(key_file_error(
                                &path,
                                format!(
                                    "there is no key file here, but this database was first used \
                                     with keys of fingerprint {fp}; copy the key file of the server \
                                     that made it (every server on one database needs the same one)"
                                ),
                            ));
                        }
                        let mut legacy = Legacy::default();
                        merge_legacy(&mut legacy, &in_database, now_secs)
                            .map_err(|m| key_file_error(&path, m))?;
                        let file = KeyFile {
                            secret: fresh_secret(),
                            legacy,
                        };
                        (file, Write::Create(path))
                    }
                }
            }
        };
        // A new file is on disk before the database names its fingerprint,
        // so a crash in between never leaves a database whose keys are lost.
        let file = match write {
            Write::Create(path) => {
                let text = render_key_file(&file)?;
                if create_key_file(&path, &text).map_err(|e| {
                    key_file_error(&path, format!("cannot create the key file: {e}"))
                })? {
                    tracing::info!(path = %path.display(), "created the key file");
                    file
                } else {
                    // Another process made it first: use that one.
                    read_key_file(&path)?.ok_or_else(|| {
                        key_file_error(&path, "the key file vanished while starting".to_owned())
                    })?
                }
            }
            Write::Replace(path) => {
                // The fingerprint covers the merged file: check it first,
                // so a refused start leaves the file as it was.
                let keys = Keys::from_file(&file)?;
                check_fingerprint(store, &keys, Some(&path)).await?;
                replace_key_file(&path, &render_key_file(&file)?).map_err(|e| {
                    key_file_error(&path, format!("cannot rewrite the key file: {e}"))
                })?;
                tracing::info!(path = %path.display(), "moved the keys of the database into the key file");
                file
            }
            Write::Nothing => file,
        };
        let keys = Keys::from_file(&file)?;
        let path = config.secret_key.is_none().then(|| config.key_file_path());
        check_fingerprint(store, &keys, path.as_deref()).await?;
        if !in_database.is_empty() {
            store
                .delete_settings(&[LEGACY_IP_SETTING, LEGACY_LINK_SETTING])
                .await?;
            tracing::info!("deleted the old keys from the database; they are in the key file now");
        }
        Ok(keys)
    }

    /// The keys of a key file, without any database (for tools and tests).
    ///
    /// # Errors
    /// The file is missing, unreadable or invalid.
    pub fn read_file(path: &Path) -> Result<Keys> {
        let file = read_key_file(path)?
            .ok_or_else(|| key_file_error(path, "there is no key file".to_owned()))?;
        Keys::from_file(&file)
    }

    /// The keys a master secret gives (no older keys).
    ///
    /// # Errors
    /// A secret shorter than 32 characters.
    pub fn from_secret(secret: &str) -> Result<Keys> {
        Keys::from_file(&KeyFile {
            secret: secret.to_owned(),
            legacy: Legacy::default(),
        })
    }

    fn from_file(file: &KeyFile) -> Result<Keys> {
        let secret = file.secret.trim();
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(Error::invalid(
                "key_file",
                format!("the secret must have at least {MIN_SECRET_CHARS} characters"),
            ));
        }
        let derive = |purpose: &str| -> Result<Vec<u8>> {
            let hk = Hkdf::<Sha256>::new(Some(b"colloquy keys v1"), secret.as_bytes());
            let mut key = vec![0u8; 32];
            hk.expand(purpose.as_bytes(), &mut key)
                .map_err(|e| Error::internal(format!("key derivation: {e}")))?;
            Ok(key)
        };
        let ip_hash = match &file.legacy.ip_hash_key {
            Some(old) => old.as_bytes().to_vec(),
            None => derive("ip hashes")?,
        };
        let legacy_links = file.legacy.link_key.as_ref().map(|k| {
            (
                k.as_bytes().to_vec(),
                file.legacy.link_key_until.unwrap_or(0),
            )
        });
        let mut keys = Keys {
            ip_hash,
            links: derive("one-click links")?,
            legacy_links,
            form_stamp: derive("form stamps")?,
            addresses: derive("e-mail addresses")?,
            fingerprint: String::new(),
        };
        keys.fingerprint = keys.compute_fingerprint();
        Ok(keys)
    }

    /// A digest of every key (not the expiry of an old link key), which
    /// tells whether two servers use the same keys and reveals none.
    fn compute_fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"colloquy key fingerprint v1");
        for key in [
            self.ip_hash.as_slice(),
            self.links.as_slice(),
            self.legacy_links.as_ref().map_or(&[][..], |(k, _)| k),
            self.form_stamp.as_slice(),
            self.addresses.as_slice(),
        ] {
            h.update(u64::try_from(key.len()).unwrap_or(0).to_be_bytes());
            h.update(key);
        }
        hex(&h.finalize()[..8])
    }

    /// The key of the IP hashes stored with comments.
    pub fn ip_hash_key(&self) -> &[u8] {
        &self.ip_hash
    }

    /// The key that signs the time stamps of HTML forms.
    pub fn form_stamp_key(&self) -> &[u8] {
        &self.form_stamp
    }

    /// The signer of one-click links.
    pub fn link_signer(&self) -> LinkSigner {
        LinkSigner::new(self.links.clone(), self.legacy_links.clone())
    }

    /// The keyed hash under which an address (normalized) is subscribed
    /// or suppressed: the address itself is not stored for that.
    pub fn address_hash(&self, normalized_email: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.addresses) else {
            return String::new();
        };
        mac.update(normalized_email.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The fingerprint stored in the database (16 hex digits).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// What is to be written to the key file at start.
enum Write {
    Nothing,
    Create(PathBuf),
    Replace(PathBuf),
}

/// Stores the fingerprint on first use; refuses keys that differ from the
/// stored one.
async fn check_fingerprint(store: &Store, keys: &Keys, path: Option<&Path>) -> Result<()> {
    let stored = store
        .setting_or_insert(FINGERPRINT_SETTING, keys.fingerprint())
        .await?;
    if stored == keys.fingerprint() {
        return Ok(());
    }
    let source = match path {
        Some(p) => format!("the key file {}", p.display()),
        None => "COLLOQUY_SECRET_KEY".to_owned(),
    };
    Err(Error::invalid(
        "key_file",
        format!(
            "{source} holds keys of fingerprint {}, but this database was first used with keys of \
             fingerprint {stored}: every server on one database needs the same key file; copy the \
             key file of the server that first used this database",
            keys.fingerprint()
        ),
    ))
}

/// Adds the database's old keys to those of the file; true when it added
/// any. A file holding other old keys than the database is refused: one of
/// the two belongs to another installation.
fn merge_legacy(
    file: &mut Legacy,
    database: &Legacy,
    now_secs: i64,
) -> std::result::Result<bool, String> {
    let mut changed = false;
    for (name, mine, theirs) in [
        ("ip_hash_key", &mut file.ip_hash_key, &database.ip_hash_key),
        ("link_key", &mut file.link_key, &database.link_key),
    ] {
        match (mine.as_ref(), theirs) {
            (_, None) => {}
            (None, Some(k)) => {
                *mine = Some(k.clone());
                changed = true;
            }
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => {
                return Err(format!(
                    "the key file's legacy {name} is not the one this database holds; \
                     is it the key file of another installation?"
                ))
            }
        }
    }
    if file.link_key.is_some() && file.link_key_until.is_none() {
        file.link_key_until = Some(now_secs + UNSUBSCRIBE_LINK_SECS);
        changed = true;
    }
    Ok(changed)
}

fn key_file_error(path: &Path, message: String) -> Error {
    Error::invalid("key_file", format!("{}: {message}", path.display()))
}

fn fresh_secret() -> String {
    let raw: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn render_key_file(file: &KeyFile) -> Result<String> {
    let body = toml::to_string(file).map_err(|e| Error::internal(format!("key file: {e}")))?;
    Ok(format!(
        "# Colloquy's secret keys. Keep this file private (mode 0600) and back it\n\
         # up apart from the database: with it, the IP hashes in the database can\n\
         # be reversed and one-click links forged; without it, IP hashes stop\n\
         # matching and links mailed earlier stop working. Every server on one\n\
         # database needs this same file.\n\n{body}"
    ))
}

/// The parsed key file, or `None` when there is none.
fn read_key_file(path: &Path) -> Result<Option<KeyFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(key_file_error(
                path,
                format!("cannot read the key file: {e}"),
            ))
        }
    };
    warn_if_readable_by_others(path);
    let file: KeyFile = toml::from_str(&text)
        .map_err(|e| key_file_error(path, format!("not a key file: {}", e.message().trim())))?;
    if file.secret.trim().chars().count() < MIN_SECRET_CHARS {
        return Err(key_file_error(
            path,
            format!("`secret` must have at least {MIN_SECRET_CHARS} characters"),
        ));
    }
    Ok(Some(file))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the key file can be read by other users; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// A temporary file beside `path`, written and flushed to disk, readable by
/// its owner only.
fn write_temporary(path: &Path, text: &str) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "colloquy.keys".to_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Makes the file unless it exists, atomically (a whole file or none);
/// false when another process made it first.
fn create_key_file(path: &Path, text: &str) -> std::io::Result<bool> {
    let tmp = write_temporary(path, text)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Replaces the file atomically.
fn replace_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = write_temporary(path, text)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_parent(path);
    Ok(())
}

/// Makes a new directory entry durable (best effort).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn each_purpose_has_its_own_key_and_the_secret_decides_them_all() {
        let a = Keys::from_secret(SECRET).expect("keys");
        let b = Keys::from_secret(SECRET).expect("keys");
        let other = Keys::from_secret(&format!("{SECRET}!")).expect("keys");
        let all = [&a.ip_hash, &a.links, &a.form_stamp, &a.addresses];
        for (i, x) in all.iter().enumerate() {
            assert_eq!(x.len(), 32);
            for y in &all[i + 1..] {
                assert_ne!(x, y, "two purposes share a key");
            }
        }
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), other.fingerprint());
        assert_ne!(a.ip_hash, other.ip_hash);
        assert_eq!(a.fingerprint().len(), 16);
        assert!(!a.fingerprint().contains(&hex(&a.ip_hash)[..16]));
        assert!(Keys::from_secret("short").is_err());
    }

    #[test]
    fn older_keys_are_kept_as_they_were() {
        let file = KeyFile {
            secret: SECRET.to_owned(),
            legacy: Legacy {
                ip_hash_key: Some("old-ip-key".to_owned()),
                link_key: Some("old-link-key".to_owned()),
                link_key_until: Some(5),
            },
        };
        let keys = Keys::from_file(&file).expect("keys");
        assert_eq!(keys.ip_hash_key(), b"old-ip-key");
        assert_eq!(keys.legacy_links, Some((b"old-link-key".to_vec(), 5)),);
        assert_ne!(
            keys.fingerprint(),
            Keys::from_secret(SECRET).expect("keys").fingerprint()
        );
        let text = render_key_file(&file).expect("render");
        let back: KeyFile = toml::from_str(&text).expect("parse");
        assert_eq!(back, file);
    }

    #[test]
    fn merging_takes_missing_keys_and_refuses_other_ones() {
        let db = Legacy {
            ip_hash_key: Some("a".to_owned()),
            link_key: None,
            link_key_until: None,
        };
        let mut file = Legacy::default();
        assert_eq!(merge_legacy(&mut file, &db, 100), Ok(true));
        assert_eq!(file.ip_hash_key.as_deref(), Some("a"));
        assert_eq!(file.link_key_until, None);
        assert_eq!(merge_legacy(&mut file, &db, 100), Ok(false));
        let other = Legacy {
            ip_hash_key: Some("b".to_owned()),
            ..Legacy::default()
        };
        assert!(merge_legacy(&mut file, &other, 100).is_err());
        let links = Legacy {
            link_key: Some("l".to_owned()),
            ..Legacy::default()
        };
        assert_eq!(merge_legacy(&mut file, &links, 100), Ok(true));
        assert_eq!(file.link_key_until, Some(100 + UNSUBSCRIBE_LINK_SECS));
    }

    #[test]
    fn a_key_file_is_made_once_owner_only_and_never_overwritten() {
        let dir = std::env::temp_dir().join(format!(
            "colloquy-keys-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("colloquy.keys");
        assert!(create_key_file(&path, "one").expect("create"));
        assert!(!create_key_file(&path, "two").expect("exists"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        replace_key_file(&path, "three").expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "three");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
