//! The filters and the pipeline that runs them in a policy's order.
//!
//! Each filter reads the previous one's output as a `&str` and appends to a
//! `String`; two buffers are swapped between steps. The safety net
//! ([`crate::safety::finalize`]) always runs last.

pub(crate) mod autop;
mod fast;
pub(crate) mod html;
pub(crate) mod html5;
pub(crate) mod html_corrector;
pub(crate) mod html_escape;
#[cfg(test)]
mod linearity;
pub(crate) mod markdown;
pub(crate) mod url;

pub use html::{Disallowed, Parser};
pub use url::Grammar;

use crate::safety::{self, Allowlist, SafeHtml};
use crate::text;

/// One compiled filter with its settings.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    HtmlEscape(html_escape::HtmlEscape),
    Html(html::HtmlFilter),
    Url(url::UrlFilter),
    Autop(autop::Autop),
    HtmlCorrector(html_corrector::HtmlCorrector),
    Markdown(markdown::MarkdownFilter),
}

impl Filter {
    fn apply(&self, input: &str, out: &mut String) {
        match self {
            Filter::HtmlEscape(f) => f.apply(input, out),
            Filter::Html(f) => f.apply(input, out),
            Filter::Url(f) => f.apply(input, out),
            Filter::Autop(f) => f.apply(input, out),
            Filter::HtmlCorrector(f) => f.apply(input, out),
            Filter::Markdown(f) => f.apply(input, out),
        }
    }

    /// The filter's name as written in policy files.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Filter::HtmlEscape(_) => "html_escape",
            Filter::Html(_) => "html",
            Filter::Url(_) => "url",
            Filter::Autop(_) => "autop",
            Filter::HtmlCorrector(_) => "html_corrector",
            Filter::Markdown(_) => "markdown",
        }
    }
}

/// The filters of one policy, in order, and the allow-list of the safety net.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    filters: Vec<Filter>,
    allow: Allowlist,
    /// The one-pass path for comments without markup, when the filters
    /// have a shape that has one.
    fast: Option<fast::FastPath>,
}

impl Pipeline {
    /// Builds a pipeline; the safety net allows what the filters produce: the
    /// `html` filter's tags, `a` for the `url` filter, `p`/`br` for `autop`,
    /// Markdown's tags when no `html` filter follows it.
    pub(crate) fn new(filters: Vec<Filter>) -> Pipeline {
        let mut allow = Allowlist::default();
        for (i, filter) in filters.iter().enumerate() {
            match filter {
                Filter::Html(f) => {
                    for tag in f.allow.tag_names() {
                        let attrs: Vec<&str> = f
                            .allow
                            .attributes_of(tag)
                            .iter()
                            .map(String::as_str)
                            .collect();
                        allow.add_tag(tag, &attrs);
                    }
                    allow.add_schemes(f.allow.schemes());
                    if f.link_rel.is_some() {
                        allow.add_tag("a", &["rel"]);
                    }
                }
                Filter::Url(f) => {
                    allow.add_tag("a", &["href", "rel"]);
                    allow.add_schemes(&f.schemes);
                }
                Filter::Autop(_) => {
                    allow.add_tag("p", &[]);
                    allow.add_tag("br", &[]);
                }
                Filter::Markdown(f) => {
                    let sanitized_later = filters[i + 1..]
                        .iter()
                        .any(|f| matches!(f, Filter::Html(_)));
                    if !sanitized_later {
                        for tag in f.produced_tags() {
                            allow.add_tag(tag, if tag == "a" { &["href"] } else { &[] });
                        }
                        let all: Vec<String> = safety::FLOOR_SCHEMES
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect();
                        allow.add_schemes(&all);
                    }
                }
                Filter::HtmlEscape(_) | Filter::HtmlCorrector(_) => {}
            }
        }
        let fast = fast::FastPath::detect(&filters);
        Pipeline {
            filters,
            allow,
            fast,
        }
    }

    /// Renders raw comment text to safe HTML.
    pub(crate) fn render(&self, input: &str) -> SafeHtml {
        // One scan answers both questions for most comments: nothing to
        // normalize, nothing the fast path must leave to the safety net.
        if let Some(fast) = &self.fast {
            if !text::has_forbidden_in_output(input) {
                if let Some(html) = fast.render_clean(input, &self.allow) {
                    return html;
                }
                return self.render_filters(input);
            }
        }
        let normalized = text::normalize_input(input);
        if let Some(html) = self
            .fast
            .as_ref()
            .and_then(|f| f.render(&normalized, &self.allow))
        {
            return html;
        }
        self.render_filters(&normalized)
    }

    /// The full pipeline, for normalized input. The two buffers the
    /// filters write into are kept for the thread's next comment.
    fn render_filters(&self, normalized: &str) -> SafeHtml {
        thread_local! {
            static BUFFERS: std::cell::Cell<(String, String)> =
                const { std::cell::Cell::new((String::new(), String::new())) };
        }
        /// Buffers grown beyond this by a large comment are not kept.
        const KEPT: usize = 1 << 20;
        let (mut current, mut next) = BUFFERS.with(std::cell::Cell::take);
        let mut first = true;
        for filter in &self.filters {
            next.clear();
            if first {
                filter.apply(normalized, &mut next);
                first = false;
            } else {
                filter.apply(&current, &mut next);
            }
            std::mem::swap(&mut current, &mut next);
        }
        let html = if first {
            safety::finalize(normalized, &self.allow)
        } else {
            safety::finalize(&current, &self.allow)
        };
        current.clear();
        next.clear();
        if current.capacity() > KEPT {
            current = String::new();
        }
        if next.capacity() > KEPT {
            next = String::new();
        }
        BUFFERS.with(|b| b.set((current, next)));
        html
    }

    /// The full pipeline, never the fast path (tests).
    #[cfg(test)]
    pub(crate) fn render_full(&self, input: &str) -> SafeHtml {
        self.render_filters(&text::normalize_input(input))
    }

    /// The fast path alone: `None` when it does not take this input (tests).
    #[cfg(test)]
    pub(crate) fn render_fast(&self, input: &str) -> Option<SafeHtml> {
        let normalized = text::normalize_input(input);
        self.fast.as_ref()?.render(&normalized, &self.allow)
    }

    /// Runs only the filters, without the safety net (tests and diagnostics).
    pub(crate) fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The safety net's allow-list for this pipeline.
    pub(crate) fn allowlist(&self) -> &Allowlist {
        &self.allow
    }
}
