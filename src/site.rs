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
}

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
