//! How a token name appears in a line for people: plain when it is plain, quoted and
//! escaped otherwise, and cut.

/// A token name as a human line shows it: as written when it is plain (no control,
/// format or separator characters), else quoted and escaped; cut at 40 characters.
pub fn shown_name(name: &str) -> String {
    let cut: String = name.chars().take(40).collect();
    let more = if cut.len() < name.len() { "..." } else { "" };
    let plain = cut.chars().all(|c| {
        !c.is_control()
            && !matches!(c, ',' | '{' | '}' | '[' | ']' | '"')
            && !('\u{200b}'..='\u{200f}').contains(&c)
            && !('\u{202a}'..='\u{202e}').contains(&c)
            && !('\u{2066}'..='\u{2069}').contains(&c)
    });
    if plain {
        format!("{cut}{more}")
    } else {
        format!("{cut:?}{more}")
    }
}
