//! The local spam model in the moderation chain. A site that turns
//! `scoring` on has every new comment and every edit scored on this server,
//! and the verdict goes to the rules as a fact with its explanation.
//!
//! Each site starts from the bundled starter model and then learns from its
//! own moderators: every approve (ham), spam or trash (spam) decision is an
//! example. A trainer (one server at a time, every `scoring_interval`)
//! learns the decisions made since the last save, in audit order, and saves
//! the model under compare-and-set; servers pick a new version up within
//! [`MODEL_RECHECK`]. Training the same decisions in the same order gives
//! the same bytes, so `retrain` and `eval` can replay the history exactly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::Colloquy;
use crate::clock::now_ms;
use crate::comment::{Comment, SiteId};
use crate::error::{Error, Result};
use crate::moderation::{SiteRules, SpamScore};
use crate::scoring::{
    email_domain, link_domains, url_domain, Evaluation, Facts, Label, Model, ScoringInput,
};
use crate::store::{CommentFacts, Decision, NewModel};

/// How often a server asks whether its copy of a site's model is current.
pub const MODEL_RECHECK: Duration = Duration::from_secs(5);

/// Decisions read per round trip while training.
const DECISION_BATCH: i64 = 500;

/// The starter model, parsed once (a few milliseconds) on first use.
fn starter() -> &'static Arc<Model> {
    static STARTER: OnceLock<Arc<Model>> = OnceLock::new();
    STARTER.get_or_init(|| Arc::new(Model::starter()))
}

/// The models this server scores with, one per site that has one.
#[derive(Default)]
pub(super) struct SiteModels {
    models: Mutex<HashMap<String, CachedModel>>,
}

struct CachedModel {
    /// `None`: the site has no model of its own (the starter serves).
    version: Option<i64>,
    model: Arc<Model>,
    checked: Instant,
}

/// A site's model as the admin API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// `starter` (nothing learned yet) or `site`.
    pub source: &'static str,
    /// The stored version (0: the starter).
    pub version: i64,
    /// Moderator decisions learned, spam.
    pub spam_learned: i64,
    /// Moderator decisions learned, ham.
    pub ham_learned: i64,
    /// The last audit entry learned from.
    pub trained_through: i64,
    /// Size of the stored model.
    pub bytes: usize,
    /// When it was saved (ms), if it was.
    pub updated: Option<i64>,
}

/// What a round of training did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainReport {
    /// Decisions learned in this round.
    pub learned: usize,
    /// The version saved (`None`: nothing new, or another server saved).
    pub version: Option<i64>,
}

/// A model's evaluation on a site's latest decisions, after learning the
/// earlier ones: the site's own history split by time.
#[derive(Debug, Clone)]
pub struct SiteEvaluation {
    /// Decisions learned before the test.
    pub trained_on: usize,
    /// Decisions tested on (the latest).
    pub tested_on: usize,
    /// The site-trained model at the site's `hold_score`.
    pub at_hold: Evaluation,
    /// The site-trained model at the site's `spam_score`.
    pub at_spam: Evaluation,
    /// The starter model alone on the same test, at `hold_score`.
    pub starter_at_hold: Evaluation,
}

/// What a moderator's action teaches: approving a comment, or dismissing
/// readers' reports against it, says it is wanted; spam and trash say not.
/// (Upholding reports is a spam or trash decision itself.)
fn label(action: &str) -> Option<Label> {
    match action {
        "approve" | "dismiss_reports" => Some(Label::Ham),
        "spam" | "trash" => Some(Label::Spam),
        _ => None,
    }
}

/// What the model reads of a comment: the same for scoring and learning.
struct Parts {
    domains: Vec<String>,
    email_domain: Option<String>,
    homepage_domain: Option<String>,
}

impl Parts {
    fn of(html: &str, email: Option<&str>, homepage: Option<&str>) -> Parts {
        Parts {
            domains: link_domains(html),
            email_domain: email.and_then(email_domain),
            homepage_domain: homepage.and_then(url_domain),
        }
    }

    fn input<'a>(
        &'a self,
        domains: &'a [&'a str],
        body: &'a str,
        author: Option<&'a str>,
        facts: Facts,
    ) -> ScoringInput<'a> {
        ScoringInput {
            body,
            author,
            email_domain: self.email_domain.as_deref(),
            homepage_domain: self.homepage_domain.as_deref(),
            link_domains: domains,
            facts,
        }
    }
}

/// The model's facts from what the database tells of a comment: the same
/// as when it was posted (author known before it, its thread's age then).
fn facts(known: &CommentFacts) -> Facts {
    Facts {
        author_known: known.author_known,
        thread_age_secs: known
            .thread_age_ms
            .map(|ms| u64::try_from(ms / 1000).unwrap_or(0)),
        secs_since_last_post_by_ip: known
            .since_last_by_ip_ms
            .map(|ms| u32::try_from(ms / 1000).unwrap_or(u32::MAX)),
        reports: u32::try_from(known.reports).unwrap_or(u32::MAX),
        new_link_domains: known.new_link_domains,
    }
}

/// The distinct domains of a rendering's links.
fn distinct_domains(html: &str) -> Vec<String> {
    let mut domains = link_domains(html);
    domains.sort();
    domains.dedup();
    domains
}

/// How many of `domains` the site had not seen published before `at`.
fn count_new(domains: &[String], seen: &HashMap<String, i64>, at: i64) -> u32 {
    let new = domains
        .iter()
        .filter(|d| seen.get(d.as_str()).is_none_or(|first| *first >= at))
        .count();
    u32::try_from(new).unwrap_or(u32::MAX)
}

fn learn(model: &mut Model, d: &Decision) -> bool {
    let Some(label) = label(&d.action) else {
        return false;
    };
    let parts = Parts::of(&d.html, d.email.as_deref(), d.homepage.as_deref());
    let domains: Vec<&str> = parts.domains.iter().map(String::as_str).collect();
    model.learn(
        &parts.input(&domains, &d.body, d.author.as_deref(), facts(&d.facts)),
        label,
    );
    true
}

fn probability(model: &Model, d: &Decision) -> f32 {
    let parts = Parts::of(&d.html, d.email.as_deref(), d.homepage.as_deref());
    let domains: Vec<&str> = parts.domains.iter().map(String::as_str).collect();
    model.probability(&parts.input(&domains, &d.body, d.author.as_deref(), facts(&d.facts)))
}

impl Colloquy {
    /// The model that scores `site`'s comments: its own once it has
    /// learned something, else the starter.
    async fn site_model(&self, site: &str) -> Result<Arc<Model>> {
        let known = {
            let models = self.models.models.lock().unwrap_or_else(|e| e.into_inner());
            models
                .get(site)
                .map(|c| (c.version, c.model.clone(), c.checked))
        };
        if let Some((_, model, checked)) = &known {
            if checked.elapsed() < MODEL_RECHECK {
                return Ok(model.clone());
            }
        }
        let version = self.store.scoring_model_version(site).await?;
        let model = match known {
            Some((v, model, _)) if v == version => model,
            _ => match self.store.scoring_model(site).await? {
                Some(stored) => match Model::from_bytes(&stored.bytes) {
                    Ok(m) => Arc::new(m),
                    Err(e) => {
                        tracing::error!(site, error = %e, "the site's stored spam model does not load; scoring with the starter model");
                        starter().clone()
                    }
                },
                None => starter().clone(),
            },
        };
        let mut models = self.models.models.lock().unwrap_or_else(|e| e.into_inner());
        models.insert(
            site.to_owned(),
            CachedModel {
                version,
                model: model.clone(),
                checked: Instant::now(),
            },
        );
        Ok(model)
    }

    /// What the model says of a comment, if the site scores comments.
    /// Linear in the comment (a few tens of microseconds per kilobyte), so
    /// it runs where the rules do.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn spam_score(
        &self,
        site: &str,
        rules: &SiteRules,
        facts: Facts,
        body: &str,
        html: &str,
        author: Option<&str>,
        email: Option<&str>,
        homepage: Option<&str>,
    ) -> Result<Option<SpamScore>> {
        if !rules.scoring {
            return Ok(None);
        }
        let model = self.site_model(site).await?;
        let parts = Parts::of(html, email, homepage);
        let domains: Vec<&str> = parts.domains.iter().map(String::as_str).collect();
        let score = model.score(&parts.input(&domains, body, author, facts));
        Ok(Some(SpamScore {
            probability: score.probability,
            explained: score.reason(),
        }))
    }

    /// A moderator's decision that goes against the score (approving what
    /// the model would hold, or marking as spam what it would publish), as
    /// a reason for the audit log: the feedback the model learns from next.
    pub(super) async fn score_feedback(
        &self,
        site: &str,
        rules: &SiteRules,
        comment: &Comment,
        action: &str,
    ) -> Option<String> {
        let label = label(action)?;
        if !rules.scoring {
            return None;
        }
        let known = self.scoring_facts(site, rules, comment).await.ok()?;
        let score = self
            .spam_score(
                site,
                rules,
                known,
                &comment.body,
                comment.html.as_str(),
                comment.author.as_deref(),
                comment.email.as_deref(),
                comment.homepage.as_deref(),
            )
            .await
            .ok()??;
        let held = rules.hold_score.reached_by(score.probability);
        match (label, held) {
            (Label::Ham, true) => {
                Some(format!("decided against the {}: approved", score.explained))
            }
            (Label::Spam, false) => Some(format!(
                "decided against the {}: marked as {action}",
                score.explained
            )),
            _ => None,
        }
    }

    /// Fills each decision's new-link-domain fact: one query for the batch.
    async fn fill_new_domains(&self, site: &str, batch: &mut [Decision]) -> Result<()> {
        let per: Vec<Vec<String>> = batch.iter().map(|d| distinct_domains(&d.html)).collect();
        let mut all: Vec<String> = per.iter().flatten().cloned().collect();
        all.sort();
        all.dedup();
        let seen = self.store.seen_link_domains(site, &all).await?;
        for (d, domains) in batch.iter_mut().zip(per) {
            d.facts.new_link_domains = Some(count_new(&domains, &seen, d.facts.created));
        }
        Ok(())
    }

    /// How many of a rendering's link domains the site has not seen
    /// published (for a comment being posted now).
    pub(super) async fn new_link_domains(&self, site: &str, html: &str) -> Result<u32> {
        let domains = distinct_domains(html);
        let seen = self.store.seen_link_domains(site, &domains).await?;
        Ok(count_new(&domains, &seen, i64::MAX))
    }

    /// Notes a published comment's link domains as seen on its site (a
    /// failure is logged: the fact is a hint, the comment is stored).
    pub(super) async fn note_published_domains(&self, site: &str, html: &str) {
        let domains = distinct_domains(html);
        if let Err(e) = self
            .store
            .note_link_domains(site, &domains, crate::clock::now_ms())
            .await
        {
            tracing::warn!(site, error = %e, "noting a published comment's link domains failed");
        }
    }

    /// What the model knows of a stored comment beyond its text.
    /// Nothing is read for a site that does not score comments.
    pub(super) async fn scoring_facts(
        &self,
        site: &str,
        rules: &SiteRules,
        comment: &Comment,
    ) -> Result<Facts> {
        if !rules.scoring {
            return Ok(Facts::default());
        }
        let Some(mut known) = self
            .store
            .comment_facts(site, &[comment.id])
            .await?
            .first()
            .copied()
        else {
            return Ok(Facts::default());
        };
        let domains = distinct_domains(comment.html.as_str());
        let seen = self.store.seen_link_domains(site, &domains).await?;
        known.new_link_domains = Some(count_new(&domains, &seen, known.created));
        Ok(facts(&known))
    }

    /// The spam score of each comment (for the moderation queue), when
    /// the site scores comments: about 50 µs a comment.
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn spam_scores(
        &self,
        site: &SiteId,
        comments: &[Comment],
    ) -> Result<Vec<Option<SpamScore>>> {
        let row = self.site(site).await?;
        if !row.rules.scoring {
            return Ok(vec![None; comments.len()]);
        }
        let ids: Vec<i64> = comments.iter().map(|c| c.id).collect();
        let mut known: HashMap<i64, CommentFacts> = self
            .store
            .comment_facts(site.as_str(), &ids)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let per: Vec<Vec<String>> = comments
            .iter()
            .map(|c| distinct_domains(c.html.as_str()))
            .collect();
        let mut all: Vec<String> = per.iter().flatten().cloned().collect();
        all.sort();
        all.dedup();
        let seen = self.store.seen_link_domains(site.as_str(), &all).await?;
        for (c, domains) in comments.iter().zip(&per) {
            if let Some(f) = known.get_mut(&c.id) {
                f.new_link_domains = Some(count_new(domains, &seen, f.created));
            }
        }
        let mut out = Vec::with_capacity(comments.len());
        for c in comments {
            out.push(
                self.spam_score(
                    site.as_str(),
                    &row.rules,
                    known.get(&c.id).map(facts).unwrap_or_default(),
                    &c.body,
                    c.html.as_str(),
                    c.author.as_deref(),
                    c.email.as_deref(),
                    c.homepage.as_deref(),
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// The site's model, as the admin API shows it.
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn scoring_model(&self, site: &SiteId) -> Result<ModelInfo> {
        self.site(site).await?;
        Ok(match self.store.scoring_model(site.as_str()).await? {
            Some(m) => ModelInfo {
                source: "site",
                version: m.version,
                spam_learned: m.spam_learned,
                ham_learned: m.ham_learned,
                trained_through: m.trained_through,
                bytes: m.bytes.len(),
                updated: Some(m.updated),
            },
            None => ModelInfo {
                source: "starter",
                version: 0,
                spam_learned: 0,
                ham_learned: 0,
                trained_through: 0,
                bytes: starter().to_bytes().len(),
                updated: None,
            },
        })
    }

    /// Learns the site's decisions made since its model was last saved,
    /// and saves it (unless another server saved meanwhile: it will have
    /// learned the same).
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn train_scoring(&self, site: &SiteId) -> Result<TrainReport> {
        self.site(site).await?;
        let s = site.as_str();
        let stored = self.store.scoring_model(s).await?;
        let (mut model, read_version, mut through, mut spam, mut ham) = match &stored {
            Some(m) => (
                Model::from_bytes(&m.bytes)
                    .map_err(|e| Error::internal(format!("the stored model of `{s}`: {e}")))?,
                Some(m.version),
                m.trained_through,
                m.spam_learned,
                m.ham_learned,
            ),
            None => (Model::starter(), None, 0, 0, 0),
        };
        let mut learned = 0;
        loop {
            let mut batch = self.store.decisions(s, through, DECISION_BATCH).await?;
            self.fill_new_domains(s, &mut batch).await?;
            for d in &batch {
                if learn(&mut model, d) {
                    learned += 1;
                    match label(&d.action) {
                        Some(Label::Spam) => spam += 1,
                        _ => ham += 1,
                    }
                }
                through = d.audit_id;
            }
            if batch.len() < usize::try_from(DECISION_BATCH).unwrap_or(500) {
                break;
            }
        }
        if learned == 0 {
            return Ok(TrainReport::default());
        }
        let bytes = model.to_bytes();
        let version = self
            .store
            .save_scoring_model(
                s,
                read_version,
                NewModel {
                    bytes: &bytes,
                    trained_through: through,
                    spam_learned: spam,
                    ham_learned: ham,
                },
                now_ms(),
            )
            .await?;
        Ok(TrainReport { learned, version })
    }

    /// Trains every site that scores comments (the trainer's round).
    ///
    /// # Errors
    /// Database failure listing the sites.
    pub async fn train_scoring_everywhere(&self) -> Result<usize> {
        let mut learned = 0;
        for row in self.sites().await? {
            if !row.rules.scoring {
                continue;
            }
            let Ok(site) = SiteId::parse(&row.id) else {
                continue;
            };
            match self.train_scoring(&site).await {
                Ok(r) => learned += r.learned,
                Err(e) => {
                    tracing::warn!(site = %row.id, error = %e, "training the spam model failed; will retry")
                }
            }
        }
        Ok(learned)
    }

    /// Every decision of the site, oldest first.
    async fn all_decisions(&self, site: &str) -> Result<Vec<Decision>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let mut batch = self.store.decisions(site, after, DECISION_BATCH).await?;
            self.fill_new_domains(site, &mut batch).await?;
            let done = batch.len() < usize::try_from(DECISION_BATCH).unwrap_or(500);
            if let Some(last) = batch.last() {
                after = last.audit_id;
            }
            all.extend(batch);
            if done {
                return Ok(all);
            }
        }
    }

    /// Rebuilds the site's model from the starter and every decision, in
    /// order, and saves it as the next version.
    ///
    /// # Errors
    /// Unknown site, database failure, or another trainer saving meanwhile
    /// ([`Error::Conflict`]: run it again).
    pub async fn retrain_scoring(&self, site: &SiteId) -> Result<ModelInfo> {
        self.site(site).await?;
        let s = site.as_str();
        let read_version = self.store.scoring_model_version(s).await?;
        let mut model = Model::starter();
        let (mut spam, mut ham, mut through) = (0, 0, 0);
        for d in self.all_decisions(s).await? {
            if learn(&mut model, &d) {
                match label(&d.action) {
                    Some(Label::Spam) => spam += 1,
                    _ => ham += 1,
                }
            }
            through = d.audit_id;
        }
        let bytes = model.to_bytes();
        let saved = self
            .store
            .save_scoring_model(
                s,
                read_version,
                NewModel {
                    bytes: &bytes,
                    trained_through: through,
                    spam_learned: spam,
                    ham_learned: ham,
                },
                now_ms(),
            )
            .await?;
        if saved.is_none() {
            return Err(Error::conflict(
                crate::error::Code::CommentChanged,
                "another server saved the model meanwhile; run retrain again",
            ));
        }
        self.scoring_model(site).await
    }

    /// Evaluates by time: learns the site's earlier decisions (all but the
    /// latest `test_share`) from the starter, then scores the latest ones.
    ///
    /// # Errors
    /// Unknown site, a share outside (0, 1), too few decisions to test.
    pub async fn evaluate_scoring(&self, site: &SiteId, test_share: f64) -> Result<SiteEvaluation> {
        let row = self.site(site).await?;
        if !(test_share > 0.0 && test_share < 1.0) {
            return Err(Error::invalid(
                "test_share",
                format!("{test_share} is not between 0 and 1, e.g. 0.2"),
            ));
        }
        let decisions: Vec<Decision> = self
            .all_decisions(site.as_str())
            .await?
            .into_iter()
            .filter(|d| label(&d.action).is_some())
            .collect();
        // Rounded up, at least one.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let tested = ((decisions.len() as f64 * test_share).ceil() as usize).max(1);
        if decisions.len() < 2 || tested >= decisions.len() {
            return Err(Error::invalid(
                "site",
                format!(
                    "site `{site}` has {} moderator decisions (approve, spam, trash); \
                     an evaluation needs some to learn from and some to test on",
                    decisions.len()
                ),
            ));
        }
        let (past, future) = decisions.split_at(decisions.len() - tested);
        let mut model = Model::starter();
        for d in past {
            learn(&mut model, d);
        }
        let scored: Vec<(f32, Label)> = future
            .iter()
            .filter_map(|d| Some((probability(&model, d), label(&d.action)?)))
            .collect();
        let starter_scored: Vec<(f32, Label)> = future
            .iter()
            .filter_map(|d| Some((probability(starter(), d), label(&d.action)?)))
            .collect();
        #[allow(clippy::cast_possible_truncation)]
        let (hold, spam) = (row.rules.hold_score.0 as f32, row.rules.spam_score.0 as f32);
        Ok(SiteEvaluation {
            trained_on: past.len(),
            tested_on: future.len(),
            at_hold: Evaluation::from_scores(&scored, hold),
            at_spam: Evaluation::from_scores(&scored, spam),
            starter_at_hold: Evaluation::from_scores(&starter_scored, hold),
        })
    }

    /// The site's model in its binary form (exportable; `colloquy scoring
    /// export`).
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn export_scoring_model(&self, site: &SiteId) -> Result<Vec<u8>> {
        self.site(site).await?;
        Ok(match self.store.scoring_model(site.as_str()).await? {
            Some(m) => m.bytes,
            None => starter().to_bytes(),
        })
    }
}
