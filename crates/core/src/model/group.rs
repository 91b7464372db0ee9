//! A group of tokens: how many, at most how many classes, and optional names.

use serde::Serialize;

/// One group of tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// Number of tokens N_i (token ids are `0..tokens`).
    pub tokens: u32,
    /// Maximum number of classes K_i.
    pub classes: u32,
    /// Optional human name of the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optional human names of the tokens (one per token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_names: Option<Vec<String>>,
}

impl Group {
    /// A group with `tokens` tokens and at most `classes` classes, without names.
    pub fn new(tokens: u32, classes: u32) -> Self {
        Group {
            tokens,
            classes,
            name: None,
            token_names: None,
        }
    }
}
