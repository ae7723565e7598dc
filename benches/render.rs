//! Rendering throughput of the bundled text formats, against `ammonia` alone.
//!
//! Three kinds of groups, all reporting throughput in bytes of input:
//!
//! * `corpus_all`, `corpus_regular`, `corpus_adversarial`: every bundled
//!   format, and a plain `ammonia::Builder` holding `filtered_html`'s tag
//!   whitelist, render a seeded, generated corpus of comments (see
//!   [`corpus`]) — the whole of it, the regular 95 % alone, and the
//!   adversarial 5 % alone (whose bytes dominate the whole).
//!
//! Then the linear-growth table (not criterion: one line per input, timed
//! with a plain loop): every bundled format renders ordinary prose, a run of
//! URLs, and a flood of each construct the lexers, the `url` filter,
//! `autop`, the corrector, Markdown and html5ever look for
//! (`corpus/floods.rs`), at 1 KB, 100 KB and 1 MB; it prints MB/s at each
//! size and the slowdown per byte from 1 KB to 1 MB, as a Markdown table.
//! Linear growth shows as a flat throughput across sizes.
//!
//! Run with `cargo bench --bench render` (`-- floods` for the table alone,
//! `-- corpus` for the corpus groups alone, `-- summary` for the table
//! that ends them: the regular and the adversarial part side by side, each
//! format's MiB/s and its ratio to ammonia alone on the same part, timed in
//! the same run); set `COLLOQUY_BENCH_SEED` to use another corpus seed.
//! `COLLOQUY_BENCH_DUMP=FILE` writes the corpus as JSON lines (the input of
//! `colloquy render --jsonl`) and exits, for profiling with other tools and
//! for whole-process comparisons (`examples/ammonia_jsonl.rs` is ammonia
//! alone with the same I/O); `COLLOQUY_BENCH_DUMP_PART=regular` (or
//! `adversarial`) writes that part alone.

mod corpus;

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use colloquy::{Policy, PolicySet};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};

use corpus::floods::FLOODS;
use corpus::{Comment, Kind, Scale};

/// The corpus seed, unless `COLLOQUY_BENCH_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0xC011_0C0F_2024;

/// Comments in the corpus.
const CORPUS_SIZE: usize = 3000;

/// The bundled formats, in report order.
const FORMATS: [&str; 3] = ["filtered_html", "plain_text", "markdown"];

/// Input sizes of the linear-growth table.
const SIZES: [(usize, &str); 3] = [
    (1024, "1 KB"),
    (100 * 1024, "100 KB"),
    (1024 * 1024, "1 MB"),
];

fn seed() -> u64 {
    std::env::var("COLLOQUY_BENCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn policy<'a>(set: &'a PolicySet, id: &str) -> &'a Policy {
    match set.get(id) {
        Some(p) => p,
        None => panic!("bundled format `{id}` is missing"),
    }
}

/// `ammonia` alone, with `filtered_html`'s tag whitelist and no generic
/// attributes; everything else is ammonia's default.
fn ammonia_alone() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["em", "strong", "blockquote", "br", "p"]))
        .generic_attributes(HashSet::new());
    builder
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
}

fn total_bytes(texts: &[&str]) -> u64 {
    texts.iter().map(|t| t.len() as u64).sum()
}

fn print_corpus_stats(seed: u64, comments: &[Comment]) {
    let total: usize = comments.iter().map(|c| c.text.len()).sum();
    eprintln!(
        "corpus: seed {seed:#x}, {} comments, {} bytes, fingerprint {:016x}",
        comments.len(),
        total,
        corpus::fingerprint(comments)
    );
    for kind in Kind::ALL {
        let (count, bytes, max) = comments
            .iter()
            .filter(|c| c.kind == kind)
            .fold((0usize, 0usize, 0usize), |(n, b, m), c| {
                (n + 1, b + c.text.len(), m.max(c.text.len()))
            });
        eprintln!(
            "  {:<13} {count:>5} comments ({:>4.1} %), {bytes:>9} bytes ({:>4.1} %), largest {max}",
            kind.name(),
            100.0 * count as f64 / comments.len() as f64,
            100.0 * bytes as f64 / total as f64,
        );
    }
}

/// One group: every bundled format and ammonia alone over `texts`.
fn corpus_group(c: &mut Criterion, name: &str, set: &PolicySet, texts: &[&str]) {
    let ammonia = ammonia_alone();
    let mut group = c.benchmark_group(name);
    configure(&mut group);
    group.throughput(Throughput::Bytes(total_bytes(texts)));
    for id in FORMATS {
        let policy = policy(set, id);
        group.bench_function(id, |b| {
            b.iter(|| {
                let mut out = 0usize;
                for text in texts {
                    out += policy.render_html(black_box(text)).as_str().len();
                }
                out
            });
        });
    }
    group.bench_function("ammonia", |b| {
        b.iter(|| {
            let mut out = 0usize;
            for text in texts {
                out += ammonia.clean(black_box(text)).to_string().len();
            }
            out
        });
    });
    group.finish();
}

fn corpus_benches(c: &mut Criterion) {
    let seed = seed();
    let comments = corpus::generate(seed, CORPUS_SIZE);
    // Same seed, same bytes.
    assert_eq!(
        corpus::fingerprint(&comments),
        corpus::fingerprint(&corpus::generate(seed, CORPUS_SIZE)),
        "the corpus generator is not deterministic"
    );
    print_corpus_stats(seed, &comments);

    let set = PolicySet::bundled();
    let all: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
    let regular: Vec<&str> = comments
        .iter()
        .filter(|c| c.kind != Kind::Adversarial)
        .map(|c| c.text.as_str())
        .collect();
    let adversarial: Vec<&str> = comments
        .iter()
        .filter(|c| c.kind == Kind::Adversarial)
        .map(|c| c.text.as_str())
        .collect();

    corpus_group(c, "corpus_all", &set, &all);
    corpus_group(c, "corpus_regular", &set, &regular);
    corpus_group(c, "corpus_adversarial", &set, &adversarial);
    summary_table(
        &set,
        &[
            ("regular", &regular),
            ("adversarial", &adversarial),
            ("whole corpus", &all),
        ],
    );
}

/// Seconds for one pass of `render` over `texts`: the best of five.
fn best_pass(texts: &[&str], render: &dyn Fn(&str) -> usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut out = 0usize;
        for text in texts {
            out += render(black_box(text));
        }
        black_box(out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// The parts side by side, timed in this run one after the other: MiB/s
/// of input per format and for ammonia alone, and each format's ratio to
/// ammonia on the same part (a Markdown table, for the README).
fn summary_table(set: &PolicySet, parts: &[(&str, &[&str])]) {
    let ammonia = ammonia_alone();
    println!();
    println!(
        "| MiB/s (× ammonia alone) | {} |",
        parts
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---:|".repeat(parts.len()));
    let mib =
        |texts: &[&str], seconds: f64| total_bytes(texts) as f64 / seconds / (1024.0 * 1024.0);
    let ammonia_rates: Vec<f64> = parts
        .iter()
        .map(|(_, texts)| {
            mib(
                texts,
                best_pass(texts, &|t| ammonia.clean(t).to_string().len()),
            )
        })
        .collect();
    for id in FORMATS {
        let policy = policy(set, id);
        let cells: Vec<String> = parts
            .iter()
            .zip(&ammonia_rates)
            .map(|((_, texts), base)| {
                let rate = mib(
                    texts,
                    best_pass(texts, &|t| policy.render_html(t).as_str().len()),
                );
                format!("{rate:.1} ({:.2}×)", rate / base)
            })
            .collect();
        println!("| `{id}` | {} |", cells.join(" | "));
    }
    let cells: Vec<String> = ammonia_rates.iter().map(|r| format!("{r:.1}")).collect();
    println!("| ammonia alone | {} |", cells.join(" | "));
}

/// Seconds per render of `input`: the best of five batches, each long
/// enough to time (at least 20 ms, or one render).
fn seconds_per_render(policy: &Policy, input: &str) -> f64 {
    let once = Instant::now();
    black_box(policy.render_html(black_box(input)).as_str().len());
    let single = once.elapsed().as_secs_f64();
    let per_batch = ((0.02 / single.max(1e-9)).ceil() as usize).clamp(1, 100_000);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..per_batch {
            black_box(policy.render_html(black_box(input)).as_str().len());
        }
        best = best.min(start.elapsed().as_secs_f64() / per_batch as f64);
    }
    best
}

/// One row of the table: MB/s per format and size, then the slowdown per
/// byte from 1 KB and from 100 KB to 1 MB (the worst format's).
fn growth_row(set: &PolicySet, name: &str, make: &dyn Fn(usize) -> String) {
    let mut cells = Vec::new();
    let (mut from_small, mut from_medium) = (0.0f64, 0.0f64);
    for id in FORMATS {
        let policy = policy(set, id);
        let mut per_byte = Vec::new();
        for (size, _) in SIZES {
            let input = make(size);
            let seconds = seconds_per_render(policy, &input);
            per_byte.push(seconds / input.len() as f64);
            cells.push(format!("{:.1}", input.len() as f64 / seconds / 1e6));
        }
        if let [small, medium, large] = per_byte[..] {
            from_small = from_small.max(large / small);
            from_medium = from_medium.max(large / medium);
        }
    }
    let name = name.replace('|', "\\|").replace('`', "\\`");
    println!(
        "| `{name}` | {} | {from_small:.2} | {from_medium:.2} |",
        cells.join(" | ")
    );
}

fn growth_table() {
    let set = PolicySet::bundled();
    let sizes: Vec<&str> = SIZES.iter().map(|(_, label)| *label).collect();
    let mut header = vec!["input".to_owned()];
    for id in FORMATS {
        for size in &sizes {
            header.push(format!("{id} {size}"));
        }
    }
    header.push("per byte, 1 MB / 1 KB".to_owned());
    header.push("1 MB / 100 KB".to_owned());
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for scale in Scale::ALL {
        growth_row(&set, scale.name(), &|size| scale.input(size));
    }
    for flood in FLOODS {
        growth_row(&set, flood.name, &|size| flood.input(size));
    }
}

// What `criterion_group!` and `criterion_main!` expand to, written out so the
// crate's `missing_docs` lint has nothing undocumented to flag.
fn main() {
    if let Ok(path) = std::env::var("COLLOQUY_BENCH_DUMP") {
        let comments = corpus::generate(seed(), CORPUS_SIZE);
        let part = std::env::var("COLLOQUY_BENCH_DUMP_PART").unwrap_or_default();
        let mut out = String::new();
        for c in &comments {
            let adversarial = c.kind == Kind::Adversarial;
            if (part == "regular" && adversarial) || (part == "adversarial" && !adversarial) {
                continue;
            }
            out.push_str(&serde_json::to_string(&c.text).unwrap_or_default());
            out.push('\n');
        }
        if let Err(e) = std::fs::write(&path, out) {
            panic!("cannot write {path}: {e}");
        }
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |part: &str| filters.is_empty() || filters.iter().any(|f| f == part);
    if wants("corpus") {
        let mut c = Criterion::default().configure_from_args();
        corpus_benches(&mut c);
        c.final_summary();
    } else if wants("summary") {
        let comments = corpus::generate(seed(), CORPUS_SIZE);
        let set = PolicySet::bundled();
        let part = |adversarial: bool| -> Vec<&str> {
            comments
                .iter()
                .filter(|c| (c.kind == Kind::Adversarial) == adversarial)
                .map(|c| c.text.as_str())
                .collect()
        };
        let all: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
        summary_table(
            &set,
            &[
                ("regular", &part(false)),
                ("adversarial", &part(true)),
                ("whole corpus", &all),
            ],
        );
    }
    if wants("floods") {
        growth_table();
    }
}
