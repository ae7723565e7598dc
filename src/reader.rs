//! Who is asking: a reader the site signed in (an [`Identity`] from the
//! site's token) or an anonymous reader known only by a keyed hash of their
//! address. Reports, votes and the enforcement ladder count people by
//! [`ReaderKey`], so one person is one key whichever way they came.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A reader's role on a site, from the token's `user.role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Writes comments (the default).
    #[default]
    Commenter,
    /// Moderates the site's comments and commenters.
    Moderator,
    /// Moderates and changes the site's settings.
    Admin,
}

/// A reader signed in by the site: the verified claims of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The site's own id for the person (opaque).
    pub user_id: String,
    /// The name shown beside their comments.
    pub username: String,
    /// Their address, when the site shares it.
    pub email: Option<String>,
    /// What they may do on the site.
    pub role: Role,
    /// Labels the site gives them (shown beside their name).
    pub badges: Vec<String>,
}

/// The person behind a request, as far as the service knows them.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    /// Set only when the site's token verified.
    pub identity: Option<Identity>,
    /// The keyed hash of the client's address (see `Colloquy::hash_ip`).
    pub ip_hash: Option<String>,
}

/// One person, for counting: their site identity when signed in, else their
/// address hash. Stored as text (`user:…`, `ip:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReaderKey {
    /// The site's id for a signed-in reader.
    User(String),
    /// The keyed hash of an anonymous reader's address.
    Address(String),
}

impl Reader {
    /// The key this reader is counted by, if they can be told apart at all.
    pub fn key(&self) -> Option<ReaderKey> {
        match (&self.identity, &self.ip_hash) {
            (Some(id), _) => Some(ReaderKey::User(id.user_id.clone())),
            (None, Some(hash)) if !hash.is_empty() => Some(ReaderKey::Address(hash.clone())),
            _ => None,
        }
    }
}

impl ReaderKey {
    /// The stored form.
    pub fn as_text(&self) -> String {
        self.to_string()
    }

    /// Reads the stored form back.
    pub fn parse(text: &str) -> Option<ReaderKey> {
        if let Some(id) = text.strip_prefix("user:") {
            Some(ReaderKey::User(id.to_owned()))
        } else {
            text.strip_prefix("ip:")
                .map(|hash| ReaderKey::Address(hash.to_owned()))
        }
    }
}

/// A name as the impersonation check compares it: compatibility forms
/// folded (full-width, ligatures, styled letters), accents removed, lower
/// case, letters from other scripts that look like Latin ones taken as
/// those (Cyrillic `а`, Greek `ο`, …), `0` as `o` and `1` as `l`, and
/// everything but letters and digits dropped (`Ada.Lovelace`, `ada
/// lovelace` and `ΑdаLονеlасе` are one name).
pub fn name_key(name: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(look_alike)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The Latin letter a character is commonly mistaken for.
fn look_alike(c: char) -> char {
    match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'є' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'ѡ' | 'ԝ' => 'w',
        'х' => 'x',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        'ζ' => 'z',
        // Digits and signs
        '0' => 'o',
        '1' | '|' => 'l',
        'ı' => 'i',
        other => other,
    }
}

impl fmt::Display for ReaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderKey::User(id) => write!(f, "user:{id}"),
            ReaderKey::Address(hash) => write!(f, "ip:{hash}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_in_reader_is_counted_by_identity_not_address() {
        let anonymous = Reader {
            identity: None,
            ip_hash: Some("ab12".into()),
        };
        assert_eq!(anonymous.key(), Some(ReaderKey::Address("ab12".into())));
        let signed_in = Reader {
            identity: Some(Identity {
                user_id: "42".into(),
                username: "Ada".into(),
                email: None,
                role: Role::Commenter,
                badges: vec![],
            }),
            ..anonymous
        };
        assert_eq!(signed_in.key(), Some(ReaderKey::User("42".into())));
        assert_eq!(Reader::default().key(), None);
    }

    #[test]
    fn look_alike_names_fold_to_one_key() {
        let ada = name_key("Ada Lovelace");
        for same in [
            "ada.lovelace",
            "ADA_LOVELACE",
            "Ａｄａ Ｌｏｖｅｌａｃｅ",
            "Àdá Lövelace",
            "Аda Lovеlacе",
            "Ada L0ve1ace",
        ] {
            assert_eq!(name_key(same), ada, "{same}");
        }
        assert_ne!(name_key("Ada Byron"), ada);
        assert_eq!(name_key("..."), "");
    }

    #[test]
    fn keys_read_back_from_their_stored_form() {
        for key in [
            ReaderKey::User("a:b".into()),
            ReaderKey::Address("ff00".into()),
        ] {
            assert_eq!(ReaderKey::parse(&key.as_text()), Some(key));
        }
        assert_eq!(ReaderKey::parse("other"), None);
    }
}
