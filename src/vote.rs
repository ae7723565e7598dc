//! Votes and pins: what a reader's vote can be, a comment's standing
//! (counts and pin), and the Wilson score that orders `best` listings.

use crate::error::{Code, Error};

/// One reader's vote on a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    /// +1.
    Up,
    /// −1.
    Down,
    /// Takes the reader's vote back.
    None,
}

impl Vote {
    /// Parses the `value` of a vote request: 1, −1 or 0.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `value`.
    pub fn parse(value: i64) -> Result<Vote, Error> {
        match value {
            1 => Ok(Vote::Up),
            -1 => Ok(Vote::Down),
            0 => Ok(Vote::None),
            other => Err(Error::invalid(
                "value",
                format!("{other} is not a vote; send 1, -1 or 0 (take the vote back)"),
            )),
        }
    }

    /// As stored (0 is never stored: the row goes).
    pub fn value(self) -> i64 {
        match self {
            Vote::Up => 1,
            Vote::Down => -1,
            Vote::None => 0,
        }
    }
}

/// What a site allows: its `votes` and `downvotes` settings.
///
/// # Errors
/// [`Code::VotesOff`] (403) when the site takes no votes,
/// [`Code::DownvotesOff`] (403) for a downvote where only upvotes count.
pub fn allowed(vote: Vote, votes: bool, downvotes: bool) -> Result<(), Error> {
    if !votes {
        return Err(Error::forbidden(
            Code::VotesOff,
            "this site does not take votes",
        ));
    }
    if vote == Vote::Down && !downvotes {
        return Err(Error::forbidden(
            Code::DownvotesOff,
            "this site counts upvotes only; send 1 or 0",
        ));
    }
    Ok(())
}

/// A comment's votes and pin, as listings show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Readers voting +1.
    pub upvotes: i64,
    /// Readers voting −1.
    pub downvotes: i64,
    /// A moderator pinned (featured) it: it comes first in every order.
    pub pinned: bool,
}

impl Standing {
    /// Upvotes minus downvotes.
    pub fn score(&self) -> i64 {
        self.upvotes - self.downvotes
    }
}

/// The scale of the stored Wilson score: an integer, so listing cursors
/// compare it exactly on both backends.
pub const WILSON_SCALE: f64 = 1e9;

/// The lower bound of the 95 % Wilson score interval of the share of
/// upvotes, times [`WILSON_SCALE`], rounded down; 0 without votes.
pub fn wilson(upvotes: i64, downvotes: i64) -> i64 {
    let (up, down) = (upvotes.max(0), downvotes.max(0));
    let n = up.saturating_add(down);
    if n == 0 {
        return 0;
    }
    #[allow(clippy::cast_precision_loss)]
    let (n, p) = (n as f64, up as f64 / n as f64);
    let z = 1.959_963_984_540_054_f64;
    let z2 = z * z;
    let bound =
        (p + z2 / (2.0 * n) - z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt()) / (1.0 + z2 / n);
    #[allow(clippy::cast_possible_truncation)]
    let scaled = (bound.clamp(0.0, 1.0) * WILSON_SCALE).floor() as i64;
    scaled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_parse_and_settings_refuse() {
        assert_eq!(Vote::parse(1).ok(), Some(Vote::Up));
        assert_eq!(Vote::parse(-1).ok(), Some(Vote::Down));
        assert_eq!(Vote::parse(0).ok(), Some(Vote::None));
        assert!(Vote::parse(2).is_err());
        assert!(allowed(Vote::Up, true, false).is_ok());
        assert_eq!(
            allowed(Vote::Down, true, false).map_err(|e| e.code()),
            Err(Code::DownvotesOff)
        );
        assert_eq!(
            allowed(Vote::None, false, true).map_err(|e| e.code()),
            Err(Code::VotesOff)
        );
    }

    #[test]
    fn the_wilson_bound_prefers_confidence_to_a_ratio() {
        assert_eq!(wilson(0, 0), 0);
        // Known values: 1 up of 1 → 0.2065; 10 of 10 → 0.7225; 60 of 100 → 0.5020.
        let near = |w: i64, x: f64| ((w as f64) / WILSON_SCALE - x).abs() < 1e-3;
        assert!(near(wilson(1, 0), 0.2065), "{}", wilson(1, 0));
        assert!(near(wilson(10, 0), 0.7225), "{}", wilson(10, 0));
        assert!(near(wilson(60, 40), 0.5020), "{}", wilson(60, 40));
        assert!(wilson(10, 0) > wilson(1, 0));
        assert!(wilson(100, 10) > wilson(5, 0));
        assert_eq!(wilson(0, 5), 0);
        assert!(wilson(i64::MAX, i64::MAX) <= WILSON_SCALE as i64);
    }
}
