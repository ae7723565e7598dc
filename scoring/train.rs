//! Trains the bundled starter model and prints its evaluation.
//!
//! ```sh
//! python3 scoring/prepare_corpus.py <package>/data /tmp/corpus.jsonl
//! cargo run --release --example scoring_train -- /tmp/corpus.jsonl \
//!     --out src/scoring/starter.model --fixture tests/scoring/fixture.jsonl
//! ```
//!
//! The corpus is split by time: messages received before [`SPLIT`] train,
//! the later ones test. `--tune` instead searches the learning settings on
//! the last fifth (by time) of the training part, never looking at the test
//! part. Everything is deterministic: the same corpus gives the same model
//! bytes.

#![allow(missing_docs)]

use std::process::ExitCode;

use colloquy::scoring::{
    Evaluation, FeatureKind, FeatureKinds, Label, Model, Params, ScoringInput, DEFAULT_HOLD_SCORE,
    DEFAULT_SPAM_SCORE,
};
use serde::Deserialize;

/// 2002-09-01 00:00 UTC: train on what came before, test on what came after.
const SPLIT: i64 = 1_030_838_400;
/// Passes over the training part.
const EPOCHS: u32 = 32;
/// The starter's settings: the defaults, except that it ignores the body's
/// length. Short mail is mostly spam; short comments are mostly not, and a
/// site's model learns what length means there.
fn starter_params() -> Params {
    Params {
        ignore: FeatureKinds::NONE.with(FeatureKind::Length),
        ..Params::default()
    }
}

/// Messages in the committed test fixture, per label.
const FIXTURE_PER_LABEL: usize = 200;
/// Characters of a body kept in the fixture.
const FIXTURE_BODY_CHARS: usize = 1_200;

#[derive(Deserialize, serde::Serialize, Clone)]
struct Row {
    t: i64,
    label: String,
    group: String,
    id: String,
    body: String,
    links: Vec<String>,
}

struct Example {
    row: Row,
    links: Vec<String>,
}

impl Example {
    fn label(&self) -> Label {
        if self.row.label == "spam" {
            Label::Spam
        } else {
            Label::Ham
        }
    }
}

fn inputs<'a>(
    examples: &'a [Example],
    links: &'a [Vec<&'a str>],
) -> Vec<(ScoringInput<'a>, Label)> {
    examples
        .iter()
        .zip(links)
        .map(|(e, l)| {
            (
                ScoringInput {
                    body: &e.row.body,
                    link_domains: l,
                    ..ScoringInput::default()
                },
                e.label(),
            )
        })
        .collect()
}

fn link_refs(examples: &[Example]) -> Vec<Vec<&str>> {
    examples
        .iter()
        .map(|e| e.links.iter().map(String::as_str).collect())
        .collect()
}

fn train(examples: &[Example], params: Params, epochs: u32) -> Model {
    let links = link_refs(examples);
    let mut model = Model::new(params);
    model.train(&inputs(examples, &links), epochs);
    model
}

fn scores(model: &Model, examples: &[Example]) -> Vec<(f32, Label)> {
    let links = link_refs(examples);
    inputs(examples, &links)
        .iter()
        .map(|(input, label)| (model.probability(input), *label))
        .collect()
}

fn row(name: &str, e: &Evaluation) -> String {
    format!(
        "| {name} | {:.4} | {:.2} % | {:.2} % | {:.2} % | {:.2} % | {:.4} | {} | {} |",
        e.threshold,
        100.0 * e.accuracy,
        100.0 * e.precision,
        100.0 * e.recall,
        100.0 * e.false_positive_rate,
        e.auc,
        e.false_positives,
        e.false_negatives,
    )
}

/// Rates at a range of thresholds, for choosing the defaults (on the
/// validation part) and for the README's tuning table (on the test part).
fn sweep(scored: &[(f32, Label)]) {
    println!("| threshold | accuracy | precision | recall | FPR | FP | FN |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for t in [
        0.3f32, 0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99,
    ] {
        let e = Evaluation::from_scores(scored, t);
        println!(
            "| {t} | {:.2} % | {:.2} % | {:.2} % | {:.2} % | {} | {} |",
            100.0 * e.accuracy,
            100.0 * e.precision,
            100.0 * e.recall,
            100.0 * e.false_positive_rate,
            e.false_positives,
            e.false_negatives
        );
    }
}

/// The ham scored at or above the spam threshold, with the reasons.
fn false_alarms(model: &Model, examples: &[Example]) {
    let links = link_refs(examples);
    for (e, (input, label)) in examples.iter().zip(inputs(examples, &links)) {
        let s = model.score(&input);
        if label == Label::Ham && s.probability >= DEFAULT_SPAM_SCORE {
            println!("  {} {}: {}", e.row.group, e.row.id, s.reason());
        }
    }
}

fn table(scored: &[(f32, Label)]) {
    println!("| threshold | value | accuracy | precision | recall | FPR | AUC | FP | FN |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "{}",
        row(
            "hold_score",
            &Evaluation::from_scores(scored, DEFAULT_HOLD_SCORE)
        )
    );
    println!(
        "{}",
        row(
            "spam_score",
            &Evaluation::from_scores(scored, DEFAULT_SPAM_SCORE)
        )
    );
}

fn tune(train_part: &[Example], grid: &Grid) {
    let cut = train_part.len() * 4 / 5;
    let (fit, valid) = train_part.split_at(cut);
    println!("tuning: {} to fit, {} to validate", fit.len(), valid.len());
    println!(
        "alpha beta l1 l2 epochs | acc@hold fpr@hold acc@spam fpr@spam recall@spam auc | weights"
    );
    let links = link_refs(fit);
    let fit_inputs = inputs(fit, &links);
    for &alpha in &grid.alpha {
        for &l1 in &grid.l1 {
            for &l2 in &grid.l2 {
                let params = Params {
                    alpha,
                    l1,
                    l2,
                    ..grid.base
                };
                let mut model = Model::new(params);
                if grid.single() {
                    model.train(&fit_inputs, grid.epochs);
                    println!("validation, {params:?}, {} epochs:", grid.epochs);
                    sweep(&scores(&model, valid));
                    println!("ham at or above spam_score:");
                    false_alarms(&model, valid);
                    return;
                }
                for epoch in 1..=grid.epochs {
                    model.train(&fit_inputs, 1);
                    if !epoch.is_power_of_two() {
                        continue;
                    }
                    let s = scores(&model, valid);
                    let hold = Evaluation::from_scores(&s, DEFAULT_HOLD_SCORE);
                    let spam = Evaluation::from_scores(&s, DEFAULT_SPAM_SCORE);
                    println!(
                        "{alpha} {} {l1} {l2} {epoch} | {:.4} {:.4} {:.4} {:.4} {:.4} {:.5} | {}",
                        params.beta,
                        hold.accuracy,
                        hold.false_positive_rate,
                        spam.accuracy,
                        spam.false_positive_rate,
                        spam.recall,
                        hold.auc,
                        model.nonzero_weights()
                    );
                }
            }
        }
    }
}

struct Grid {
    base: Params,
    alpha: Vec<f32>,
    l1: Vec<f32>,
    l2: Vec<f32>,
    epochs: u32,
}

impl Grid {
    /// One setting only: report it in detail.
    fn single(&self) -> bool {
        self.alpha.len() == 1 && self.l1.len() == 1 && self.l2.len() == 1
    }
}

fn floats(s: Option<String>, default: &[f32]) -> Vec<f32> {
    s.map_or_else(
        || default.to_vec(),
        |s| s.split(',').filter_map(|f| f.parse().ok()).collect(),
    )
}

/// [`FIXTURE_PER_LABEL`] messages of each label from the test part, evenly
/// spaced in time, bodies cut, in time order: a few hundred messages the
/// starter never learned from.
fn fixture(test_part: &[Example], path: &str) -> std::io::Result<()> {
    let mut out = String::new();
    for label in ["ham", "spam"] {
        let of_label: Vec<&Example> = test_part.iter().filter(|e| e.row.label == label).collect();
        let k = FIXTURE_PER_LABEL.min(of_label.len());
        let picked: Vec<Row> = (0..k)
            .map(|i| of_label[i * of_label.len() / k])
            .map(|e| {
                let mut r = e.row.clone();
                r.body = r.body.chars().take(FIXTURE_BODY_CHARS).collect();
                r
            })
            .collect();
        for r in picked {
            out.push_str(&serde_json::to_string(&r).map_err(std::io::Error::other)?);
            out.push('\n');
        }
    }
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_by_key(|l| {
        serde_json::from_str::<Row>(l).map_or((0, String::new()), |r| (r.t, r.group + &r.id))
    });
    std::fs::write(path, lines.join("\n") + "\n")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(corpus) = args.first() else {
        eprintln!("usage: scoring_train CORPUS.jsonl [--tune] [--out MODEL] [--fixture FILE]");
        return ExitCode::from(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let text = match std::fs::read_to_string(corpus) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{corpus}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut examples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match serde_json::from_str::<Row>(line) {
            Ok(row) => {
                let links = row.links.clone();
                examples.push(Example { row, links });
            }
            Err(e) => {
                eprintln!("{corpus}:{}: {e}", n + 1);
                return ExitCode::FAILURE;
            }
        }
    }
    let split = examples.partition_point(|e| e.row.t < SPLIT);
    let (train_part, test_part) = examples.split_at(split);
    let count = |part: &[Example]| {
        let spam = part.iter().filter(|e| e.label() == Label::Spam).count();
        (part.len(), spam, part.len() - spam)
    };
    println!(
        "train (before 2002-09-01): {:?} (all, spam, ham)",
        count(train_part)
    );
    println!(
        "test (from 2002-09-01): {:?} (all, spam, ham)",
        count(test_part)
    );
    if args.iter().any(|a| a == "--tune") {
        let base = if args.iter().any(|a| a == "--keep-length") {
            Params::default()
        } else {
            starter_params()
        };
        let grid = Grid {
            base,
            alpha: floats(flag("--alpha"), &[0.5, 1.0, 2.0, 4.0]),
            l1: floats(flag("--l1"), &[0.05, 0.1, 0.3]),
            l2: floats(flag("--l2"), &[0.0, 1.0]),
            epochs: flag("--epochs").and_then(|e| e.parse().ok()).unwrap_or(32),
        };
        tune(train_part, &grid);
        return ExitCode::SUCCESS;
    }
    let start = std::time::Instant::now();
    let mut model = train(train_part, starter_params(), EPOCHS);
    let trained_in = start.elapsed();
    let before = model.nonzero_weights();
    model.prune();
    assert_eq!(before, model.nonzero_weights());
    let bytes = model.to_bytes();
    println!(
        "trained in {:.1} s; {} non-zero weights; {} bytes",
        trained_in.as_secs_f64(),
        model.nonzero_weights(),
        bytes.len()
    );
    let scored = scores(&model, test_part);
    table(&scored);
    println!("test part, by threshold:");
    sweep(&scored);
    println!("test ham at or above spam_score:");
    false_alarms(&model, test_part);
    if let Some(path) = flag("--out") {
        if let Err(e) = std::fs::write(&path, &bytes) {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("wrote {path}");
    }
    if let Some(path) = flag("--fixture") {
        if let Err(e) = fixture(test_part, &path) {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("wrote {path}");
    }
    ExitCode::SUCCESS
}
