//! Behaviour of the model as a whole: learning, determinism, storage,
//! explanations.

use super::*;

const SPAM: [&str; 6] = [
    "Cheap casino bonus, free spins, win big tonight",
    "Win a free prize now: casino jackpot bonus inside",
    "Best online casino, claim your free bonus today",
    "Free spins and a jackpot bonus at our casino",
    "Cheap pills, free shipping, buy now and win",
    "Claim your prize: free bonus cash, win now",
];
const HAM: [&str; 6] = [
    "I think the council got the budget numbers wrong this year",
    "Thanks for the article, the part about the river was new to me",
    "The council meeting on Tuesday discussed the new library",
    "Interesting point about the budget; the library deserves more",
    "I walked along the river yesterday and the path is flooded",
    "Good article, though the numbers on the library seem old",
];

fn input(body: &str) -> ScoringInput<'_> {
    ScoringInput {
        body,
        ..ScoringInput::default()
    }
}

fn toy_set() -> Vec<(ScoringInput<'static>, Label)> {
    let mut set = Vec::new();
    for (s, h) in SPAM.iter().zip(HAM.iter()) {
        set.push((input(s), Label::Spam));
        set.push((input(h), Label::Ham));
    }
    set
}

fn toy_model() -> Model {
    let mut m = Model::default();
    m.train(&toy_set(), 10);
    m
}

#[test]
fn an_untrained_model_is_undecided() {
    let m = Model::default();
    let s = m.score(&input("anything at all"));
    assert_eq!(s.probability, 0.5);
    assert!(s.top.is_empty());
    assert_eq!(s.reason(), "spam score 0.50");
}

#[test]
fn learns_a_separable_toy_set_and_generalises() {
    let m = toy_model();
    for (i, label) in toy_set() {
        let p = m.score(&i).probability;
        match label {
            Label::Spam => assert!(p > 0.8, "{p} for {:?}", i.body),
            Label::Ham => assert!(p < 0.2, "{p} for {:?}", i.body),
        }
    }
    // Sentences it never saw, made of words it did.
    assert!(m.probability(&input("free casino spins, claim the jackpot")) > 0.7);
    assert!(m.probability(&input("the library and the river path")) < 0.3);
    let e = evaluate(&m, &toy_set(), DEFAULT_HOLD_SCORE);
    assert_eq!(e.accuracy, 1.0);
    assert_eq!(e.auc, 1.0);
}

#[test]
fn scores_name_what_pushed_them() {
    let m = toy_model();
    let s = m.score(&input("Free casino bonus"));
    assert!(s.top.len() <= TOP_CONTRIBUTIONS && !s.top.is_empty());
    let magnitudes: Vec<f32> = s.top.iter().map(|c| c.weight.abs()).collect();
    assert!(
        magnitudes.windows(2).all(|w| w[0] >= w[1]),
        "{magnitudes:?}"
    );
    let casino = s
        .top
        .iter()
        .find(|c| c.kind == FeatureKind::Word && c.text == "casino")
        .expect("casino is among the top contributions");
    assert!(casino.weight > 0.0);
    let reason = s.reason();
    assert!(reason.starts_with(&format!("spam score {:.2} (", s.probability)));
    assert!(reason.contains("casino"), "{reason}");
    // A ham score names what pulled it down.
    let h = m.score(&input("the council and the library"));
    assert!(h.probability < 0.5);
    let reason = h.reason();
    assert!(
        reason.contains("library") || reason.contains("council"),
        "{reason}"
    );
    assert!(!reason.contains("casino"));
}

#[test]
fn facts_explain_themselves() {
    let mut m = Model::default();
    let links = ["casino.example"];
    let spammy = ScoringInput {
        body: "see here",
        link_domains: &links,
        facts: Facts {
            author_known: Some(false),
            new_link_domains: Some(1),
            ..Facts::default()
        },
        ..ScoringInput::default()
    };
    let fine = ScoringInput {
        body: "see here",
        facts: Facts {
            author_known: Some(true),
            ..Facts::default()
        },
        ..ScoringInput::default()
    };
    for _ in 0..20 {
        m.learn(&spammy, Label::Spam);
        m.learn(&fine, Label::Ham);
    }
    let s = m.score(&spammy);
    assert!(s.probability > 0.9, "{}", s.probability);
    let reason = s.reason();
    assert!(
        reason.contains("links to casino.example") && reason.contains("links to 1 new domain"),
        "{reason}"
    );
}

#[test]
fn online_updates_move_the_score_the_right_way() {
    let mut m = toy_model();
    let c = input("Claim the library bonus at the river");
    let before = m.score(&c).probability;
    let said = m.learn(&c, Label::Spam);
    assert_eq!(
        said.to_bits(),
        before.to_bits(),
        "learn returns the score before"
    );
    let after_spam = m.score(&c).probability;
    assert!(after_spam > before, "{before} -> {after_spam}");
    m.learn(&c, Label::Ham);
    let after_ham = m.score(&c).probability;
    assert!(after_ham < after_spam, "{after_spam} -> {after_ham}");
    assert_eq!(m.learned(), (6 + 1, 6 + 1));
    // Moderators insisting wins over the prior.
    for _ in 0..30 {
        m.learn(&c, Label::Ham);
    }
    assert!(m.probability(&c) < DEFAULT_HOLD_SCORE);
}

#[test]
fn deterministic_bit_for_bit() {
    let a = toy_model();
    let b = toy_model();
    assert_eq!(a.to_bytes(), b.to_bytes());
    let c = input("Free casino bonus for the council");
    let (s1, s2) = (a.score(&c), b.score(&c));
    assert_eq!(s1.probability.to_bits(), s2.probability.to_bits());
    assert_eq!(s1, s2);
    assert_eq!(a.probability(&c).to_bits(), s1.probability.to_bits());
    // Batch training is the same as learning one at a time.
    let mut one_by_one = Model::default();
    for _ in 0..10 {
        for (i, l) in toy_set() {
            one_by_one.learn(&i, l);
        }
    }
    assert_eq!(one_by_one.state, a.state);
    assert_eq!(one_by_one.bias, a.bias);
    assert_eq!(one_by_one.learned(), (60, 60));
    assert_eq!(
        a.learned(),
        (6, 6),
        "an example counts once, whatever the epochs"
    );
    let mut once = Model::default();
    once.train(&toy_set(), 1);
    let mut by_hand = Model::default();
    for (i, l) in toy_set() {
        by_hand.learn(&i, l);
    }
    assert_eq!(once.to_bytes(), by_hand.to_bytes());
}

#[test]
fn prune_keeps_every_score() {
    let mut m = Model::new(Params {
        l1: 0.2,
        ..Params::default()
    });
    m.train(&toy_set(), 3);
    let probe = [SPAM[0], HAM[0], "free library", "unrelated words entirely"];
    let before: Vec<u32> = probe
        .iter()
        .map(|b| m.probability(&input(b)).to_bits())
        .collect();
    let size = m.to_bytes().len();
    m.prune();
    let after: Vec<u32> = probe
        .iter()
        .map(|b| m.probability(&input(b)).to_bits())
        .collect();
    assert_eq!(before, after);
    assert!(
        m.to_bytes().len() < size,
        "{} !< {size}",
        m.to_bytes().len()
    );
}

#[test]
fn round_trips_through_bytes() {
    let m = toy_model();
    let bytes = m.to_bytes();
    let back = Model::from_bytes(&bytes).expect("reads its own bytes");
    assert_eq!(back, m);
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.version(), FORMAT_VERSION);
    assert_eq!(&bytes[..8], b"CLQSCORE");
    let c = input(SPAM[1]);
    assert_eq!(back.score(&c), m.score(&c));
    // And an empty model.
    let empty = Model::default();
    assert_eq!(Model::from_bytes(&empty.to_bytes()), Ok(empty));
}

#[test]
fn rejects_truncated_altered_and_foreign_bytes() {
    let bytes = toy_model().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Model::from_bytes(&bytes[..len]).is_err(),
            "a {len}-byte prefix was read"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Model::from_bytes(&longer).is_err());
    assert_eq!(Model::from_bytes(&bytes[..20]), Err(ModelError::Truncated));
    assert_eq!(Model::from_bytes(b"CLQ"), Err(ModelError::Truncated));
    assert_eq!(
        Model::from_bytes(b"{\"weights\": []}"),
        Err(ModelError::NotAModel)
    );
    let mut version = bytes.clone();
    version[8] = 2;
    assert_eq!(
        Model::from_bytes(&version),
        Err(ModelError::UnsupportedVersion { found: 2 })
    );
    for at in [11, 30, 60, bytes.len() / 2, bytes.len() - 9] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        assert_eq!(
            Model::from_bytes(&flipped),
            Err(ModelError::Checksum),
            "at {at}"
        );
    }
}

/// Bytes with a correct checksum but impossible fields: each is refused by
/// its own check, not by luck.
#[test]
fn rejects_impossible_fields_under_a_valid_checksum() {
    fn resum(mut b: Vec<u8>) -> Vec<u8> {
        b.truncate(b.len() - 8);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &x in &b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        b.extend_from_slice(&h.to_le_bytes());
        b
    }
    let good = toy_model().to_bytes();
    assert!(Model::from_bytes(&resum(good.clone())).is_ok());
    let corrupt = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        edit(&mut b);
        Model::from_bytes(&resum(b))
    };
    let is_corrupt = |r: Result<Model, ModelError>| matches!(r, Err(ModelError::Corrupt(_)));
    assert!(is_corrupt(corrupt(&|b| b[10] = 40)), "bits");
    assert!(is_corrupt(corrupt(&|b| b[11] = 1)), "reserved");
    assert!(is_corrupt(corrupt(&|b| b[15] = 0x80)), "unknown kind");
    assert!(
        is_corrupt(corrupt(&|b| b[16..20].copy_from_slice(&0f32.to_le_bytes()))),
        "alpha"
    );
    assert!(
        is_corrupt(corrupt(
            &|b| b[28..32].copy_from_slice(&f32::NAN.to_le_bytes())
        )),
        "l2"
    );
    assert!(
        is_corrupt(corrupt(
            &|b| b[52..56].copy_from_slice(&(-1f32).to_le_bytes())
        )),
        "n"
    );
    assert!(
        is_corrupt(corrupt(
            &|b| b[56..60].copy_from_slice(&u32::MAX.to_le_bytes())
        )),
        "count"
    );
    assert!(
        is_corrupt(corrupt(&|b| {
            let n = u32::from_le_bytes([b[56], b[57], b[58], b[59]]);
            b[56..60].copy_from_slice(&(n - 1).to_le_bytes());
        })),
        "trailing entry"
    );
    // A second entry whose gap is zero repeats a bucket.
    let first_entry_len = {
        let mut i = 60;
        while good[i] & 0x80 != 0 {
            i += 1;
        }
        i + 1 + 8 - 60
    };
    assert!(
        is_corrupt(corrupt(&|b| b[60 + first_entry_len] = 0)),
        "repeated bucket"
    );
}

#[test]
fn thresholds_give_verdicts() {
    let t = Thresholds::default();
    assert!(t.hold < t.spam);
    assert_eq!(t.verdict(0.0), Verdict::Publish);
    assert_eq!(t.verdict(t.hold - 0.01), Verdict::Publish);
    assert_eq!(t.verdict(t.hold), Verdict::Hold);
    assert_eq!(t.verdict(t.spam), Verdict::Spam);
    assert_eq!(t.verdict(1.0), Verdict::Spam);
}

#[test]
fn the_starter_model_loads_and_knows_spam() {
    let bytes = STARTER;
    let m = Model::from_bytes(bytes).expect("the bundled model loads");
    assert_eq!(m, Model::starter());
    assert!(m.nonzero_weights() > 1_000, "{}", m.nonzero_weights());
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let (ham, spam) = m.learned();
    assert!(ham > 1_000 && spam > 1_000, "{ham} ham, {spam} spam");
    let links = ["cheap-meds.example"];
    let spam = ScoringInput {
        body: "Dear friend, you have been selected to receive a FREE bonus! \
               Click here to claim your prize, limited time offer, order now. \
               To be removed from our list reply REMOVE.",
        link_domains: &links,
        ..ScoringInput::default()
    };
    let ham = input(
        "I tried the patch from yesterday and the build still fails on my \
         machine; the error is in the config parser. Does anyone know if the \
         test suite runs on Debian?",
    );
    let (s, h) = (m.score(&spam), m.score(&ham));
    assert!(s.probability >= DEFAULT_SPAM_SCORE, "{}", s.reason());
    assert!(h.probability < DEFAULT_HOLD_SCORE, "{}", h.reason());
}

#[test]
fn ignored_kinds_neither_score_nor_learn() {
    let params = Params {
        ignore: FeatureKinds::NONE.with(FeatureKind::Length),
        ..Params::default()
    };
    assert!(params.ignore.contains(FeatureKind::Length));
    assert!(!params.ignore.contains(FeatureKind::Word));
    let mut m = Model::new(params);
    // Only the length tells these apart: short is spam, long is ham.
    let short = input("hi");
    for _ in 0..20 {
        m.learn(&short, Label::Spam);
        m.learn(&input(HAM[1]), Label::Ham);
    }
    let s = m.score(&short);
    assert!(
        s.top.iter().all(|c| c.kind != FeatureKind::Length),
        "{:?}",
        s.top
    );
    let mut plain = Model::default();
    for _ in 0..20 {
        plain.learn(&short, Label::Spam);
        plain.learn(&input(HAM[1]), Label::Ham);
    }
    assert!(plain
        .score(&short)
        .top
        .iter()
        .any(|c| c.kind == FeatureKind::Length));
    let back = Model::from_bytes(&m.to_bytes()).expect("round trip");
    assert_eq!(back.params().ignore, params.ignore);
    assert_eq!(back, m);
}
