//! Sample values (`y`): JSON numbers or strings, compared as labels.
//!
//! Numbers are equal when their values are equal (`1` and `1.0` are one
//! label), strings when their text is, and a number never equals a string.
//! Booleans, null, arrays and objects are not labels.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// One sample value, kept as written (first occurrence) for output.
#[derive(Clone, Debug)]
pub enum Label {
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string.
    Text(String),
}

/// The identity of a label: two labels are the same value iff their keys are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelKey {
    /// An integral number (also `2.0`), compared exactly.
    Int(i128),
    /// A non-integral (or huge) number, by its IEEE bits (never -0.0: that is `Int(0)`).
    Float(u64),
    /// A string.
    Text(String),
}

impl Label {
    /// The key under which equal labels coincide.
    pub fn key(&self) -> LabelKey {
        match self {
            Label::Text(s) => LabelKey::Text(s.clone()),
            Label::Number(n) => {
                if let Some(i) = n.as_i64() {
                    LabelKey::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    LabelKey::Int(i128::from(u))
                } else {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    if f.fract() == 0.0 && f.abs() < 1e38 {
                        LabelKey::Int(f as i128)
                    } else {
                        LabelKey::Float(f.to_bits())
                    }
                }
            }
        }
    }
}

impl From<u64> for Label {
    fn from(v: u64) -> Self {
        Label::Number(v.into())
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
            Label::Number(n) => write!(f, "{n}"),
            Label::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Label::Number(n) => n.serialize(serializer),
            Label::Text(s) => serializer.serialize_str(s),
        }
    }
}

struct LabelVisitor;

impl<'de> Visitor<'de> for LabelVisitor {
    type Value = Label;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value y that is a JSON number or string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Label, E> {
        Ok(Label::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Label, E> {
        Ok(Label::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Label, E> {
        serde_json::Number::from_f64(v)
            .map(Label::Number)
            .ok_or_else(|| E::custom("a value y must be a finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Label, E> {
        Ok(Label::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Label, E> {
        Ok(Label::Text(v))
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
        deserializer.deserialize_any(LabelVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn non_labels_are_rejected_with_a_reason() {
        for bad in ["true", "null", "[1]", "{\"a\":1}"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("number or string"), "{bad}: {e}");
        }
    }

    #[test]
    fn labels_serialize_as_written() {
        assert_eq!(
            serde_json::to_string(&parse("1.5").unwrap()).unwrap(),
            "1.5"
        );
        assert_eq!(
            serde_json::to_string(&parse("\"b\"").unwrap()).unwrap(),
            "\"b\""
        );
    }
}
