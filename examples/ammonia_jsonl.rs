//! `ammonia` alone, reading and writing JSON lines as `colloquy render
//! --jsonl` does, with Filtered HTML's tag whitelist (the render
//! benchmark's baseline): the whole-process comparison.
//!
//! `cargo run --release --example ammonia_jsonl < corpus.jsonl > /dev/null`

use std::collections::HashSet;
use std::io::{self, BufRead, BufWriter, Write};

fn main() {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["em", "strong", "blockquote", "br", "p"]))
        .generic_attributes(HashSet::new());
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut line = Vec::new();
    let mut reader = stdin.lock();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Ok(raw) = std::str::from_utf8(&line) else {
            break;
        };
        let Ok(comment) = serde_json::from_str::<String>(raw.trim_end()) else {
            break;
        };
        let html = builder.clean(&comment).to_string();
        let Ok(encoded) = serde_json::to_string(&html) else {
            break;
        };
        if writeln!(out, "{encoded}").is_err() {
            break;
        }
    }
    let _ = out.flush();
}
