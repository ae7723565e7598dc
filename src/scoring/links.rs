//! Domains for [`ScoringInput`](super::ScoringInput), from what the service
//! already has: the rendered HTML of a comment, the author's e-mail and
//! homepage.

/// Links read from one comment; a comment with more says so by its count.
pub const MAX_LINKS: usize = 256;

/// The host of every `<a href>` in rendered HTML, one per link, lowercased,
/// without `www.`. Links without a host (`mailto:`, relative) are skipped.
/// Linear in the HTML; at most [`MAX_LINKS`] links.
#[must_use]
pub fn link_domains(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<a ") {
        rest = &rest[at + 3..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        if let Some(href) = attribute(tag, "href") {
            if let Some(host) = url_domain(&href.replace("&amp;", "&")) {
                out.push(host);
                if out.len() == MAX_LINKS {
                    break;
                }
            }
        }
        rest = &rest[tag_end..];
    }
    out
}

/// The quoted value of attribute `name` in the inside of a tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
        let after = &rest[at + name.len()..];
        if before_ok {
            if let Some(value) = after.strip_prefix("=\"") {
                return value.find('"').map(|end| &value[..end]);
            }
        }
        rest = after;
    }
    None
}

/// The domain of an absolute URL (a homepage, a link), lowercased, without
/// `www.`; `None` for anything without a host.
#[must_use]
pub fn url_domain(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// The domain of an e-mail address, lowercased; `None` without an `@`.
#[must_use]
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_lowercase();
    (!domain.is_empty()).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicySet;

    #[test]
    fn domains_of_rendered_links() {
        let formats = PolicySet::bundled();
        let plain = formats.get("plain_text").expect("bundled");
        let out = plain.render(
            "see https://Casino.example/x?a=1&b=2 and www.bonus.test, \
             mail me@example.org, or <a href=\"http://typed.example\">this</a>",
        );
        // Plain text shows the typed tag as text, and links the address in it.
        assert_eq!(
            link_domains(out.html.as_str()),
            ["casino.example", "bonus.test", "typed.example"],
            "{}",
            out.html.as_str()
        );
        let markdown = formats.get("markdown").expect("bundled");
        let out = markdown
            .render("[shop](https://WWW.Shop.example/) [x](/relative) [mail](mailto:a@b.example)");
        assert_eq!(link_domains(out.html.as_str()), ["shop.example"]);
    }

    #[test]
    fn link_count_is_bounded() {
        let html = "<a href=\"http://a.example/\">a</a>".repeat(10_000);
        assert_eq!(link_domains(&html).len(), MAX_LINKS);
        assert!(link_domains("<a <a <a href=\"http").is_empty());
        assert!(link_domains("<a data-href=\"http://x.example\">").is_empty());
    }

    #[test]
    fn homepage_and_email_domains() {
        assert_eq!(
            url_domain("https://www.Example.COM./blog").as_deref(),
            Some("example.com")
        );
        assert_eq!(url_domain("not a url"), None);
        assert_eq!(url_domain("mailto:a@b.example"), None);
        assert_eq!(
            email_domain("ann@Mail.Example").as_deref(),
            Some("mail.example")
        );
        assert_eq!(email_domain("nobody"), None);
        assert_eq!(email_domain("trailing@"), None);
    }
}
