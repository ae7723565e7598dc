//! Fuzzes the bundled `filtered_html` format (Drupal 7's default comment
//! format: a short tag list, links, line breaks, balanced markup).
//!
//! Every UTF-8 input must render and pass
//! [`colloquy::invariants::check_rendering`]: only allowed elements,
//! attributes and URL schemes when re-read by html5ever, a stable safety net,
//! a deterministic and size-bounded output. Non-UTF-8 inputs are skipped.
#![no_main]

use std::sync::LazyLock;

use colloquy::invariants::check_rendering;
use colloquy::PolicySet;
use libfuzzer_sys::fuzz_target;

/// Built once per process, not once per input.
static FORMATS: LazyLock<PolicySet> = LazyLock::new(PolicySet::bundled);

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Some(policy) = FORMATS.get("filtered_html") else {
        panic!("the bundled formats have no `filtered_html`");
    };
    if let Err(violation) = check_rendering(policy, input) {
        panic!("filtered_html: invariant violated: {violation}\ninput: {input:?}");
    }
});
