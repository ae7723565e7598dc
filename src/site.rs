//! A site: one publication using the service, with its own text formats
//! and moderation settings (stored; edited through the admin API).

use crate::moderation::{ModerationMode, SiteRules};

/// A site's stored settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSettings {
    /// Site id.
    pub id: String,
    /// Allowed formats, in order.
    pub formats: Vec<String>,
    /// Default format.
    pub default_format: String,
    /// Moderation mode.
    pub moderation: ModerationMode,
    /// Link count at which comments are held (mode `rules`).
    pub hold_links: u32,
    /// Seconds within which the same text from the same poster is a
    /// duplicate (0: no check).
    pub duplicate_window_secs: u32,
    /// The further moderation rules.
    pub rules: SiteRules,
    /// The origins set through the admin API (normalized, see
    /// [`parse_origin`]); `None` until then: the configuration file's apply.
    pub origins: Option<Vec<String>>,
}

/// Changes to a site's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    /// Offered formats, in order.
    pub formats: Option<Vec<String>>,
    /// The default format.
    pub default_format: Option<String>,
    /// Moderation mode.
    pub moderation: Option<ModerationMode>,
    /// Link count that holds a comment.
    pub hold_links: Option<u32>,
    /// Duplicate window, seconds.
    pub duplicate_window_secs: Option<u32>,
    /// Fields of [`SiteRules`] to change, by name.
    pub rules: serde_json::Map<String, serde_json::Value>,
    /// `Some(Some(list))` sets the origins, `Some(None)` goes back to the
    /// configuration file's.
    pub origins: Option<Option<Vec<String>>>,
}

pub use crate::net::parse_origin;

impl SiteSettings {
    /// What the moderation rules read of these settings.
    pub fn rules_view(&self) -> crate::moderation::Settings<'_> {
        crate::moderation::Settings {
            mode: self.moderation,
            hold_links: self.hold_links,
            rules: &self.rules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_need_a_scheme_and_a_host_and_are_normalized() {
        assert_eq!(
            parse_origin("https://News.Example/").as_deref(),
            Ok("https://news.example")
        );
        assert_eq!(
            parse_origin("https://news.example:443").as_deref(),
            Ok("https://news.example")
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert_eq!(parse_origin(" * ").as_deref(), Ok("*"));
        let e = parse_origin("news.example").unwrap_err();
        assert!(
            e.contains("no scheme") && e.contains("https://news.example"),
            "{e}"
        );
        assert!(parse_origin("localhost:8080")
            .unwrap_err()
            .contains("no scheme"));
        assert!(parse_origin("ftp://news.example")
            .unwrap_err()
            .contains("http or https"));
        assert!(parse_origin("https://news.example/articles")
            .unwrap_err()
            .contains("path"));
        assert!(parse_origin("https://").is_err());
        assert!(parse_origin("").is_err());
    }
}
