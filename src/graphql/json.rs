//! async-graphql values written as JSON: the bytes serde_json writes, with less work.
//!
//! serde_json looks at every byte of a string for one to escape, through a table, and grows
//! its buffer from 128 bytes by doubling. Our answers are mostly long strings that need no
//! escape (base64 data-URI bodies, ids, times): writing them was 5.5% of scenario 1's
//! instructions and 8.6% of scenario 2's (callgrind). [`to_vec`] sizes the buffer once from
//! the value and checks strings sixteen bytes at a time, copying clean runs whole. The unit
//! tests hold the output byte for byte to serde_json's.

use std::io::Write as _;

use async_graphql::Value;

/// `value` as JSON.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_hint(value));
    write(&mut out, value);
    out
}

/// Appends `value` as JSON to `out`.
pub fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        // serde_json's Display for a number is what its serializer writes. Writing into a
        // Vec cannot fail.
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => string(out, s),
        Value::Enum(name) => string(out, name),
        // As serde_json writes bytes: an array of numbers.
        Value::Binary(bytes) => {
            out.push(b'[');
            for (i, byte) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = write!(out, "{byte}");
            }
            out.push(b']');
        }
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, key);
                out.push(b':');
                write(out, item);
            }
            out.push(b'}');
        }
    }
}

/// About the length of `value` as JSON, so the buffer grows at most rarely. A list's items
/// are taken to be about as long as its first: the items of our lists have one shape, and
/// walking every value of a page only to size the buffer cost more (1.4% of scenario 2's
/// instructions, callgrind) than growing it once when a guess falls short.
pub fn size_hint(value: &Value) -> usize {
    match value {
        Value::Null | Value::Boolean(true) => 4,
        Value::Boolean(false) => 5,
        Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Enum(name) => name.len() + 2,
        Value::Binary(bytes) => bytes.len() * 4 + 2,
        // n items, n - 1 commas and the brackets: n.max(1) + 1 of them.
        // A quarter more than the first item's length for each: a guess that falls short
        // copies the whole buffer once it is large.
        Value::List(items) => {
            items.first().map_or(0, size_hint) * items.len() * 5 / 4 + items.len().max(1) + 1
        }
        Value::Object(fields) => {
            let each = |(k, v): (&async_graphql::Name, &Value)| k.len() + 3 + size_hint(v);
            fields.iter().map(each).sum::<usize>() + fields.len().max(1) + 1
        }
    }
}

/// Appends `s` as a JSON string.
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Nearly every string is clean, and most are short (keys, ids, enum names): one check of
    // the whole string, in words, and one copy.
    if clean(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut copied = 0;
    loop {
        let at = copied + clean_prefix(&bytes[copied..]);
        out.extend_from_slice(&bytes[copied..at]);
        let Some(escape) = bytes.get(at).and_then(|&b| escape(b)) else {
            break;
        };
        out.extend_from_slice(&escape);
        copied = at + 1;
    }
    out.push(b'"');
}

/// Whether `byte` needs an escape in a JSON string: a control character, `"` or `\`.
/// serde_json escapes these and nothing else (not DEL, not non-ASCII).
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether no byte of `bytes` needs an escape. Short strings are read as two overlapping
/// words and checked with bit tricks (SWAR), without a loop or a copy; long ones sixteen bytes
/// at a time and then their last sixteen, with no early exit, so the compiler vectorises it.
fn clean(bytes: &[u8]) -> bool {
    let n = bytes.len();
    match n {
        0..4 => bytes.iter().all(|&b| !needs_escape(b)),
        4..8 => {
            let word = |at: usize| {
                let mut w = [0; 4];
                w.copy_from_slice(&bytes[at..at + 4]);
                u64::from(u32::from_le_bytes(w)) | 0x6161_6161_0000_0000
            };
            !dirty_word(word(0)) && !dirty_word(word(n - 4))
        }
        8..=16 => {
            let word = |at: usize| {
                let mut w = [0; 8];
                w.copy_from_slice(&bytes[at..at + 8]);
                u64::from_le_bytes(w)
            };
            !dirty_word(word(0)) && !dirty_word(word(n - 8))
        }
        _ => {
            let chunks = bytes.chunks_exact(16);
            let tail = bytes[n - 16..].first_chunk::<16>().is_some_and(dirty_chunk);
            !chunks.fold(tail, |any, c| {
                any | c.first_chunk::<16>().is_some_and(dirty_chunk)
            })
        }
    }
}

/// Whether a byte of `word` needs an escape: one below 0x20 (exact for a bound up to 0x80),
/// a quote or a backslash (a zero byte after an XOR with it).
fn dirty_word(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * b'"' as u64), 1);
    let backslash = below(word ^ (ONES * b'\\' as u64), 1);
    control | quote | backslash != 0
}

/// Whether a byte of `chunk` needs an escape, with no early exit, so that the compiler makes
/// it a few vector instructions.
fn dirty_chunk(chunk: &[u8; 16]) -> bool {
    chunk.iter().fold(false, |any, &b| any | needs_escape(b))
}

/// How many bytes at the start of `bytes` need no escape. Checked sixteen at a time, with no
/// early exit inside a chunk, so that the compiler makes it a few vector instructions; the
/// last few bytes are padded with a clean one.
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(chunk) = bytes[at..].first_chunk::<16>() {
        if dirty_chunk(chunk) {
            break;
        }
        at += 16;
    }
    let rest = &bytes[at..];
    if rest.len() < 16 {
        let mut padded = [b'a'; 16];
        padded[..rest.len()].copy_from_slice(rest);
        if !dirty_chunk(&padded) {
            return bytes.len();
        }
    }
    at + rest
        .iter()
        .position(|&b| needs_escape(b))
        .unwrap_or(rest.len())
}

/// How serde_json writes `byte` in a string, when not as itself.
fn escape(byte: u8) -> Option<EscapeBytes> {
    if !needs_escape(byte) {
        return None;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = |c: u8| EscapeBytes([b'\\', c, 0, 0, 0, 0], 2);
    Some(match byte {
        b'"' => short(b'"'),
        b'\\' => short(b'\\'),
        b'\n' => short(b'n'),
        b'\r' => short(b'r'),
        b'\t' => short(b't'),
        0x08 => short(b'b'),
        0x0c => short(b'f'),
        _ => EscapeBytes(
            [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ],
            6,
        ),
    })
}

/// Up to six bytes: the first `.1` of `.0`.
struct EscapeBytes([u8; 6], usize);

impl std::ops::Deref for EscapeBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Name, indexmap::IndexMap};

    fn same_as_serde_json(value: &Value) {
        let ours = to_vec(value);
        let theirs = serde_json::to_vec(value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    fn object(fields: Vec<(&str, Value)>) -> Value {
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (Name::new(k), v))
                .collect::<IndexMap<_, _>>(),
        )
    }

    #[test]
    fn every_ascii_character_at_every_position_of_a_word_is_written_as_serde_json_writes_it() {
        // Every length from 1 to 40 covers each way `clean` reads a string.
        for len in 1..=40 {
            for byte in 0u8..128 {
                for at in 0..len {
                    let mut s = "a".repeat(len);
                    s.replace_range(at..at + 1, &char::from(byte).to_string());
                    same_as_serde_json(&Value::String(s));
                }
            }
        }
    }

    #[test]
    fn a_word_needs_an_escape_exactly_when_one_of_its_bytes_does() {
        // Each byte value at each position of a word, among bytes that need none; and next
        // to bytes around the bounds (0x1f/0x20, 0x7f/0x80, 0xff), which the bit tricks'
        // borrows could confuse.
        for fill in [b'a', 0x20, 0x21, 0x7f, 0x80, 0xff, b'"' + 1, b'\\' + 1] {
            for byte in 0..=255u8 {
                for at in 0..8 {
                    let mut word = [fill; 8];
                    word[at] = byte;
                    let expected = word.iter().any(|&b| needs_escape(b));
                    assert_eq!(dirty_word(u64::from_le_bytes(word)), expected, "{word:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in proptest::prelude::any::<String>()) {
            same_as_serde_json(&Value::String(s));
        }

        #[test]
        fn strings_dense_with_escapes_are_written_as_serde_json_writes_them(
            s in r#"[a"\\\x00-\x1f\x7f é😀]{0,40}"#
        ) {
            same_as_serde_json(&Value::String(s));
        }
    }

    #[test]
    fn every_kind_of_value_nested_is_written_as_serde_json_writes_it() {
        let value = object(vec![
            ("null", Value::Null),
            ("yes", Value::Boolean(true)),
            ("no", Value::Boolean(false)),
            ("int", Value::from(-42)),
            ("big", Value::from(u64::MAX)),
            ("small", Value::from(i64::MIN)),
            ("float", Value::from(0.1f64)),
            ("whole float", Value::from(3.0f64)),
            ("tiny", Value::from(1e-300f64)),
            ("enum", Value::Enum(Name::new("OPEN"))),
            ("bytes", Value::Binary(vec![0u8, 7, 255].into())),
            ("empty list", Value::List(vec![])),
            ("empty object", object(vec![])),
            (
                "list",
                Value::List(vec![
                    Value::from("data:text/html;base64,PHA+aGk8L3A+"),
                    object(vec![("k\"ey\n", Value::from("v\\al"))]),
                    Value::List(vec![Value::Null]),
                ]),
            ),
        ]);
        same_as_serde_json(&value);
    }

    #[test]
    fn the_size_hint_is_exact_for_a_value_without_escapes_or_lists() {
        let value = object(vec![
            ("id", Value::from("01a20efe-6a44-76a1-8633-5562bb70e534")),
            ("done", Value::Null),
        ]);
        assert_eq!(size_hint(&value), to_vec(&value).len());
        // A list is sized from its first item, with a quarter more for each.
        let list = Value::List(vec![Value::from("abcdef"), Value::from("g")]);
        assert_eq!(size_hint(&list), 2 * 8 * 5 / 4 + 3);
    }
}
