//! Property tests: random comments built from hostile fragments, rendered in
//! every bundled format, must keep every output invariant
//! (`colloquy::invariants`): allowed elements and attributes only, allowed
//! URL schemes only, a stable safety net, determinism, bounded size.

use colloquy::{invariants, PolicySet};
use proptest::prelude::*;

/// Pieces that exercise every filter and the classic sanitizer traps.
const FRAGMENTS: &[&str] = &[
    "<em>",
    "</em>",
    "<strong>",
    "</strong>",
    "<p>",
    "</p>",
    "<br>",
    "<br />",
    "<blockquote>",
    "</blockquote>",
    "<a href=\"http://example.com\">",
    "</a>",
    "<script>alert(1)</script>",
    "<style>*{}</style>",
    "<svg><p>x</p></svg>",
    "<math><mi>x</mi></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<img src=x onerror=alert(1)>",
    "<em onclick=\"x\">",
    "<p style=\"x\">",
    "<em title=\"a > b\">",
    "<blockquote cite=\"javascript:alert(1)\">",
    "<a href=\"jav&#x09;ascript:alert(1)\">",
    "<!-- c -->",
    "<!--",
    "-->",
    "<!x>",
    "<?php ?>",
    "</",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#x202e;",
    "&{alert(1)};",
    "&nbsp",
    "\"",
    "'",
    "`",
    "http://example.com/a_(b)",
    "www.example.org",
    "https://example.com/?q=<script>",
    "javascript://%0aalert(1)",
    "mailto:a@b.cd",
    "user@example.com",
    "HTTP://EXAMPLE.COM",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    "\t",
    "\u{0}",
    "\u{202e}",
    "\u{c}",
    "\u{fffe}",
    "\u{ffff}",
    "&#12;",
    "&#xFFFF;",
    "é",
    "😀",
    "個",
    "*",
    "**",
    "`",
    "```\n",
    "> ",
    "- ",
    "[x](javascript:alert(1))",
    "[y](http://ok.example)",
    "![i](http://x.example/i.png)",
    "<EM>",
    "<P>",
    "<e\u{0}m>",
    "</em onmouseover=x>",
    "x<y",
    "a<b and c>d",
];

fn comment() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        2 => "[a-zA-Z0-9 .,:;/?=&#%@-]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(6).collect()),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_format_keeps_the_output_invariants(input in comment()) {
        let formats = PolicySet::bundled();
        for policy in formats.iter() {
            if let Err(v) = invariants::check_rendering(policy, &input) {
                prop_assert!(false, "{}: {v}\ninput: {input:?}", policy.id());
            }
        }
    }

    #[test]
    fn deep_nesting_is_flattened_and_keeps_the_text(depth in 1usize..400, tag in proptest::sample::select(&["em", "strong", "blockquote", "div", "p"][..])) {
        let input = format!("{}deep{}", format!("<{tag}>").repeat(depth), format!("</{tag}>").repeat(depth));
        let formats = PolicySet::bundled();
        for policy in formats.iter() {
            let out = invariants::check_rendering(policy, &input).map_err(|v| TestCaseError::fail(format!("{}: {v}", policy.id())))?;
            prop_assert!(out.contains("deep"), "{}: text lost: {out:.200}", policy.id());
            prop_assert!(nesting_depth(&out) <= colloquy::safety::MAX_DEPTH, "{}: too deep", policy.id());
        }
    }
}

/// The deepest element nesting in canonical output.
fn nesting_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for piece in html.split('<').skip(1) {
        if piece.starts_with('/') {
            depth = depth.saturating_sub(1);
        } else if !piece.starts_with("br") && !piece.starts_with("hr") {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

#[test]
fn text_survives_in_plain_text_exactly() {
    // Plain text escapes; nothing typed may disappear.
    let formats = PolicySet::bundled();
    let plain = formats.get("plain_text").expect("bundled");
    let out = plain.render("a <b>c</b> & d").html.into_string();
    assert_eq!(out, "<p>a &lt;b&gt;c&lt;/b&gt; &amp; d</p>\n");
}

#[test]
fn characters_xml_forbids_reach_no_output_of_any_format() {
    // One form feed or U+FFFF in a comment made the Atom feed unparseable.
    let formats = PolicySet::bundled();
    for id in ["plain_text", "filtered_html", "markdown"] {
        let policy = formats.get(id).expect("bundled");
        for input in [
            "page\u{c}break",
            "a\u{fffe}b\u{ffff}c",
            "ref &#12; &#xFFFE; &#65535; end",
            "<em title=\"x\u{c}y\">t</em> [l](http://e.example/\u{c}) www.e.example/\u{ffff}",
        ] {
            let out = policy.render(input).html.into_string();
            assert_eq!(
                invariants::forbidden_characters(&out),
                Ok(()),
                "{id}: {input:?} -> {out:?}"
            );
            assert!(!out.is_empty(), "{id}: {input:?}");
        }
    }
}
