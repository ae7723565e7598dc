//! Secret tokens and what the database keeps of them: random tokens (edit
//! tokens, nonces) and their SHA-256 digests.

use base64::Engine as _;
use sha2::{Digest, Sha256};

pub(crate) fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// SHA-256 of a secret token, hex (what the database keeps).
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
