//! Re-rendering stored comments after their policy changed.

use super::Colloquy;
use crate::comment::SiteId;
use crate::error::Result;

/// Result of re-rendering a site's comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RerenderReport {
    /// Comments looked at.
    pub checked: u64,
    /// Comments whose HTML was rendered again.
    pub rerendered: u64,
    /// Comments whose format no longer exists (left as they were).
    pub skipped: u64,
}

impl Colloquy {
    /// Re-renders every comment of a site whose stored HTML came from another
    /// version of its policy; `progress(done)` is called as it goes.
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn rerender(&self, site: &SiteId, progress: impl Fn(u64)) -> Result<RerenderReport> {
        self.site(site).await?;
        let mut report = RerenderReport::default();
        let mut after = 0i64;
        loop {
            let batch = self
                .store
                .stale_renderings(site.as_str(), after, 500)
                .await?;
            let Some((last, _)) = batch.last() else { break };
            after = last.id;
            for (c, revision) in &batch {
                report.checked += 1;
                match self.policies.get(&c.format) {
                    None => report.skipped += 1,
                    Some(p) if p.version() != c.policy_version => {
                        let r = p.render(&c.body);
                        // An edit meanwhile rendered the new text itself.
                        if self
                            .store
                            .set_rendering(
                                site.as_str(),
                                c.id,
                                *revision,
                                r.html.as_str(),
                                &r.policy_version,
                            )
                            .await?
                        {
                            report.rerendered += 1;
                        }
                    }
                    Some(_) => {}
                }
                progress(report.checked);
            }
        }
        Ok(report)
    }
}
