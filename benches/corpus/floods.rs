//! Floods: one construct that a lexer, the `url` filter, `autop`, the
//! corrector, Markdown or html5ever looks for, repeated to a given size.
//! Shared by the render benchmark (the linear-growth table) and by the
//! crate's linearity test (`src/filter/linearity.rs`), which counts the
//! bytes the scans examine at two sizes.
//!
//! Self-contained (no imports), so that both can include it.

/// One flood: a name for tables, and how to build it.
pub(crate) struct Flood {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
}

/// How a flood is built.
pub(crate) enum Shape {
    /// `head`, then `unit` repeated, then `tail`.
    Repeat {
        head: &'static str,
        unit: &'static str,
        tail: &'static str,
    },
    /// `first` repeated to half the size, then `then` repeated.
    Halves {
        first: &'static str,
        then: &'static str,
    },
    /// One tag with ever more attributes of different names.
    DistinctAttributes,
}

const fn flood(name: &'static str, unit: &'static str) -> Flood {
    Flood {
        name,
        shape: Shape::Repeat {
            head: "",
            unit,
            tail: "",
        },
    }
}

const fn framed(
    name: &'static str,
    head: &'static str,
    unit: &'static str,
    tail: &'static str,
) -> Flood {
    Flood {
        name,
        shape: Shape::Repeat { head, unit, tail },
    }
}

const fn halves(name: &'static str, first: &'static str, then: &'static str) -> Flood {
    Flood {
        name,
        shape: Shape::Halves { first, then },
    }
}

/// Every flood, the constructs of each part of the pipeline together.
pub(crate) const FLOODS: &[Flood] = &[
    // Tags that are not tags, and tags that never end.
    flood("x<y", "x<y "),
    flood("<b", "<b "),
    flood("<a", "<a"),
    flood("<x@y.z>", "<x@y.z "),
    flood("<", "<"),
    framed("x<y … >", "", "x<y ", ">"),
    flood("</", "</"),
    flood("</b", "</b "),
    // Comments and declarations.
    flood("<!--", "<!--"),
    flood("<!-- >", "<!-- >"),
    flood("<!x", "<!x"),
    flood("<?", "<?"),
    // Quotes in attributes.
    flood("<b title=\"", "<b title=\""),
    flood("<b title='", "<b title='"),
    flood("<y t=\">\"", "<y t=\">\" "),
    framed("<y a=\"<y a='", "", "<y a=\"<y a='", ">"),
    framed("<b a=<b a=…", "", "<b a=", " zz"),
    framed("<em a=\"\" ×N>", "<em ", "a=\"\" ", ">x</em>"),
    Flood {
        name: "<em a0 a1 …>",
        shape: Shape::DistinctAttributes,
    },
    // References.
    flood("&amp", "&amp"),
    flood("&#12", "&#12"),
    flood("&{", "&{"),
    flood("&amp;", "&amp;"),
    flood("£", "£"),
    // Nesting: the corrector's and html5ever's stacks, autop's blocks.
    flood("<em>", "<em>"),
    flood("<div>", "<div>"),
    halves("<em>… </strong>…", "<em>", "</strong>"),
    halves("<em>… <blockquote>…", "<em>", "<blockquote>"),
    flood("</em>", "</em>"),
    flood("<p>", "<p>"),
    flood("<pre>", "<pre>"),
    flood("<br />", "<br />"),
    flood("\\n", "\n"),
    flood("\\n \\n", "\n \n"),
    // Addresses.
    flood("www.", "www."),
    flood("-www.", "-www."),
    flood("http://", "http://"),
    flood("http:-", "http:-"),
    flood("a@b", "a@b "),
    flood("@", "@"),
    flood("a@", "a@"),
    flood("a.", "a."),
    framed("http://x.org/(((", "http://x.org/", "(", ""),
    framed("http://x.org/[[[", "http://x.org/", "[", ""),
    // Markdown.
    flood("[", "["),
    flood("*a **a", "*a **a "),
    flood("`", "`"),
    flood(">", ">"),
    flood("1. ", "1. "),
    flood("> - ", "> - "),
    flood("[x](", "[x]("),
    flood("![", "!["),
    flood("_a __a", "_a __a "),
    flood("~~", "~~"),
];

impl Flood {
    /// The flood at about `size` bytes (at least `size`, at most one unit
    /// and the tail more).
    pub(crate) fn input(&self, size: usize) -> String {
        let mut out = String::with_capacity(size + 64);
        match self.shape {
            Shape::Repeat { head, unit, tail } => {
                out.push_str(head);
                while out.len() + tail.len() < size {
                    out.push_str(unit);
                }
                out.push_str(tail);
            }
            Shape::Halves { first, then } => {
                while out.len() < size / 2 {
                    out.push_str(first);
                }
                while out.len() < size {
                    out.push_str(then);
                }
            }
            Shape::DistinctAttributes => {
                out.push_str("<em");
                let mut i = 0usize;
                while out.len() + 7 < size {
                    out.push_str(" a");
                    out.push_str(&i.to_string());
                    out.push_str("=1");
                    i += 1;
                }
                out.push_str(">x</em>");
            }
        }
        out
    }
}
