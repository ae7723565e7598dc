//! The nested list of comments (`templates/comments.html`), shared by the
//! thread page and the fragment: replies under their parent when the parent
//! is on the page, at the top level otherwise.

use std::collections::{HashMap, HashSet};

use crate::clock::rfc3339;
use crate::comment::Comment;
use crate::SafeHtml;

/// Replies nest this deep at most (HTML nesting has limits too); deeper
/// ones follow their parent in its list.
const MAX_DEPTH: usize = 32;

/// One comment as the list shows it.
pub(super) struct CommentView {
    pub(super) id: i64,
    pub(super) author: String,
    pub(super) homepage: Option<String>,
    /// Written by a reader the site signed in.
    pub(super) verified: bool,
    /// RFC 3339, for `datetime` (and shown as it is in the fragment).
    pub(super) created: String,
    pub(super) body: SafeHtml,
    /// A moderator pinned it.
    pub(super) pinned: bool,
    /// Its votes `(up, down, score)`, when it has any.
    pub(super) votes: Option<(i64, i64, i64)>,
    /// What the thread page adds; the fragment has none of it.
    pub(super) on_page: Option<OnPage>,
}

/// The thread page's extras for one comment.
pub(super) struct OnPage {
    /// `2026-11-26 15:10 UTC`.
    pub(super) time: String,
    pub(super) reply_href: String,
    /// The reader has just posted it: the confirmation goes beside it.
    pub(super) just_posted: bool,
}

/// Marks the comment the reader has just posted, if it is on the page.
pub(super) fn mark_posted(steps: &mut [Step], id: i64) {
    for step in steps {
        if let Step::Comment(c) = step {
            if c.id == id {
                if let Some(p) = c.on_page.as_mut() {
                    p.just_posted = true;
                }
            }
        }
    }
}

/// One step of writing the list, in document order: the template writes
/// each with no look at the others, so the nesting is decided here, once.
pub(super) enum Step {
    /// A comment's `<li>` and article.
    Comment(CommentView),
    /// The comment just written has replies: `<ol class="colloquy-replies">`.
    Replies,
    /// `</ol>` of the replies.
    EndReplies,
    /// `</li>` of a comment.
    End,
}

/// A list of comments being written.
struct Open<'a> {
    list: std::slice::Iter<'a, usize>,
    /// Inside its parent's `<li>` (not flattened into the parent's list).
    nested: bool,
}

/// Orders `comments` (in the order listed) for the nested list. Linear:
/// replies are grouped by parent once. `reply_href` makes the address of a
/// comment's reply link on the thread page (`None` for the fragment).
pub(super) fn nest(
    comments: Vec<Comment>,
    reply_href: Option<&dyn Fn(i64) -> String>,
) -> Vec<Step> {
    let ids: HashSet<i64> = comments.iter().map(|c| c.id).collect();
    let mut roots = Vec::new();
    let mut replies: HashMap<i64, Vec<usize>> = HashMap::new();
    for (at, c) in comments.iter().enumerate() {
        match c.parent.filter(|p| ids.contains(p)) {
            Some(parent) => replies.entry(parent).or_default().push(at),
            None => roots.push(at),
        }
    }
    let mut views: Vec<Option<CommentView>> = comments
        .into_iter()
        .map(|c| Some(view(c, reply_href)))
        .collect();

    let mut steps = Vec::with_capacity(views.len() * 2);
    // The lists being written, innermost last: the top level, then replies.
    // Past the depth limit a comment's replies follow it in its own list
    // (`nested: false`): flattened, not dropped.
    let mut open = vec![Open {
        list: roots.iter(),
        nested: false,
    }];
    let mut depth = 0;
    while let Some(top) = open.last_mut() {
        let Some(&at) = top.list.next() else {
            if open.pop().is_some_and(|done| done.nested) {
                depth -= 1;
                steps.push(Step::EndReplies);
                steps.push(Step::End);
            }
            continue;
        };
        // Each comment is in one list only (it has one parent).
        let Some(view) = views[at].take() else {
            continue;
        };
        let id = view.id;
        steps.push(Step::Comment(view));
        let Some(under) = replies.get(&id) else {
            steps.push(Step::End);
            continue;
        };
        let nested = depth < MAX_DEPTH;
        if nested {
            depth += 1;
            steps.push(Step::Replies);
        } else {
            steps.push(Step::End);
        }
        open.push(Open {
            list: under.iter(),
            nested,
        });
    }
    steps
}

fn view(c: Comment, reply_href: Option<&dyn Fn(i64) -> String>) -> CommentView {
    let created = rfc3339(c.created);
    let st = c.standing;
    CommentView {
        pinned: st.pinned,
        votes: (st.upvotes + st.downvotes > 0).then(|| (st.upvotes, st.downvotes, st.score())),
        verified: c.verified(),
        id: c.id,
        author: c
            .author
            .map_or_else(|| "Anonymous".to_owned(), |a| a.into_string()),
        homepage: c.homepage.map(|h| h.into_string()),
        on_page: reply_href.map(|href| OnPage {
            time: readable_time(&created),
            reply_href: href(c.id),
            just_posted: false,
        }),
        created,
        body: c.html,
    }
}

/// `2026-11-26T15:10:00.123Z` → `2026-11-26 15:10 UTC`.
fn readable_time(rfc: &str) -> String {
    match (rfc.get(..10), rfc.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
        _ => rfc.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::Status;

    fn comment(id: i64, parent: Option<i64>, author: &str) -> Comment {
        Comment {
            id,
            site: crate::comment::SiteId::parse("s").expect("valid"),
            thread: crate::comment::ThreadKey::parse("t").expect("valid"),
            parent,
            status: Status::Published,
            format: "plain_text".into(),
            body: String::new(),
            html: SafeHtml::from_store(format!("<p>{id}</p>")),
            policy_version: String::new(),
            author: crate::comment::AuthorName::parse(author, 100).expect("valid"),
            email: None,
            homepage: None,
            ip_hash: None,
            created: 0,
            modified: None,
            reasons: Vec::new(),
            notify_replies: false,
            standing: Default::default(),
            author_id: None,
        }
    }

    /// The steps as a compact string: `1(2(3)4)5` for 1 with replies 2 (with
    /// reply 3) and 4, then 5.
    fn shape(steps: &[Step]) -> String {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Comment(c) => Some(c.id.to_string()),
                Step::Replies => Some("(".into()),
                Step::EndReplies => Some(")".into()),
                Step::End => None,
            })
            .collect()
    }

    #[test]
    fn replies_nest_under_their_parent_and_orphans_stay_at_the_top() {
        let steps = nest(
            vec![
                comment(1, None, "a"),
                comment(2, Some(1), "b"),
                comment(5, None, "e"),
                comment(3, Some(2), "c"),
                comment(4, Some(1), "d"),
                comment(6, Some(99), "orphan"),
            ],
            None,
        );
        assert_eq!(shape(&steps), "1(2(3)4)56");
        // Every comment is closed once, after its replies.
        let ends = steps.iter().filter(|s| matches!(s, Step::End)).count();
        assert_eq!(ends, 6);
        assert!(matches!(steps.last(), Some(Step::End)));
    }

    #[test]
    fn a_cycle_shows_nothing_and_ends() {
        // Cannot be stored, but the list must not loop on it.
        let steps = nest(
            vec![comment(1, Some(2), "a"), comment(2, Some(1), "b")],
            None,
        );
        assert!(steps.is_empty());
    }

    #[test]
    fn replies_past_the_depth_limit_are_flattened_not_dropped() {
        let chain: Vec<Comment> = (1..=40)
            .map(|id| comment(id, (id > 1).then(|| id - 1), "x"))
            .chain([comment(41, None, "after")])
            .collect();
        let steps = nest(chain, None);
        let opened = steps.iter().filter(|s| matches!(s, Step::Replies)).count();
        let closed = steps
            .iter()
            .filter(|s| matches!(s, Step::EndReplies))
            .count();
        assert_eq!((opened, closed), (MAX_DEPTH, MAX_DEPTH));
        // 2 to 33 nested 32 deep; 34 to 40 follow 33 in its list; 41 on top.
        let nested: String = (1..=32).map(|id| format!("{id}(")).collect();
        let flat: String = (33..=40).map(|id| id.to_string()).collect();
        let expected = format!("{nested}{flat}{}41", ")".repeat(MAX_DEPTH));
        assert_eq!(shape(&steps), expected);
        let ends = steps.iter().filter(|s| matches!(s, Step::End)).count();
        assert_eq!(ends, 41, "every comment is closed once");
    }

    #[test]
    fn the_page_adds_reply_links_and_readable_times() {
        let href = |id: i64| format!("?reply={id}");
        let steps = nest(vec![comment(7, None, "a")], Some(&href));
        let Some(Step::Comment(c)) = steps.first() else {
            panic!("no comment");
        };
        let page = c
            .on_page
            .as_ref()
            .map(|p| (p.time.as_str(), p.reply_href.as_str()));
        assert_eq!(page, Some(("1970-01-01 00:00 UTC", "?reply=7")));
        assert_eq!(c.created, "1970-01-01T00:00:00.000Z");
    }
}
