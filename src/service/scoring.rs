//! The local spam model in the moderation chain: a site that turns
//! `scoring` on has every new comment and every edit scored by the bundled
//! starter model, on this server, and the verdict goes to the rules as a
//! fact with its explanation.

use std::sync::OnceLock;

use crate::moderation::{SiteRules, SpamScore};
use crate::scoring::{email_domain, link_domains, url_domain, Model, ScoringInput};

/// The starter model, parsed once (a few milliseconds) on first use.
fn starter() -> &'static Model {
    static STARTER: OnceLock<Model> = OnceLock::new();
    STARTER.get_or_init(Model::starter)
}

/// What the model says of a comment, if the site scores comments. Linear
/// in the comment (a few tens of microseconds per kilobyte), so it runs
/// where the rules do.
pub(super) fn spam_score(
    rules: &SiteRules,
    body: &str,
    html: &str,
    author: Option<&str>,
    email: Option<&str>,
    homepage: Option<&str>,
) -> Option<SpamScore> {
    if !rules.scoring {
        return None;
    }
    let domains = link_domains(html);
    let domains: Vec<&str> = domains.iter().map(String::as_str).collect();
    let email_domain = email.and_then(email_domain);
    let homepage_domain = homepage.and_then(url_domain);
    let input = ScoringInput {
        body,
        author,
        email_domain: email_domain.as_deref(),
        homepage_domain: homepage_domain.as_deref(),
        link_domains: &domains,
        ..ScoringInput::default()
    };
    let score = starter().score(&input);
    Some(SpamScore {
        probability: score.probability,
        explained: score.reason(),
    })
}
