//! What a moderator's action does to a comment's status: a pure function
//! of the status now, the status remembered from before a spam or trash
//! move, and the action. The service reads both, asks this, and writes the
//! result only if the comment has not changed in between.

use crate::comment::Status;
use crate::error::{Error, Result};

/// A moderator's action on one comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "server",
    derive(utoipa::ToSchema),
    schema(rename_all = "snake_case")
)]
pub enum Action {
    /// Publish.
    Approve,
    /// Mark as spam.
    Spam,
    /// Move to the trash.
    Trash,
    /// Undo spam/trash: back to the status it had before.
    Restore,
    /// Back to the queue.
    Unpublish,
    /// Delete for good.
    Delete,
}

impl Action {
    /// Parses an action name.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `action`.
    pub fn parse(s: &str) -> Result<Action> {
        Ok(match s {
            "approve" => Action::Approve,
            "spam" => Action::Spam,
            "trash" => Action::Trash,
            "restore" => Action::Restore,
            "unpublish" => Action::Unpublish,
            "delete" => Action::Delete,
            _ => {
                return Err(Error::invalid(
                    "action",
                    format!("`{s}` is not one of approve, spam, trash, restore, unpublish, delete"),
                ))
            }
        })
    }

    /// The action's name, as parsed and as the audit log records it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Spam => "spam",
            Action::Trash => "trash",
            Action::Restore => "restore",
            Action::Unpublish => "unpublish",
            Action::Delete => "delete",
        }
    }
}

/// What a status change does with the status remembered for a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prior {
    /// Remember the current status (moving to spam or trash).
    Remember,
    /// Leave what is remembered (moving between spam and trash).
    Keep,
    /// Forget it (approve, unpublish, restore).
    Clear,
}

/// The outcome of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The comment is already where the action would put it: nothing to
    /// write, nothing to log (a repeated click or a replayed request).
    Stay,
    /// Move to `to`, doing `prior` with the remembered status.
    Move {
        /// The new status.
        to: Status,
        /// What happens to the remembered status.
        prior: Prior,
    },
    /// Delete the comment.
    Delete,
}

/// What `action` does to a comment that is `current`, with `remembered`
/// the status it had before a spam or trash move.
pub fn transition(current: Status, remembered: Option<Status>, action: Action) -> Transition {
    use Status::{Pending, Published, Spam, Trash};
    let to = |to: Status, prior: Prior| {
        if to == current {
            Transition::Stay
        } else {
            Transition::Move { to, prior }
        }
    };
    match action {
        Action::Delete => Transition::Delete,
        Action::Approve => to(Published, Prior::Clear),
        Action::Unpublish => to(Pending, Prior::Clear),
        Action::Spam | Action::Trash => {
            let target = if action == Action::Spam { Spam } else { Trash };
            // Between spam and trash the status from before both is kept.
            let prior = if matches!(current, Spam | Trash) {
                Prior::Keep
            } else {
                Prior::Remember
            };
            to(target, prior)
        }
        Action::Restore => match current {
            Spam | Trash => {
                let back = match remembered {
                    Some(s @ (Pending | Published)) => s,
                    _ => Pending,
                };
                Transition::Move {
                    to: back,
                    prior: Prior::Clear,
                }
            }
            // Nothing to undo: restoring a live comment must not hold it.
            Pending | Published => Transition::Stay,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Pending, Published, Spam, Trash};

    #[test]
    fn spam_and_trash_remember_where_the_comment_came_from() {
        assert_eq!(
            transition(Published, None, Action::Spam),
            Transition::Move {
                to: Spam,
                prior: Prior::Remember
            }
        );
        assert_eq!(
            transition(Spam, Some(Published), Action::Trash),
            Transition::Move {
                to: Trash,
                prior: Prior::Keep
            }
        );
        assert_eq!(
            transition(Trash, Some(Published), Action::Restore),
            Transition::Move {
                to: Published,
                prior: Prior::Clear
            }
        );
        assert_eq!(
            transition(Spam, None, Action::Restore),
            Transition::Move {
                to: Pending,
                prior: Prior::Clear
            }
        );
    }

    #[test]
    fn repeating_an_action_changes_nothing() {
        for (status, action) in [
            (Published, Action::Approve),
            (Pending, Action::Unpublish),
            (Spam, Action::Spam),
            (Trash, Action::Trash),
            (Published, Action::Restore),
            (Pending, Action::Restore),
        ] {
            assert_eq!(
                transition(status, None, action),
                Transition::Stay,
                "{action:?}"
            );
        }
        assert_eq!(
            transition(Published, None, Action::Delete),
            Transition::Delete
        );
    }

    #[test]
    fn actions_parse_from_their_names() {
        for a in [
            Action::Approve,
            Action::Spam,
            Action::Trash,
            Action::Restore,
            Action::Unpublish,
            Action::Delete,
        ] {
            assert_eq!(Action::parse(a.name()).ok(), Some(a));
        }
        assert!(Action::parse("publish").is_err());
    }
}
