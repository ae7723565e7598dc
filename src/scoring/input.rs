//! What the scorer reads of a comment: its text and the facts the service
//! knows about it. Plain values, filled by the caller, so the model never
//! does I/O and every feature can be tested on literals.

/// A comment to score or learn from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoringInput<'a> {
    /// The raw text as submitted (before rendering).
    pub body: &'a str,
    /// The author's name, if given.
    pub author: Option<&'a str>,
    /// The domain of the author's e-mail address (`example.com`), if given.
    pub email_domain: Option<&'a str>,
    /// The domain of the author's homepage, if given.
    pub homepage_domain: Option<&'a str>,
    /// The host of every link in the comment, one entry per link (so a
    /// domain linked twice appears twice).
    pub link_domains: &'a [&'a str],
    /// What the service knows about the author and the thread.
    pub facts: Facts,
}

/// Facts about a comment that its text does not say. `None` means "not
/// known", which adds no feature at all: the bundled starter model was
/// trained on e-mail, where none of these exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The author has comments approved on this site before.
    pub author_known: Option<bool>,
    /// How many of the comment's link domains this site has never seen in
    /// an approved comment.
    pub new_link_domains: Option<u32>,
    /// Seconds since the previous comment from the same client address.
    pub secs_since_last_post_by_ip: Option<u32>,
    /// Seconds since the thread got its first comment.
    pub thread_age_secs: Option<u64>,
    /// Reports readers filed against this comment (0 for a new one).
    pub reports: u32,
}
