//! Strict JSON reading shared by the file readers: objects must be objects
//! (serde would otherwise accept `[3, 2]` for `{"tokens": 3, "classes": 2}`),
//! a byte order mark or an empty file is named as such, and every message is
//! one line in the user's terms, never a Rust type name.

use crate::error::{Error, InputKind, Location, Result};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// A JSON object type, with the words that describe it in messages.
pub trait Described {
    /// What is expected, e.g. "an object {\"tokens\": N, \"classes\": K}".
    const EXPECTED: &'static str;
}

/// `T`, read from a JSON object only.
#[derive(Clone, Debug)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de> + Described> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct ObjVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Described> Visitor<'de> for ObjVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjVisitor(PhantomData)).map(Obj)
    }
}

/// A whole number from 0 to `u32::MAX` (a token id, a class, a colour), read with
/// a message in the user's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whole(pub u32);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct WholeVisitor;
        impl Visitor<'_> for WholeVisitor {
            type Value = Whole;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a whole number from 0 to {}", u32::MAX)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Whole, E> {
                u32::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::custom(format!("{v} is larger than {}", u32::MAX)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Whole, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!(
                        "{v} is negative; expected a whole number from 0 to {}",
                        u32::MAX
                    ))),
                }
            }
        }
        d.deserialize_u64(WholeVisitor)
    }
}

/// Rows of whole numbers (a partition: one row per group), as `u32`.
pub fn rows<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Vec<u32>>, D::Error> {
    let rows = Vec::<Vec<Whole>>::deserialize(d)?;
    Ok(rows
        .into_iter()
        .map(|r| r.into_iter().map(|w| w.0).collect())
        .collect())
}

/// Optional [`rows`].
pub fn opt_rows<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<Vec<u32>>>, D::Error> {
    #[derive(Deserialize)]
    struct Rows(#[serde(deserialize_with = "rows")] Vec<Vec<u32>>);
    Ok(Option::<Rows>::deserialize(d)?.map(|r| r.0))
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why `bytes` cannot be a text file at all (empty, or starting with a BOM), if so.
pub fn text_problem(bytes: &[u8], expected: &str) -> Option<String> {
    if bytes.starts_with(BOM) {
        Some("starts with a UTF-8 byte order mark (BOM, bytes EF BB BF); save it as UTF-8 without a BOM".into())
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        Some(format!("empty file: expected {expected}"))
    } else {
        None
    }
}

/// Parses a JSON object of type `T` from `bytes`; errors name `origin` and say
/// whether the text is not JSON at all or not the expected thing (`what`).
pub fn parse<T: DeserializeOwned + Described>(bytes: &[u8], origin: &str, what: &str) -> Result<T> {
    if let Some(problem) = text_problem(bytes, T::EXPECTED) {
        return Err(Error::input_at(origin, InputKind::Syntax, None, problem));
    }
    serde_json::from_slice::<Obj<T>>(bytes)
        .map(|o| o.0)
        .map_err(|e| parse_error(origin, what, &e))
}

/// The [`Error::Input`] for a serde error reading a `what` from `origin`: a syntax
/// error at its line and column, or a shape error at the JSON path it names.
pub fn parse_error(origin: &str, what: &str, e: &serde_json::Error) -> Error {
    let message = plain_words(&e.to_string());
    let line = Location::Line {
        line: e.line(),
        column: Some(e.column()),
    };
    let (kind, lead, at) = if e.is_syntax() || e.is_eof() {
        (InputKind::Syntax, "not valid JSON".to_string(), line)
    } else {
        let at = path_in(&message).map_or(line, Location::Path);
        (InputKind::Shape, format!("not a valid {what}"), at)
    };
    Error::input_at(origin, kind, Some(at), format!("{lead}: {message}"))
}

/// The JSON path a deserialization message is about: the path our own visitors put
/// first (`samples[3].x[1] = ...`), or the field serde names (missing or unknown field
/// `x`). serde reports errors as text; this is the one place that text is read.
fn path_in(message: &str) -> Option<String> {
    for quoted in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(quoted) {
            return rest.split_once('`').map(|(name, _)| name.to_string());
        }
    }
    let path: String = message
        .trim_start_matches('`')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '[' | ']' | '.'))
        .collect();
    let top = path.split(['.', '[']).next().unwrap_or("");
    (TOP_FIELDS.contains(&top) && !path.ends_with('.')).then_some(path)
}

/// Top-level fields of the documents partrec reads; a message starting with one names it.
const TOP_FIELDS: [&str; 13] = [
    "unique",
    "count",
    "timeout",
    "groups",
    "samples",
    "planted",
    "meta",
    "options",
    "partition",
    "witness",
    "instance",
    "solution",
    "colors",
];

/// `text` on one line (a message quoting input can contain line breaks).
pub fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// A serde message in the user's words: Rust's type names (`expected u32`,
/// `expected struct Row`) become what they mean.
pub fn plain_words(message: &str) -> String {
    const WORDS: [(&str, &str); 12] = [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        (
            "expected usize",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected a JSON string"),
        ("expected unit", "expected null"),
    ];
    let mut out = one_line(message);
    for (rust, words) in WORDS {
        // Whole words only: `expected u32` but not `expected u320...`.
        let mut from = 0;
        while let Some(i) = out[from..].find(rust).map(|i| i + from) {
            let end = i + rust.len();
            if out[end..].starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                from = end;
                continue;
            }
            out.replace_range(i..end, words);
            from = i + words.len();
        }
    }
    // `expected struct Row with 22 elements` and the like: say an object was expected.
    if let Some(i) = out.find("expected struct ") {
        let rest = &out[i + "expected struct ".len()..];
        let name_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let mut tail = &rest[name_end..];
        if let Some(t) = tail.strip_prefix(" with ") {
            tail = t
                .find(" elements")
                .map_or(tail, |j| &t[j + " elements".len()..]);
        }
        out = format!("{}expected a JSON object{tail}", &out[..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: u32,
    }
    impl Described for Pair {
        const EXPECTED: &'static str = "an object {\"a\": N}";
    }

    #[test]
    fn objects_only_and_clear_words() {
        assert_eq!(parse::<Pair>(br#"{"a": 1}"#, "f", "pair").unwrap().a, 1);
        let e = parse::<Pair>(b"[1]", "f", "pair").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "f: not a valid pair: invalid type: sequence, expected an object {\"a\": N}"
            ),
            "{e}"
        );
        let e = parse::<Pair>(b"\xEF\xBB\xBF{\"a\": 1}", "f", "pair")
            .unwrap_err()
            .to_string();
        assert!(e.contains("byte order mark"), "{e}");
        let e = parse::<Pair>(b"  \n", "f", "pair").unwrap_err().to_string();
        assert!(e.contains("empty file"), "{e}");
        let e = parse::<Pair>(b"{\"a\": ", "f", "pair")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f: not valid JSON"), "{e}");
        let e = parse::<Pair>(b"{\"a\": -1}", "f", "pair")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected a whole number from 0 to 4294967295"),
            "{e}"
        );
    }

    #[test]
    fn rust_type_names_become_words() {
        assert_eq!(
            plain_words("invalid type: string \"3\", expected u32 at line 1"),
            "invalid type: string \"3\", expected a whole number from 0 to 4294967295 at line 1"
        );
        assert_eq!(
            plain_words("invalid length 2, expected struct Row with 22 elements"),
            "invalid length 2, expected a JSON object"
        );
        assert_eq!(plain_words("expected u320x"), "expected u320x");
        assert_eq!(plain_words("a\nb"), "a b");
    }

    #[test]
    fn finds_the_path_a_message_names() {
        let cases = [
            ("samples[3].x[1] = 9: out of range", Some("samples[3].x[1]")),
            ("missing field `groups` at line 1 column 2", Some("groups")),
            ("unknown field `sampels`, expected one of", Some("sampels")),
            ("`groups` must not be empty", Some("groups")),
            ("EOF while parsing a value at line 1 column 0", None),
            ("invalid type: a string, expected a list", None),
        ];
        for (message, path) in cases {
            assert_eq!(path_in(message).as_deref(), path, "{message}");
        }
        let e = serde_json::from_str::<Vec<u32>>("[1,").unwrap_err();
        assert!(matches!(
            parse_error("f", "list", &e),
            Error::Input {
                kind: InputKind::Syntax,
                at: Some(Location::Line { line: 1, .. }),
                ..
            }
        ));
    }
}
