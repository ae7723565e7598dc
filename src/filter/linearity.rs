//! Rendering is linear in the input, whatever the input: every flood of
//! `benches/corpus/floods.rs` is rendered at 8 KB and at 64 KB in every
//! bundled format and through every filter alone, and the bytes the scans
//! examined ([`crate::markup::work`]) may grow at most about eightfold.
//! Counting, not timing: the result is the same on any machine, in debug
//! builds and under load.
//!
//! What is counted: the shared lexer, the lenient reader and its memory,
//! the url filter's matchers, autop's delimiter scan and rule passes, the
//! safety net's scan, the html5 guard's passes. The crates behind the
//! filters (pulldown-cmark, html5ever, linkify, regex) are not counted;
//! their share is measured by the render benchmark's flood table.

#[path = "../../benches/corpus/floods.rs"]
#[allow(dead_code)]
mod floods;

use crate::markup::work;
use crate::policy::Policy;
use crate::PolicySet;

const SMALL: usize = 8 * 1024;
const LARGE: usize = 64 * 1024;

/// Each filter alone, with the bundled formats' settings (the safety net
/// still runs last).
const ALONE: &[(&str, &str)] = &[
    (
        "html (lenient)",
        "kind = \"html\"\nallowed_tags = [\"em\", \"strong\", \"blockquote\", \"br\", \"p\"]\nparser = \"lenient\"",
    ),
    (
        "html (html5)",
        "kind = \"html\"\nallowed_tags = [\"p\", \"em\", \"a\", \"blockquote\", \"ul\", \"li\"]\nparser = \"html5\"",
    ),
    ("url (drupal)", "kind = \"url\""),
    ("url (linkify)", "kind = \"url\"\ngrammar = \"linkify\""),
    ("autop", "kind = \"autop\""),
    ("html_corrector", "kind = \"html_corrector\""),
    ("markdown", "kind = \"markdown\""),
    ("html_escape", "kind = \"html_escape\""),
];

fn policies() -> Vec<(String, Policy)> {
    let mut all: Vec<(String, Policy)> = PolicySet::bundled()
        .iter()
        .map(|p| (p.id().to_owned(), p.clone()))
        .collect();
    for (name, filter) in ALONE {
        let toml = format!("id = \"alone\"\nname = \"alone\"\n[[filter]]\n{filter}\n");
        match Policy::from_toml("alone.toml", &toml) {
            Ok(p) => all.push(((*name).to_owned(), p)),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    all
}

fn work_for(policy: &Policy, input: &str) -> u64 {
    work::take();
    let _ = policy.render(input);
    work::take()
}

#[test]
fn the_work_of_every_flood_grows_in_proportion_to_its_size() {
    let ratio = (LARGE / SMALL) as u64;
    let mut too_much = Vec::new();
    for (name, policy) in policies() {
        for flood in floods::FLOODS {
            let small = work_for(&policy, &flood.input(SMALL));
            let large = work_for(&policy, &flood.input(LARGE));
            // A quarter of slack, and some room for the constant part.
            let bound = ratio * small + ratio * small / 4 + LARGE as u64;
            if large > bound {
                too_much.push(format!(
                    "{name}, {:?}: {small} bytes examined at 8 KB, {large} at 64 KB ({:.1}x)",
                    flood.name,
                    large as f64 / small.max(1) as f64
                ));
            }
        }
    }
    assert!(
        too_much.is_empty(),
        "superlinear work:\n{}",
        too_much.join("\n")
    );
}

#[test]
fn the_counter_sees_the_lexers_work() {
    // Guards the test above against counting nothing.
    let set = PolicySet::bundled();
    let Some(policy) = set.get("filtered_html") else {
        panic!("bundled");
    };
    let input = "x<y ".repeat(1000);
    assert!(work_for(policy, &input) >= input.len() as u64);
}
