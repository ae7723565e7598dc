//! What spam scoring costs per comment with the bundled starter model:
//! a typical 1 KB comment (English prose, two links, the facts the service
//! fills), a non-ASCII one (it takes the NFKC path), a 16 KiB one (the most
//! text scoring reads) and a hostile 1 MB one; and learning one decision.
//!
//! `cargo bench --bench scoring`

#![allow(missing_docs)]

use std::hint::black_box;

use colloquy::scoring::{Facts, Label, Model, ScoringInput};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// About 1 KB of ordinary comment prose.
fn comment_1kb() -> String {
    let text = "I read the article twice and I still think the council got the \
        numbers wrong. The budget for the library was cut by a third last year, \
        and the report they published in March says the opposite of what the \
        mayor claimed at the meeting. See https://example.org/report for the \
        figures, and the minutes at https://council.example.gov/minutes if you \
        want to check. My neighbour, who has run the reading group there since \
        2009, says the opening hours went from six days to four, and nobody asked \
        the people who actually use the place. I don't mind paying a bit more \
        tax if it keeps the doors open; what bothers me is being told that \
        nothing changed. Has anyone else noticed the same at the branch on the \
        high street? Thanks for writing this up, it's the first piece I've seen \
        that bothers to quote the actual numbers instead of the press release. \
        Looking forward to the follow-up after the next council session, and \
        to the figures for the other branches. Keep at it, and please do ask \
        the librarians next time.";
    assert!((1_000..1_100).contains(&text.len()), "{}", text.len());
    text.to_owned()
}

fn input<'a>(body: &'a str, links: &'a [&'a str]) -> ScoringInput<'a> {
    ScoringInput {
        body,
        author: Some("Maria Jensen"),
        email_domain: Some("example.net"),
        homepage_domain: None,
        link_domains: links,
        facts: Facts {
            author_known: Some(false),
            new_link_domains: Some(1),
            secs_since_last_post_by_ip: Some(3_600),
            thread_age_secs: Some(7_200),
            reports: 0,
        },
    }
}

fn bench(c: &mut Criterion) {
    let model = Model::starter();
    let links = ["example.org", "council.example.gov"];
    let typical = comment_1kb();
    let accented = typical
        .replace("the ", "thé ")
        .replace("council", "ｃｏｕｎｃｉｌ");
    let long = typical.repeat(16);
    let hostile = "\u{301}a".repeat(1 << 19);

    let mut group = c.benchmark_group("scoring");
    for (name, body) in [
        ("score 1 KB", &typical),
        ("score 1 KB non-ASCII", &accented),
        ("score 16 KiB", &long),
        ("score 1 MB hostile", &hostile),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        let i = input(body, &links);
        group.bench_function(name, |b| b.iter(|| black_box(model.score(black_box(&i)))));
    }
    group.throughput(Throughput::Bytes(typical.len() as u64));
    let i = input(&typical, &links);
    group.bench_function("probability only 1 KB", |b| {
        b.iter(|| black_box(model.probability(black_box(&i))))
    });
    let mut learner = model.clone();
    group.bench_function("learn 1 KB", |b| {
        b.iter(|| black_box(learner.learn(black_box(&i), Label::Ham)))
    });
    group.finish();

    let bytes = model.to_bytes();
    c.bench_function("scoring: load the starter model", |b| {
        b.iter(|| black_box(Model::from_bytes(black_box(&bytes))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
