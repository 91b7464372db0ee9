//! Sample values (`y`): JSON numbers or strings, compared as labels.
//!
//! Numbers are equal when their values are equal, exactly and at any size:
//! `1`, `1.0` and `1e0` are one label, `18446744073709551616` and
//! `18446744073709551617` are two. A number is read from its decimal text
//! (never through a float) into a normal form, sign, significant digits and a
//! power of ten, so no two different values can share a key. Strings are equal
//! when their text is, and a number never equals a string. Booleans, null,
//! arrays and objects are not labels.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// One sample value, kept as written (first occurrence) for output.
#[derive(Clone, Debug)]
pub enum Label {
    /// A JSON number, as its literal text.
    Number(Box<RawValue>),
    /// A JSON string.
    Text(String),
}

/// The identity of a label: two labels are the same value iff their keys are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelKey {
    /// A whole number below 10^18 in size (however written: `2`, `2.0`, `0.2e1`).
    Int(i64),
    /// Any other number as `sign * 0.DIGITS * 10^exponent`, with no leading or
    /// trailing zero digit.
    Number {
        /// True for a negative number.
        negative: bool,
        /// The significant digits.
        digits: String,
        /// The power of ten.
        exponent: i64,
    },
    /// A string.
    Text(String),
}

/// Whole numbers with at most this many digits are keyed as [`LabelKey::Int`].
const INT_DIGITS: usize = 18;

/// The normal form of a JSON number's text, or why it has none.
fn number_key(text: &str) -> Result<LabelKey, String> {
    // Fast path: plain integers, the common case.
    let body = text.strip_prefix('-').unwrap_or(text);
    if !body.is_empty() && body.len() <= INT_DIGITS && body.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = text
            .parse()
            .map_err(|_| format!("{text} is not a number"))?;
        return Ok(LabelKey::Int(v));
    }
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all(int) || !(frac.is_empty() || all(frac)) {
        return Err(format!("{text} is not a number"));
    }
    let written_exp: i64 = match exp {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !all(digits) {
                return Err(format!("{text} is not a number"));
            }
            e.parse().map_err(|_| {
                format!("the exponent of {text} is too large to compare the value exactly")
            })?
        }
    };
    let joined: String = int.chars().chain(frac.chars()).collect();
    let leading = joined.len() - joined.trim_start_matches('0').len();
    let digits = joined.trim_matches('0');
    if digits.is_empty() {
        return Ok(LabelKey::Int(0));
    }
    // value = 0.DIGITS * 10^(int digits before the first significant one + exponent)
    let point = int.len() as i64 - leading as i64;
    let exponent = point.checked_add(written_exp).ok_or_else(|| {
        format!("the exponent of {text} is too large to compare the value exactly")
    })?;
    if exponent >= digits.len() as i64 && exponent <= INT_DIGITS as i64 {
        // A whole number below 10^18: the same key as its plain spelling.
        let zeros = "0".repeat((exponent - digits.len() as i64) as usize);
        let v: i64 = format!("{digits}{zeros}")
            .parse()
            .expect("at most 18 digits");
        return Ok(LabelKey::Int(if negative { -v } else { v }));
    }
    Ok(LabelKey::Number {
        negative,
        digits: digits.to_string(),
        exponent,
    })
}

/// The key of a label given as JSON text (a number or a string literal).
pub fn key_of_json(text: &str) -> Result<LabelKey, String> {
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str(text)
            .map(LabelKey::Text)
            .map_err(|e| e.to_string()),
        Some(b'-' | b'0'..=b'9') => number_key(text),
        _ => Err(format!(
            "a value y must be a JSON number or string, got {}",
            short(text)
        )),
    }
}

impl Label {
    /// A number label from JSON number text (`"12"`, `"-1.5e3"`), checked.
    pub fn number(text: &str) -> Result<Label, String> {
        number_key(text)?;
        RawValue::from_string(text.to_string())
            .map(Label::Number)
            .map_err(|_| format!("{text} is not a number"))
    }

    /// The label of a finite float: the number it is exactly (every binary fraction has
    /// a finite decimal expansion), so `2^70 as f64` is the label `2^70` and `0.1` is
    /// 0.1000000000000000055511151231257827021181583404541015625, never a rounded
    /// spelling. `None` for NaN and infinities.
    pub fn from_f64(f: f64) -> Option<Label> {
        if !f.is_finite() {
            return None;
        }
        let text = if f.fract() == 0.0 {
            format!("{f:.0}")
        } else {
            // 1074 fractional digits hold the smallest subnormal exactly.
            format!("{f:.1074}").trim_end_matches('0').to_string()
        };
        Label::number(&text).ok()
    }

    /// The label written as JSON text `text` (a number or a string literal), checked.
    pub fn from_json_text(text: &str) -> Result<Label, String> {
        match key_of_json(text)? {
            LabelKey::Text(s) => Ok(Label::Text(s)),
            _ => Label::number(text),
        }
    }

    /// The label's value as a whole number, if it is one that fits in an `i128`
    /// (`2`, `2.0`, `1e3`, `18446744073709551615`); `None` for strings and fractions.
    pub fn integer(&self) -> Option<i128> {
        match self.key() {
            LabelKey::Int(v) => Some(v.into()),
            LabelKey::Number {
                negative,
                digits,
                exponent,
            } => {
                // 0.DIGITS * 10^exponent; an i128 has at most 39 digits.
                let zeros = usize::try_from(exponent)
                    .ok()
                    .filter(|&e| e <= 39)?
                    .checked_sub(digits.len())?;
                let v: i128 = format!("{digits}{}", "0".repeat(zeros)).parse().ok()?;
                Some(if negative { -v } else { v })
            }
            LabelKey::Text(_) => None,
        }
    }

    /// The key under which equal labels coincide.
    pub fn key(&self) -> LabelKey {
        match self {
            Label::Text(s) => LabelKey::Text(s.clone()),
            Label::Number(n) => number_key(n.get()).expect("labels are checked when made"),
        }
    }
}

impl From<u64> for Label {
    fn from(v: u64) -> Self {
        Label::number(&v.to_string()).expect("an integer is a number")
    }
}

impl From<&str> for Label {
    fn from(s: &str) -> Self {
        Label::Text(s.to_string())
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Number(n) => f.write_str(n.get()),
            Label::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A label's schema: a JSON number or string (what [`Label`]'s serializer writes).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Label {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Number, Type::String]))
            .description(Some(
                "A value: a JSON number or string. Numbers are equal when their values are \
                 (1, 1.0 and 1e0 are one value); a number never equals a string.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Label {}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Label::Number(n) => n.serialize(serializer),
            Label::Text(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
        const EXPECTED: &str = "a value y must be a JSON number or string";
        let raw = Box::<RawValue>::deserialize(deserializer)
            .map_err(|e| de::Error::custom(format!("{EXPECTED} ({e})")))?;
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str(text)
                .map(Label::Text)
                .map_err(de::Error::custom),
            Some(b'-' | b'0'..=b'9') => {
                number_key(text).map_err(de::Error::custom)?;
                Ok(Label::Number(raw))
            }
            _ => Err(de::Error::custom(format!(
                "{EXPECTED}, got {}",
                short(text)
            ))),
        }
    }
}

/// The start of a JSON text, for messages.
fn short(text: &str) -> String {
    let mut s: String = text.chars().take(20).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_labels_by_their_exact_value() {
        let key = |f: f64| Label::from_f64(f).unwrap().key();
        let two_70 = Label::number("1180591620717411303424").unwrap().key();
        assert_eq!(key(2f64.powi(70)), two_70);
        assert_eq!(key(1.0), Label::number("1").unwrap().key());
        assert_eq!(key(0.5), Label::number("0.5").unwrap().key());
        assert_ne!(key(0.1), Label::number("0.1").unwrap().key());
        assert_ne!(key(1e300), Label::number("1e300").unwrap().key());
        assert!(Label::from_f64(f64::MIN_POSITIVE / 4.0).is_some());
        assert!(Label::from_f64(f64::NAN).is_none() && Label::from_f64(f64::INFINITY).is_none());
    }

    fn parse(s: &str) -> Result<Label, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn numbers_compare_by_value_strings_by_text() {
        assert_eq!(parse("1").unwrap(), parse("1.0").unwrap());
        assert_eq!(parse("-0.0").unwrap(), parse("0").unwrap());
        assert_ne!(parse("1").unwrap(), parse("\"1\"").unwrap());
        assert_ne!(parse("1.5").unwrap(), parse("1").unwrap());
        assert_eq!(parse("1.5").unwrap(), parse("1.50").unwrap());
        assert_eq!(parse("\"b\"").unwrap(), parse("\"b\"").unwrap());
        assert_eq!(parse("1e2").unwrap(), parse("100").unwrap());
        assert_eq!(parse("0.001").unwrap(), parse("1E-3").unwrap());
        assert_eq!(parse("120e-1").unwrap(), parse("12").unwrap());
        assert_ne!(parse("-1").unwrap(), parse("1").unwrap());
        assert_ne!(parse("10").unwrap(), parse("1").unwrap());
    }

    #[test]
    fn numbers_compare_exactly_at_any_size() {
        assert_ne!(
            parse("18446744073709551616").unwrap(),
            parse("18446744073709551617").unwrap()
        );
        assert_eq!(
            parse("18446744073709551616").unwrap(),
            parse("1.8446744073709551616e19").unwrap()
        );
        assert_ne!(
            parse("1.00000000000000000001").unwrap(),
            parse("1").unwrap()
        );
        assert_ne!(parse("1e400").unwrap(), parse("1e401").unwrap());
        assert_eq!(parse("1e400").unwrap(), parse("10e399").unwrap());
        assert_ne!(parse("1e-400").unwrap(), parse("0").unwrap());
    }

    #[test]
    fn exponents_beyond_exact_comparison_are_refused() {
        let e = parse("1e99999999999999999999").unwrap_err().to_string();
        assert!(e.contains("too large to compare"), "{e}");
    }

    #[test]
    fn non_labels_are_rejected_with_a_reason() {
        for bad in ["true", "null", "[1]", "{\"a\":1}"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("number or string"), "{bad}: {e}");
        }
    }

    #[test]
    fn whole_numbers_read_as_integers() {
        let int = |t: &str| parse(t).unwrap().integer();
        assert_eq!(int("2.0"), Some(2));
        assert_eq!(int("-1e3"), Some(-1000));
        assert_eq!(int("18446744073709551615"), Some(u64::MAX.into()));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN.into()));
        assert_eq!(int("1.5"), None);
        assert_eq!(int("1e-3"), None);
        assert_eq!(int("1e400"), None);
        assert_eq!(int("\"1\""), None);
    }

    #[test]
    fn labels_serialize_as_written() {
        for text in ["1.5", "\"b\"", "18446744073709551617", "1E-3"] {
            assert_eq!(serde_json::to_string(&parse(text).unwrap()).unwrap(), text);
        }
        assert_eq!(Label::from(7).to_string(), "7");
        assert!(Label::number("1x").is_err());
    }
}
