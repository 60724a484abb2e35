//! Message bodies as people read them. Bodies may arrive as `data:` URIs (the spec's samples
//! send `data:text/plain;base64,PHA+MTExPC9wPg==`) and as HTML; search and language
//! detection work on the decoded, tag-free text.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// The readable text of a body: a `data:` URI decoded, HTML tags and entities removed.
pub fn plain_text(body: &str) -> String {
    let decoded = decode_data_uri(body).unwrap_or_else(|| body.to_owned());
    if decoded.contains('<') {
        strip_html(&decoded)
    } else {
        decoded
    }
}

/// The content of a `data:[<type>][;base64],<data>` URI, or `None` if `s` is not one.
pub fn decode_data_uri(s: &str) -> Option<String> {
    let rest = s.trim_start().strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    if meta.split(';').any(|p| p.eq_ignore_ascii_case("base64")) {
        let clean: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = STANDARD
            .decode(&clean)
            .or_else(|_| STANDARD_NO_PAD.decode(clean.trim_end_matches('=')))
            .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        Some(percent_decode(data))
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && s.is_char_boundary(i + 1)
            && s.is_char_boundary(i + 3)
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Tags become spaces (so words either side stay apart); common entities are decoded.
fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `PENDING_INTERNAL` -> `pendingInternal`: GraphQL's enum spelling to the spec's. Empty parts
/// (from `__`) add nothing.
pub fn camel_case(screaming_snake: &str) -> String {
    // One pass and one allocation: the REST shim spells every enum of every ticket it
    // answers through here.
    let mut out = String::with_capacity(screaming_snake.len());
    let mut word_start = false;
    for c in screaming_snake.chars() {
        if c == '_' {
            word_start = true;
        } else if word_start {
            out.push(c.to_ascii_uppercase());
            word_start = false;
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_sample_body_reads_as_its_text() {
        assert_eq!(plain_text("data:text/plain;base64,PHA+MTExPC9wPg=="), "111");
        assert_eq!(
            decode_data_uri("data:text/plain;base64,PHA+MTExPC9wPg==").unwrap(),
            "<p>111</p>"
        );
    }

    #[test]
    fn plain_bodies_html_and_percent_uris_are_read_too() {
        assert_eq!(plain_text("just words"), "just words");
        assert_eq!(
            plain_text("<p>Fish &amp; chips</p><p>please</p>"),
            "Fish & chips please"
        );
        assert_eq!(plain_text("data:,Hello%20world"), "Hello world");
        assert_eq!(
            plain_text("data:text/plain;base64,SGk"),
            "Hi",
            "missing padding is tolerated"
        );
        assert_eq!(decode_data_uri("not a uri"), None);
    }

    proptest::proptest! {
        #[test]
        fn camel_case_joins_the_words_between_underscores(s in "[A-Za-z0-9_]{0,24}") {
            // The definition, word by word: the first lowercased, each other capitalised.
            let words = s.split('_').enumerate().map(|(i, word)| {
                let lower = word.to_ascii_lowercase();
                match (i, lower.chars().next()) {
                    (0, _) | (_, None) => lower,
                    (_, Some(first)) => first.to_ascii_uppercase().to_string() + &lower[1..],
                }
            });
            proptest::prop_assert_eq!(camel_case(&s), words.collect::<String>());
        }
    }
}
