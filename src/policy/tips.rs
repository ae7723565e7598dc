//! Tips for commenters, generated from the filters' settings.
//!
//! Short tips are the one-liners under the comment box; for the bundled
//! Drupal formats they are Drupal's texts word for word. Long tips explain
//! the same rules in more detail for a help page. Both are plain text: the
//! caller escapes them when putting them into HTML.

use crate::filter::{Disallowed, Filter, Pipeline};

/// What each allowed tag is for, used in the long tips.
const TAG_HELP: &[(&str, &str)] = &[
    ("a", "a link: <a href=\"https://example.com\">text</a>"),
    ("b", "bold text"),
    (
        "blockquote",
        "a quotation: <blockquote>quoted text</blockquote>",
    ),
    (
        "br",
        "a line break inside a paragraph: first line<br>second line",
    ),
    ("cite", "the title of a work"),
    ("code", "code: <code>x = 1</code>"),
    ("del", "deleted text"),
    ("em", "emphasis, usually shown in italics: <em>word</em>"),
    ("h1", "a heading"),
    ("h2", "a heading"),
    ("h3", "a heading"),
    ("h4", "a heading"),
    ("h5", "a heading"),
    ("h6", "a heading"),
    ("hr", "a horizontal rule"),
    ("i", "italic text"),
    ("li", "a list item"),
    ("ol", "a numbered list"),
    ("p", "a paragraph: <p>text</p>"),
    ("pre", "preformatted text"),
    ("q", "a short inline quotation"),
    (
        "strong",
        "strong importance, usually shown in bold: <strong>word</strong>",
    ),
    ("ul", "a bulleted list"),
];

pub(super) fn generate(pipeline: &Pipeline) -> (Vec<String>, Vec<String>) {
    let mut short = Vec::new();
    let mut long = Vec::new();
    for filter in pipeline.filters() {
        match filter {
            Filter::HtmlEscape(_) => {
                short.push("No HTML tags allowed.".to_owned());
                long.push(
                    "No HTML tags allowed: everything you type is shown exactly as typed, \
                     including < and > and anything between them."
                        .to_owned(),
                );
            }
            Filter::Html(f) => {
                let tags: Vec<&str> = f.allow.tag_names().collect();
                let list: Vec<String> = tags.iter().map(|t| format!("<{t}>")).collect();
                if tags.is_empty() {
                    short.push("No HTML tags allowed.".to_owned());
                } else {
                    short.push(format!("Allowed HTML tags: {}", list.join(" ")));
                }
                let mut text = if tags.is_empty() {
                    "No HTML tags allowed.".to_owned()
                } else {
                    format!("Allowed HTML tags: {}.", list.join(" "))
                };
                for tag in &tags {
                    if let Some((_, help)) = TAG_HELP.iter().find(|(t, _)| t == tag) {
                        text.push_str(&format!(" <{tag}> makes {help}."));
                    }
                }
                text.push_str(match f.disallowed {
                    Disallowed::Strip => " Other tags are removed; the text inside them stays.",
                    Disallowed::Escape => " Other tags are shown as you typed them.",
                });
                text.push_str(
                    " To show a character that means something in HTML, type its entity: \
                     &amp; for &, &lt; for <, &gt; for >.",
                );
                long.push(text);
            }
            Filter::Url(f) => {
                short.push(if f.emails {
                    "Web page addresses and e-mail addresses turn into links automatically."
                        .to_owned()
                } else {
                    "Web page addresses turn into links automatically.".to_owned()
                });
                let mut text = if f.emails {
                    "Web page addresses (starting with http://, https://, ftp:// or www.) and e-mail \
                     addresses turn into links automatically."
                        .to_owned()
                } else {
                    "Web page addresses (starting with http://, https://, ftp:// or www.) turn into \
                     links automatically."
                        .to_owned()
                };
                if f.max_display_length > 0 {
                    text.push_str(&format!(
                        " Addresses longer than {} characters are shortened in the link text.",
                        f.max_display_length
                    ));
                }
                if let Some(rel) = &f.rel {
                    text.push_str(&format!(" Links are marked rel=\"{rel}\"."));
                }
                long.push(text);
            }
            Filter::Autop(_) => {
                short.push("Lines and paragraphs break automatically.".to_owned());
                long.push(
                    "Lines and paragraphs break automatically: a blank line starts a new paragraph \
                     and a single line break stays a line break. You never need to type <p> or <br> \
                     yourself."
                        .to_owned(),
                );
            }
            Filter::Markdown(_) => {
                short.push(
                    "Format with Markdown: *emphasis*, **strong**, `code`, > quotes, [links](https://example.com)."
                        .to_owned(),
                );
                long.push(
                    "Format with Markdown (CommonMark): *emphasis* or _emphasis_, **strong**, `code`, \
                     a blank line between paragraphs, > at the start of a line for a quotation, \
                     - or 1. for lists, four spaces or ``` fences for code blocks, and \
                     [link text](https://example.com) for links."
                        .to_owned(),
                );
            }
            Filter::HtmlCorrector(_) => {}
        }
    }
    (short, long)
}
