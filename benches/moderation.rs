//! What the moderation rules cost per comment with large key lists: 1,000
//! moderation keys and 1,000 disallowed keys (90 % plain words, 10 %
//! expressions), checked against every field of typical and long comments.
//!
//! `cargo bench --bench moderation`

#![allow(missing_docs)]

use std::hint::black_box;

use colloquy::comment::Status;
use colloquy::moderation::ModerationMode;
use colloquy::moderation::{decide, Candidate, Facts, KeyList, Settings, SiteRules};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A deterministic key list of `n` keys that a normal comment does not hit.
fn keys(n: usize, salt: &str) -> KeyList {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ salt.len() as u64;
    let mut word = || {
        let mut w = String::new();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            w.push(char::from(b'a' + (state % 26) as u8));
        }
        w
    };
    let list = (0..n)
        .map(|i| {
            if i % 10 == 0 {
                format!("/\\b{}{salt}[0-9]+\\b/", word())
            } else {
                format!("{}{salt}", word())
            }
        })
        .collect();
    KeyList::new(list).unwrap_or_default()
}

fn comment(sentences: usize) -> String {
    let s = "I read the article twice and I still think the council got the \
             numbers wrong; see https://example.org/report for the figures. ";
    s.repeat(sentences)
}

fn bench(c: &mut Criterion) {
    let rules = SiteRules {
        moderation_keys: keys(1_000, "m"),
        disallowed_keys: keys(1_000, "d"),
        ..SiteRules::default()
    };
    let settings = Settings {
        mode: ModerationMode::Rules,
        hold_links: 2,
        rules: &rules,
    };
    let facts = Facts::default();
    let mut group = c.benchmark_group("moderation: 1,000 + 1,000 keys");
    for (name, sentences) in [("typical 400 B", 3), ("long 20 KB", 150)] {
        let body = comment(sentences);
        let html = format!("<p>{body}</p>");
        let candidate = Candidate {
            body: &body,
            html: &html,
            author: Some("Ann Example"),
            email: Some("ann@example.com"),
            homepage: Some("https://ann.example"),
            ip: Some("203.0.113.9"),
            ip_network: None,
        };
        // The benchmark is only meaningful if no key matches.
        let decided = decide(&candidate, settings, &facts).map(|d| d.status);
        assert_eq!(decided, Ok(Status::Published));
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| decide(black_box(&candidate), settings, &facts))
        });
    }
    group.finish();
    // Re-reading an unchanged list (what every site reload does).
    c.bench_function("reload 1,000 compiled keys", |b| {
        b.iter(|| keys(black_box(1_000), "m"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
