//! Logistic regression over hashed features, learned online with
//! FTRL-Proximal (per-feature learning rates, L1 and L2 regularisation).
//!
//! FTRL fits how a site learns: one moderator decision at a time, in any
//! order, features that appear rarely still learning fast, and L1 keeping
//! most weights exactly zero so the model stays small. All arithmetic is
//! `f32` in a fixed order with the pure-Rust `libm`, so the same model and
//! input give the same bits on every IEEE-754 platform.

use super::features::{bucket, extract, Extracted, FeatureKind, FeatureKinds};
use super::input::ScoringInput;

/// How many contributions a [`Score`] names.
pub const TOP_CONTRIBUTIONS: usize = 8;

/// A moderator's verdict on a comment, as a training label.
///
/// Approving or publishing a comment, or dismissing a report against it,
/// says [`Label::Ham`]; marking it spam, trashing it as abuse or upholding a
/// report says [`Label::Spam`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// A comment the site wants.
    Ham,
    /// Spam or abuse.
    Spam,
}

impl Label {
    fn target(self) -> f32 {
        match self {
            Label::Ham => 0.0,
            Label::Spam => 1.0,
        }
    }
}

/// The learning settings; stored with the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// The table has `2^bits` weights (8 to 22).
    pub bits: u8,
    /// FTRL α: the learning rate's scale.
    pub alpha: f32,
    /// FTRL β: smooths the learning rate of new features.
    pub beta: f32,
    /// L1 strength: weights of features with less evidence stay zero.
    pub l1: f32,
    /// L2 strength.
    pub l2: f32,
    /// Kinds of feature the model neither scores nor learns.
    pub ignore: FeatureKinds,
}

impl Default for Params {
    /// The settings the starter model was trained with (chosen on a
    /// validation split of its training data, see `scoring/README.md`).
    fn default() -> Self {
        Params {
            bits: 18,
            alpha: 2.0,
            beta: 1.0,
            l1: 0.1,
            l2: 0.0,
            ignore: FeatureKinds::NONE,
        }
    }
}

/// The learning state of one weight.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Coord {
    pub(crate) z: f32,
    pub(crate) n: f32,
}

/// A spam model: score comments, learn from decisions, save and load.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) params: Params,
    /// The weight of every bucket, derived from `state`; dense for scoring.
    weights: Vec<f32>,
    /// FTRL state of every bucket (zero where nothing was learned).
    pub(crate) state: Vec<Coord>,
    /// The intercept: learns the site's share of spam, never regularised.
    pub(crate) bias: Coord,
    bias_weight: f32,
    /// Decisions learned from: ham, spam.
    pub(crate) learned: [u64; 2],
}

/// What pushed a score: one feature and its share of the score's log-odds
/// (positive towards spam).
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// What the feature describes.
    pub kind: FeatureKind,
    /// Its words or value ("casino", "casino.example", "3 to 5 links").
    pub text: String,
    /// Its weight times its value in this comment.
    pub weight: f32,
}

/// A comment's spam score, with the features that pushed it most.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Probability that the comment is spam, 0 to 1.
    pub probability: f32,
    /// The log-odds the probability comes from (sum of contributions and
    /// the intercept).
    pub logit: f32,
    /// Up to [`TOP_CONTRIBUTIONS`] contributions, largest magnitude first.
    pub top: Vec<Contribution>,
}

impl Default for Model {
    fn default() -> Self {
        Model::new(Params::default())
    }
}

impl Model {
    /// An untrained model: scores 0.5 until it learns.
    ///
    /// `bits` outside 8..=22 is clamped into it.
    #[must_use]
    pub fn new(params: Params) -> Model {
        let params = Params {
            bits: params.bits.clamp(MIN_BITS, MAX_BITS),
            ..params
        };
        Model {
            params,
            weights: vec![0.0; 1 << params.bits],
            state: vec![Coord::default(); 1 << params.bits],
            bias: Coord::default(),
            bias_weight: 0.0,
            learned: [0, 0],
        }
    }

    /// Builds a model from stored state (bucket, state); the format checks
    /// it first.
    pub(crate) fn from_state(
        params: Params,
        state: impl IntoIterator<Item = (u32, Coord)>,
        bias: Coord,
        learned: [u64; 2],
    ) -> Model {
        let mut m = Model::new(params);
        for (i, c) in state {
            m.state[i as usize] = c;
            m.weights[i as usize] = weight(c, &m.params, m.params.l1, m.params.l2);
        }
        m.bias = bias;
        m.bias_weight = weight(bias, &m.params, 0.0, 0.0);
        m.learned = learned;
        m
    }

    /// The learning settings.
    #[must_use]
    pub fn params(&self) -> Params {
        self.params
    }

    /// Examples learned from so far: `(ham, spam)`.
    #[must_use]
    pub fn learned(&self) -> (u64, u64) {
        (self.learned[0], self.learned[1])
    }

    /// Buckets that have learned something (what [`Model::to_bytes`]
    /// stores), with their state.
    pub(crate) fn learned_state(&self) -> impl Iterator<Item = (u32, &Coord)> {
        self.state
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != Coord::default())
            .map(|(i, c)| (i as u32, c))
    }

    /// Weights that are not zero (what scoring looks at).
    #[must_use]
    pub fn nonzero_weights(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }

    /// The spam score of a comment.
    #[must_use]
    pub fn score(&self, input: &ScoringInput<'_>) -> Score {
        let x = extract(input, self.params.ignore);
        let mut logit = self.bias_weight;
        let mut top = Top::default();
        for (i, e) in x.entries.iter().enumerate() {
            let w = self.weights[bucket(e.hash, self.params.bits)];
            if w != 0.0 {
                let c = w * e.value;
                logit += c;
                top.offer(c, e.hash, i);
            }
        }
        Score {
            probability: sigmoid(logit),
            logit,
            top: top.contributions(&x),
        }
    }

    /// The probability alone: the same number as [`Model::score`], without
    /// naming contributions.
    #[must_use]
    pub fn probability(&self, input: &ScoringInput<'_>) -> f32 {
        let x = extract(input, self.params.ignore);
        let mut logit = self.bias_weight;
        for e in &x.entries {
            let w = self.weights[bucket(e.hash, self.params.bits)];
            if w != 0.0 {
                logit += w * e.value;
            }
        }
        sigmoid(logit)
    }

    /// Learns one moderator decision; returns the spam probability the
    /// model gave the comment before learning it.
    pub fn learn(&mut self, input: &ScoringInput<'_>, label: Label) -> f32 {
        let xs = features(&extract(input, self.params.ignore), self.params.bits);
        self.count(label);
        self.learn_features(&xs, label)
    }

    /// Learns a batch in order, `epochs` times over. Features are read once,
    /// so this is faster than calling [`Model::learn`] in a loop; the weights
    /// come out the same as that loop's, and each example counts once in
    /// [`Model::learned`] however many epochs.
    pub fn train(&mut self, examples: &[(ScoringInput<'_>, Label)], epochs: u32) {
        let prepared: Vec<(Vec<(u32, f32)>, Label)> = examples
            .iter()
            .map(|(input, label)| {
                let x = extract(input, self.params.ignore);
                (features(&x, self.params.bits), *label)
            })
            .collect();
        for _ in 0..epochs {
            for (xs, label) in &prepared {
                self.learn_features(xs, *label);
            }
        }
        if epochs > 0 {
            for (_, label) in examples {
                self.count(*label);
            }
        }
    }

    /// Forgets the learning state of buckets whose weight is zero: the
    /// scores stay the same bit for bit, the stored model shrinks, and those
    /// features learn afresh if they come back. For shipping a model.
    pub fn prune(&mut self) {
        for (c, w) in self.state.iter_mut().zip(&self.weights) {
            if *w == 0.0 {
                *c = Coord::default();
            }
        }
    }

    fn logit_of(&self, xs: &[(u32, f32)]) -> f32 {
        let mut logit = self.bias_weight;
        for &(i, v) in xs {
            let w = self.weights[i as usize];
            if w != 0.0 {
                logit += w * v;
            }
        }
        logit
    }

    /// `xs` in feature order, as [`Model::score`] sums them, so the
    /// probability returned is the one `score` gives.
    fn learn_features(&mut self, xs: &[(u32, f32)], label: Label) -> f32 {
        let p = sigmoid(self.logit_of(xs));
        let g = p - label.target();
        let params = self.params;
        for (i, v) in merged(xs) {
            let c = &mut self.state[i as usize];
            let w = self.weights[i as usize];
            update(c, w, g * v, &params);
            self.weights[i as usize] = weight(*c, &params, params.l1, params.l2);
        }
        update(&mut self.bias, self.bias_weight, g, &params);
        self.bias_weight = weight(self.bias, &params, 0.0, 0.0);
        p
    }

    fn count(&mut self, label: Label) {
        let slot = match label {
            Label::Ham => 0,
            Label::Spam => 1,
        };
        self.learned[slot] = self.learned[slot].saturating_add(1);
    }
}

pub(crate) const MIN_BITS: u8 = 8;
pub(crate) const MAX_BITS: u8 = 22;

/// Bucket and value of every feature, in the order [`Model::score`] adds
/// them up.
fn features(x: &Extracted, bits: u8) -> Vec<(u32, f32)> {
    x.entries
        .iter()
        .map(|e| (bucket(e.hash, bits) as u32, e.value))
        .collect()
}

/// Features by bucket, values of features sharing a bucket added, in
/// bucket order (so learning touches each weight once).
fn merged(xs: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut xs = xs.to_vec();
    xs.sort_by_key(|&(i, _)| i);
    xs.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 += later.1;
            true
        } else {
            false
        }
    });
    xs
}

/// One FTRL-Proximal step for gradient `g` on a weight now at `w`.
fn update(c: &mut Coord, w: f32, g: f32, p: &Params) {
    let n = c.n + g * g;
    let sigma = (libm::sqrtf(n) - libm::sqrtf(c.n)) / p.alpha;
    c.z += g - sigma * w;
    c.n = n;
}

/// The weight FTRL-Proximal derives from a coordinate's state.
fn weight(c: Coord, p: &Params, l1: f32, l2: f32) -> f32 {
    if c.z.abs() <= l1 {
        return 0.0;
    }
    let shrunk = c.z - l1.copysign(c.z);
    -shrunk / ((p.beta + libm::sqrtf(c.n)) / p.alpha + l2)
}

/// The logistic function, clamped so it never returns exactly 0 or 1 far
/// from zero and never overflows.
pub(crate) fn sigmoid(t: f32) -> f32 {
    let t = t.clamp(-30.0, 30.0);
    1.0 / (1.0 + libm::expf(-t))
}

/// The largest contributions seen, kept sorted (largest magnitude first,
/// ties by hash so the order never depends on anything but the input).
#[derive(Default)]
struct Top {
    best: Vec<(f32, u64, usize)>,
}

impl Top {
    fn offer(&mut self, c: f32, hash: u64, index: usize) {
        let a = c.abs();
        let beats = |&(b, h, _): &(f32, u64, usize)| a > b.abs() || (a == b.abs() && hash < h);
        if self.best.len() == TOP_CONTRIBUTIONS && !self.best.last().is_some_and(beats) {
            return;
        }
        let at = self.best.iter().position(beats).unwrap_or(self.best.len());
        self.best.insert(at, (c, hash, index));
        self.best.truncate(TOP_CONTRIBUTIONS);
    }

    fn contributions(self, x: &Extracted) -> Vec<Contribution> {
        self.best
            .into_iter()
            .map(|(weight, _, i)| {
                let e = &x.entries[i];
                Contribution {
                    kind: e.kind,
                    text: x.label(e).split_whitespace().collect::<Vec<_>>().join(" "),
                    weight,
                }
            })
            .collect()
    }
}
