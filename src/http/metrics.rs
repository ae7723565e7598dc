//! Prometheus metrics in the text exposition format, kept in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// Counters since start.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    posted: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            started: Instant::now(),
            requests: Mutex::default(),
            posted: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), status)).or_default() += 1;
        }
    }

    /// Counts one stored comment by its status.
    pub fn comment_posted(&self, status: &str) {
        if let Ok(mut m) = self.posted.lock() {
            *m.entry(status.to_owned()).or_default() += 1;
        }
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP colloquy_http_requests_total HTTP requests answered, by method and status.\n",
        );
        out.push_str("# TYPE colloquy_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, status), n) in m.iter() {
                out.push_str(&format!(
                    "colloquy_http_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out.push_str(
            "# HELP colloquy_comments_posted_total Comments stored, by the status they got.\n",
        );
        out.push_str("# TYPE colloquy_comments_posted_total counter\n");
        if let Ok(m) = self.posted.lock() {
            for (status, n) in m.iter() {
                out.push_str(&format!(
                    "colloquy_comments_posted_total{{status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP colloquy_uptime_seconds Seconds since the server started.\n");
        out.push_str("# TYPE colloquy_uptime_seconds gauge\n");
        out.push_str(&format!(
            "colloquy_uptime_seconds {}\n",
            self.started.elapsed().as_secs()
        ));
        out
    }
}
