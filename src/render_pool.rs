//! Rendering off the async workers.
//!
//! Rendering is CPU work: done on a request's async worker, a few large
//! comments at once held every worker and nothing else (not even
//! `/healthz`) was answered until they were done. Requests render here
//! instead, on blocking threads, a bounded number at a time (one per core
//! by default). A render that finds every thread busy waits its turn for a
//! short while (`limits.render_queue_ms`), in arrival order; past that it
//! is refused with [`Error::Busy`] (503 with `Retry-After`), so a flood of
//! renders is answered at once instead of piling up. The work of one render
//! is bounded by the longest comment accepted (`limits.max_comment_chars`).
//!
//! The CLI (`colloquy import`, `rerender`) renders inline: it is no
//! request path.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::policy::{PolicySet, Rendered};

/// A bounded set of render threads with a short, time-limited queue.
#[derive(Debug)]
pub struct RenderPool {
    slots: Arc<Semaphore>,
    threads: usize,
    wait: Duration,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    running: AtomicUsize,
    waiting: AtomicUsize,
    finished: AtomicU64,
    refused: AtomicU64,
}

/// What the pool is doing, for `/metrics` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderStats {
    /// Render threads.
    pub threads: usize,
    /// Renders running now.
    pub running: usize,
    /// Renders waiting for a thread now.
    pub waiting: usize,
    /// Renders finished since start.
    pub finished: u64,
    /// Renders refused since start (no thread free in time).
    pub refused: u64,
}

/// Decrements a counter when dropped: a waiting request may be abandoned
/// (its client gone, its time up) at any await.
struct Count<'a>(&'a AtomicUsize);

impl<'a> Count<'a> {
    fn up(counter: &'a AtomicUsize) -> Count<'a> {
        counter.fetch_add(1, Ordering::Relaxed);
        Count(counter)
    }
}

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RenderPool {
    /// A pool of `threads` render threads (0: one per core) whose queue
    /// holds a render at most `wait`.
    pub fn new(threads: usize, wait: Duration) -> RenderPool {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        } else {
            threads
        };
        RenderPool {
            slots: Arc::new(Semaphore::new(threads)),
            threads,
            wait,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Renders `body` with the policy `format` of `policies` on a render
    /// thread.
    ///
    /// # Errors
    /// [`Error::Busy`] when no thread was free within the wait;
    /// [`Error::Internal`] if the format vanished or the render panicked.
    pub async fn render(
        &self,
        policies: &Arc<PolicySet>,
        format: &str,
        body: String,
    ) -> Result<Rendered> {
        let slot = {
            let _waiting = Count::up(&self.counters.waiting);
            tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned()).await
        };
        let slot = match slot {
            Ok(Ok(slot)) => slot,
            // The semaphore is never closed; treat it like a timeout.
            Ok(Err(_)) | Err(_) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Error::Busy {
                    message: format!(
                        "the server is rendering as many comments as it can ({} at a time) and none finished within {} ms; try again in a moment",
                        self.threads,
                        self.wait.as_millis()
                    ),
                    retry_after_secs: 1,
                });
            }
        };
        let policies = Arc::clone(policies);
        let counters = Arc::clone(&self.counters);
        let id = format.to_owned();
        // The slot travels with the work: a request abandoned mid-render
        // keeps its thread counted until the render really ends.
        let job = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let rendered = {
                let _running = Count::up(&counters.running);
                policies.get(&id).map(|p| p.render(&body))
            };
            counters.finished.fetch_add(1, Ordering::Relaxed);
            rendered
        });
        match job.await {
            Ok(Some(rendered)) => Ok(rendered),
            Ok(None) => Err(Error::internal(format!(
                "format `{format}` has no policy loaded"
            ))),
            Err(e) => Err(Error::internal(format!("rendering failed: {e}"))),
        }
    }

    /// Counts of what the pool is doing.
    pub fn stats(&self) -> RenderStats {
        let c = &self.counters;
        RenderStats {
            threads: self.threads,
            running: c.running.load(Ordering::Relaxed),
            waiting: c.waiting.load(Ordering::Relaxed),
            finished: c.finished.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
        }
    }
}
