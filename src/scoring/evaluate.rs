//! How well a model separates spam from ham on labelled comments it has
//! not learned from.

use super::input::ScoringInput;
use super::model::{Label, Model};

/// Counts and rates of a model on a labelled set at one threshold (spam is
/// the positive class). A rate whose denominator is zero is NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The probability at or above which a comment counts as flagged.
    pub threshold: f32,
    /// Spam flagged.
    pub true_positives: usize,
    /// Ham flagged: the costly mistake.
    pub false_positives: usize,
    /// Ham not flagged.
    pub true_negatives: usize,
    /// Spam not flagged.
    pub false_negatives: usize,
    /// Share of flagged comments that are spam.
    pub precision: f64,
    /// Share of spam that is flagged.
    pub recall: f64,
    /// Share of ham that is flagged.
    pub false_positive_rate: f64,
    /// Share of comments judged right.
    pub accuracy: f64,
    /// Area under the ROC curve: the chance that a random spam scores above
    /// a random ham (ties count half). Independent of the threshold.
    pub auc: f64,
}

impl Evaluation {
    /// The evaluation of probabilities already computed, one per example.
    #[must_use]
    pub fn from_scores(scored: &[(f32, Label)], threshold: f32) -> Evaluation {
        let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
        for &(p, label) in scored {
            match (p >= threshold, label) {
                (true, Label::Spam) => tp += 1,
                (true, Label::Ham) => fp += 1,
                (false, Label::Ham) => tn += 1,
                (false, Label::Spam) => fn_ += 1,
            }
        }
        let ratio = |a: usize, b: usize| {
            if b == 0 {
                f64::NAN
            } else {
                a as f64 / b as f64
            }
        };
        Evaluation {
            threshold,
            true_positives: tp,
            false_positives: fp,
            true_negatives: tn,
            false_negatives: fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            false_positive_rate: ratio(fp, fp + tn),
            accuracy: ratio(tp + tn, scored.len()),
            auc: auc(scored),
        }
    }

    /// Spam in the set.
    #[must_use]
    pub fn spam(&self) -> usize {
        self.true_positives + self.false_negatives
    }

    /// Ham in the set.
    #[must_use]
    pub fn ham(&self) -> usize {
        self.true_negatives + self.false_positives
    }
}

/// Scores every example and evaluates the model at `threshold`.
#[must_use]
pub fn evaluate(
    model: &Model,
    examples: &[(ScoringInput<'_>, Label)],
    threshold: f32,
) -> Evaluation {
    let scored: Vec<(f32, Label)> = examples
        .iter()
        .map(|(input, label)| (model.probability(input), *label))
        .collect();
    Evaluation::from_scores(&scored, threshold)
}

/// The Mann–Whitney form of the ROC AUC, with tied scores sharing their
/// average rank.
fn auc(scored: &[(f32, Label)]) -> f64 {
    let mut sorted: Vec<(f32, Label)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = sorted.iter().filter(|(_, l)| *l == Label::Spam).count();
    let negatives = sorted.len() - positives;
    if positives == 0 || negatives == 0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0.total_cmp(&sorted[i].0).is_eq() {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        let spam = sorted[i..j]
            .iter()
            .filter(|(_, l)| *l == Label::Spam)
            .count();
        rank_sum += mean_rank * spam as f64;
        i = j;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let scored = [
            (0.9, Label::Spam),
            (0.8, Label::Ham),
            (0.6, Label::Spam),
            (0.2, Label::Ham),
            (0.1, Label::Spam),
        ];
        let e = Evaluation::from_scores(&scored, 0.5);
        assert_eq!(
            (
                e.true_positives,
                e.false_positives,
                e.true_negatives,
                e.false_negatives
            ),
            (2, 1, 1, 1)
        );
        assert_eq!((e.spam(), e.ham()), (3, 2));
        assert!((e.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.false_positive_rate - 0.5).abs() < 1e-12);
        assert!((e.accuracy - 0.6).abs() < 1e-12);
        // Pairs (spam above ham): 0.9 beats both, 0.6 beats 0.2, 0.1 none.
        assert!((e.auc - 3.0 / 6.0).abs() < 1e-12, "{}", e.auc);
    }

    #[test]
    fn auc_of_perfect_reversed_and_tied_rankings() {
        let perfect = [(0.9, Label::Spam), (0.1, Label::Ham), (0.2, Label::Ham)];
        assert_eq!(Evaluation::from_scores(&perfect, 0.5).auc, 1.0);
        let reversed = [(0.1, Label::Spam), (0.9, Label::Ham)];
        assert_eq!(Evaluation::from_scores(&reversed, 0.5).auc, 0.0);
        let tied = [(0.5, Label::Spam), (0.5, Label::Ham)];
        assert_eq!(Evaluation::from_scores(&tied, 0.5).auc, 0.5);
    }

    #[test]
    fn undefined_rates_are_nan() {
        let e = Evaluation::from_scores(&[(0.1, Label::Ham)], 0.5);
        assert!(e.precision.is_nan() && e.recall.is_nan() && e.auc.is_nan());
        assert_eq!(e.false_positive_rate, 0.0);
        assert_eq!(e.accuracy, 1.0);
    }
}
