//! Fuzzes the bundled `plain_text` format (everything typed is escaped,
//! addresses become links, lines and paragraphs break).
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
    let Some(policy) = FORMATS.get("plain_text") else {
        panic!("the bundled formats have no `plain_text`");
    };
    if let Err(violation) = check_rendering(policy, input) {
        panic!("plain_text: invariant violated: {violation}\ninput: {input:?}");
    }
});
