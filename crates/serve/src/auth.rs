//! Known clients: the tokens of `--token-file` and the check of a request's
//! `Authorization: Bearer TOKEN` against them.
//!
//! The file holds one token per line, `NAME TOKEN` or a bare `TOKEN` (then named
//! `line-N`, after its line); blank lines and lines starting with `#` are ignored. A
//! token is 16 to 256 printable ASCII characters without spaces; a name is 1 to 64
//! letters, digits, `.`, `_` or `-`. Names and tokens are unique. The file is read once,
//! when the server starts, and a bad one stops it with one line naming the line at fault.
//!
//! A presented token is compared with every known token, each padded to the longest
//! allowed length, byte by byte without stopping at a difference: how long the check
//! takes does not depend on which token matched or where a guess went wrong.

use crate::api::ApiError;
use crate::client::Client;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partrec_core::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The routes anyone may `GET` on a server with a token file: the page (which asks for
/// a token before it sends anything), health, and the API's description.
pub const OPEN_ROUTES: [&str; 3] = ["/", "/v1/health", "/v1/openapi.json"];

/// Fewest characters of a token.
pub const MIN_TOKEN: usize = 16;

/// Most characters of a token.
pub const MAX_TOKEN: usize = 256;

/// Most characters of a token's name.
pub const MAX_NAME: usize = 64;

/// Largest token file in bytes (1 MB); a larger one is refused.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// One known token: its name and its bytes, zero-padded to [`MAX_TOKEN`].
struct Known {
    name: String,
    padded: [u8; MAX_TOKEN],
    len: usize,
}

/// The tokens of a token file.
pub struct Tokens {
    known: Vec<Known>,
}

/// What is wrong with a token file: the line at fault (if one is) and why.
#[derive(Debug, PartialEq)]
pub struct FileError {
    /// The line at fault, counted from 1.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Tokens {
    /// The tokens of `--token-file` `path`: read once, at most [`MAX_FILE_BYTES`]; a
    /// missing, unreadable, too large or invalid file is one usage error naming the
    /// flag, the file and the line at fault.
    pub fn read(path: &Path) -> Result<Tokens> {
        let refuse =
            |what: String| Error::Usage(format!("--token-file {}: {what}", path.display()));
        let mut text = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut text))
            .map_err(|e| refuse(format!("cannot be read: {e}")))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(refuse(format!(
                "larger than {MAX_FILE_BYTES} bytes, too large for a token file"
            )));
        }
        Tokens::parse(&text).map_err(|e| match e.line {
            Some(line) => refuse(format!("line {line}: {}", e.message)),
            None => refuse(e.message),
        })
    }

    /// The tokens of a token file's contents `text`.
    pub fn parse(text: &[u8]) -> std::result::Result<Tokens, FileError> {
        let mut known = Vec::new();
        // The line of each name and of each token so far.
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            let at = |message: String| FileError {
                line: Some(number),
                message,
            };
            let line: &str = std::str::from_utf8(line)
                .map_err(|_| at("not text (UTF-8); a token is printable ASCII".into()))?
                .trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (name, token) = match fields[..] {
                [token] => (format!("line-{number}"), token),
                [name, token] => {
                    check_name(name).map_err(at)?;
                    (name.to_string(), token)
                }
                _ => {
                    return Err(at(format!(
                        "{} words; expected `NAME TOKEN` or a bare `TOKEN`",
                        fields.len()
                    )))
                }
            };
            check_token(token).map_err(at)?;
            if let Some(first) = names.get(&name) {
                return Err(at(format!(
                    "the name `{name}` is also on line {first}; names must be unique"
                )));
            }
            if let Some(first) = seen.insert(token, number) {
                return Err(at(format!(
                    "the same token as line {first}; tokens must be unique"
                )));
            }
            names.insert(name.clone(), number);
            known.push(Known::new(name, token.as_bytes()));
        }
        if known.is_empty() {
            return Err(FileError {
                line: None,
                message: "holds no token (every line is blank or a comment)".into(),
            });
        }
        Ok(Tokens { known })
    }

    /// The name of the token equal to `presented`, if one is. Every known token is
    /// compared in full, padded to [`MAX_TOKEN`] bytes, with no early exit: the time
    /// taken depends only on the number of tokens (and on the length of `presented`,
    /// which its sender knows).
    pub fn find(&self, presented: &[u8]) -> Option<&str> {
        let mut padded = [0u8; MAX_TOKEN];
        let kept = presented.len().min(MAX_TOKEN);
        padded[..kept].copy_from_slice(&presented[..kept]);
        // 1 + the index of the match; 0 for none (tokens are unique: one match at most).
        let mut found = 0usize;
        for (index, known) in self.known.iter().enumerate() {
            let mut difference = known.len ^ presented.len();
            for (a, b) in known.padded.iter().zip(&padded) {
                difference |= usize::from(a ^ b);
            }
            let difference = std::hint::black_box(difference);
            // 1 when difference == 0, else 0, without a branch.
            let equal = 1 ^ ((difference | difference.wrapping_neg()) >> (usize::BITS - 1));
            found |= equal * (index + 1);
        }
        let found = std::hint::black_box(found);
        found
            .checked_sub(1)
            .map(|index| self.known[index].name.as_str())
    }

    /// The client a request with `headers` comes from, or the 401 refusing it: no
    /// `Authorization` header, one that is not `Bearer TOKEN`, or an unknown token.
    pub fn authenticate(&self, headers: &HeaderMap) -> std::result::Result<Client, Unauthorized> {
        let mut given = headers.get_all(header::AUTHORIZATION).iter();
        let value = match (given.next(), given.next()) {
            (None, _) => {
                return Err(Unauthorized(
                    "this server needs `Authorization: Bearer TOKEN` with a token it knows".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(Unauthorized(
                    "more than one Authorization header; send one, `Bearer TOKEN`".into(),
                ))
            }
            (Some(value), None) => value,
        };
        let token = bearer_token(value)
            .ok_or_else(|| Unauthorized("the Authorization header is not `Bearer TOKEN`".into()))?;
        self.find(token)
            .map(|name| Client(name.to_string()))
            .ok_or_else(|| Unauthorized("the bearer token is not one this server knows".into()))
    }
}

impl Known {
    fn new(name: String, token: &[u8]) -> Known {
        let mut padded = [0u8; MAX_TOKEN];
        padded[..token.len()].copy_from_slice(token);
        Known {
            name,
            padded,
            len: token.len(),
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` value (the scheme in any case, one or
/// more spaces, then one word), or `None` when the value is not of that form.
fn bearer_token(value: &HeaderValue) -> Option<&[u8]> {
    let value = value.as_bytes();
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || rest.first() != Some(&b' ') {
        return None;
    }
    let token = rest.trim_ascii_start();
    let one_word = !token.is_empty() && !token.iter().any(|b| b.is_ascii_whitespace());
    one_word.then_some(token)
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(format!(
            "the name is not 1 to {MAX_NAME} letters, digits, `.`, `_` or `-`"
        ));
    }
    Ok(())
}

fn check_token(token: &str) -> std::result::Result<(), String> {
    let rule =
        format!("a token is {MIN_TOKEN} to {MAX_TOKEN} printable ASCII characters without spaces");
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "the token has a character that is not printable ASCII; {rule}"
        ));
    }
    if !(MIN_TOKEN..=MAX_TOKEN).contains(&token.len()) {
        return Err(format!("the token is {} characters; {rule}", token.len()));
    }
    Ok(())
}

/// A 401 refusal: `WWW-Authenticate: Bearer` and `{"error": ..., "field": "authorization"}`.
#[derive(Debug, PartialEq)]
pub struct Unauthorized(pub String);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let mut response =
            ApiError::new(StatusCode::UNAUTHORIZED, Some("authorization"), self.0).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbb";

    fn parsed(text: &str) -> Tokens {
        Tokens::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn refused(text: &str) -> FileError {
        match Tokens::parse(text.as_bytes()) {
            Ok(_) => panic!("{text:?} was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn names_come_from_the_file_or_the_line() {
        let text = format!("# clients\n\nalice {A}\r\n   \n  {B}  \n#{A}x\n");
        let tokens = parsed(&text);
        assert_eq!(tokens.find(A.as_bytes()), Some("alice"));
        assert_eq!(tokens.find(B.as_bytes()), Some("line-5"));
        let longest = "~".repeat(MAX_TOKEN);
        let shortest = "!".repeat(MIN_TOKEN);
        let tokens = parsed(&format!("x.Y_z-9 {longest}\n{shortest}"));
        assert_eq!(tokens.find(longest.as_bytes()), Some("x.Y_z-9"));
        assert_eq!(tokens.find(shortest.as_bytes()), Some("line-2"));
    }

    #[test]
    fn a_bad_file_names_its_line() {
        let short = "s".repeat(MIN_TOKEN - 1);
        let long = "l".repeat(MAX_TOKEN + 1);
        let cases = [
            (format!("# x\n{short}\n"), Some(2), "is 15 characters"),
            (format!("a {long}"), Some(1), "is 257 characters"),
            (format!("a {A}\n\nb {A}\n"), Some(3), "same token as line 1"),
            (format!("a {A}\na {B}\n"), Some(2), "`a` is also on line 1"),
            (
                format!("line-2 {A}\n{B}\n"),
                Some(2),
                "`line-2` is also on line 1",
            ),
            (format!("a {A} # note\n"), Some(1), "4 words"),
            (format!("al/ice {A}\n"), Some(1), "the name is not"),
            (
                format!("{} {A}\n", "n".repeat(MAX_NAME + 1)),
                Some(1),
                "the name is not",
            ),
            (format!("a {A}\u{e9}\n"), Some(1), "not printable ASCII"),
            (format!("a {A}\u{7f}\n"), Some(1), "not printable ASCII"),
            ("".into(), None, "holds no token"),
            ("# only\n\n  \n".into(), None, "holds no token"),
        ];
        for (text, line, says) in cases {
            let e = refused(&text);
            assert_eq!(e.line, line, "{text:?}: {e:?}");
            assert!(e.message.contains(says), "{text:?}: {e:?}");
            assert!(!e.message.contains(A), "a token is never shown: {e:?}");
        }
        let e = Tokens::parse(b"a aaaaaaaaaaaaaaaaa\xff\n").err().unwrap();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn a_presented_token_matches_only_itself() {
        let c = "c".repeat(MAX_TOKEN);
        let tokens = parsed(&format!("a {A}\nb {B}\nc {c}\n"));
        assert_eq!(tokens.find(A.as_bytes()), Some("a"));
        assert_eq!(tokens.find(B.as_bytes()), Some("b"));
        assert_eq!(tokens.find(c.as_bytes()), Some("c"));
        let mut first = A.as_bytes().to_vec();
        first[0] = b'x';
        let mut last = A.as_bytes().to_vec();
        *last.last_mut().unwrap() = b'x';
        let padded = [A.as_bytes(), &[0u8; 4]].concat();
        let longer = format!("{c}c");
        for wrong in [
            &first[..],
            &last[..],
            &A.as_bytes()[..A.len() - 1],
            format!("{A}a").as_bytes(),
            &padded[..],
            longer.as_bytes(),
            b"",
        ] {
            assert_eq!(
                tokens.find(wrong),
                None,
                "{:?}",
                String::from_utf8_lossy(wrong)
            );
        }
    }

    #[test]
    fn authorization_must_be_one_bearer_token() {
        let tokens = parsed(&format!("alice {A}\n"));
        let with = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            }
            tokens.authenticate(&headers)
        };
        for ok in [
            format!("Bearer {A}"),
            format!("bearer   {A}"),
            format!("BEARER {A}"),
        ] {
            assert_eq!(with(&[&ok]), Ok(Client("alice".into())), "{ok}");
        }
        for (values, says) in [
            (vec![], "needs `Authorization"),
            (vec![format!("Basic {A}")], "not `Bearer TOKEN`"),
            (vec![format!("Bearer{A}")], "not `Bearer TOKEN`"),
            (vec!["Bearer".to_string()], "not `Bearer TOKEN`"),
            (vec!["Bearer  ".to_string()], "not `Bearer TOKEN`"),
            (vec![format!("Bearer {A} {A}")], "not `Bearer TOKEN`"),
            (
                vec![format!("Bearer {A}"), format!("Bearer {A}")],
                "more than one",
            ),
            (vec![format!("Bearer {B}")], "not one this server knows"),
        ] {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let e = with(&refs).unwrap_err();
            assert!(e.0.contains(says), "{values:?}: {e:?}");
        }
        let response = with(&[]).unwrap_err().into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
