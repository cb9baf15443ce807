//! The rules every free-text field of an operation obeys, checked by the
//! protocol itself: a refused text is a failed receipt naming the field and
//! the character, never a record that some reader cannot store or show.
//!
//! - No control characters: C0 (U+0000 to U+001F, NUL included), DEL and C1
//!   (U+0080 to U+009F). Multi-line fields (descriptions, perks) may hold
//!   line feeds (U+000A) and nothing else of C0.
//! - No bidirectional embedding, override or isolate characters (U+202A to
//!   U+202E, U+2066 to U+2069), which can make a name read as another.
//! - No noncharacters (U+FDD0 to U+FDEF, and U+xFFFE, U+xFFFF in every
//!   plane), which XML and therefore feeds cannot carry.
//! - URL fields hold an `http://` or `https://` URL made of the characters
//!   RFC 3986 allows (letters, digits, `-._~:/?#[]@!$&'()*+,;=` and `%`),
//!   with a host and no user part (`https://a@b` is refused: it reads as
//!   `a` and goes to `b`). Other characters are percent-encoded, and
//!   international domain names written in their `xn--` form.

use thiserror::Error;

use crate::escrow::ProjectOperation;
use crate::operation::Operation;

/// What is wrong with a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TextProblem {
    /// A control character.
    #[error("holds the control character {}", code_point(*.0))]
    Control(char),
    /// A line feed in a one-line field.
    #[error("holds a line break; it is one line")]
    LineBreak,
    /// A bidirectional embedding, override or isolate character.
    #[error("holds the bidirectional formatting character {}", code_point(*.0))]
    Bidi(char),
    /// A Unicode noncharacter.
    #[error("holds the noncharacter {}", code_point(*.0))]
    Noncharacter(char),
    /// A URL field whose text is not an acceptable URL.
    #[error(
        "is not an http:// or https:// URL of RFC 3986 characters with a host and no user part"
    )]
    NotUrl,
}

/// A refused field: which one and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the {field} {problem}")]
pub struct TextRefusal {
    /// The field, in words ("profile name").
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: TextProblem,
}

/// `U+00AB` form of a character.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The kinds of text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A name, title or memo: one line.
    Line,
    /// A description or perks: line feeds allowed.
    Lines,
    /// An http(s) URL.
    Url,
}

/// Checks one character against the rules shared by every kind of field.
fn check_char(c: char, kind: Field) -> Result<(), TextProblem> {
    let n = u32::from(c);
    if c == '\n' {
        return match kind {
            Field::Lines => Ok(()),
            Field::Line | Field::Url => Err(TextProblem::LineBreak),
        };
    }
    if n < 0x20 || (0x7f..=0x9f).contains(&n) {
        return Err(TextProblem::Control(c));
    }
    if (0x202a..=0x202e).contains(&n) || (0x2066..=0x2069).contains(&n) {
        return Err(TextProblem::Bidi(c));
    }
    if (0xfdd0..=0xfdef).contains(&n) || n & 0xfffe == 0xfffe {
        return Err(TextProblem::Noncharacter(c));
    }
    Ok(())
}

/// Whether `s` is an acceptable URL: `http://` or `https://`, RFC 3986's
/// characters only, a non-empty host, no `user@` part.
fn is_url(s: &str) -> bool {
    let rest = match s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        Some(rest) => rest,
        None => return false,
    };
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b);
    if !s.bytes().all(allowed) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    !host.is_empty() && !authority.contains('@')
}

/// Checks one field's text against its kind's rules.
pub fn check(field: &'static str, kind: Field, s: &str) -> Result<(), TextRefusal> {
    let refuse = |problem| TextRefusal { field, problem };
    for c in s.chars() {
        check_char(c, kind).map_err(refuse)?;
    }
    if kind == Field::Url && !is_url(s) {
        return Err(refuse(TextProblem::NotUrl));
    }
    Ok(())
}

/// Checks every text field an operation carries.
pub fn check_operation(op: &Operation) -> Result<(), TextRefusal> {
    match op {
        Operation::Tip { memo, .. } => check("tip memo", Field::Line, memo.as_str()),
        Operation::SetProfile { profile } => {
            check("profile name", Field::Line, profile.name.as_str())?;
            check(
                "profile description",
                Field::Lines,
                profile.description.as_str(),
            )?;
            profile
                .links
                .items()
                .iter()
                .try_for_each(|link| check("profile link", Field::Url, link.as_str()))
        }
        Operation::AddTier { title, perks, .. } => {
            check("tier title", Field::Line, title.as_str())?;
            check("tier perks", Field::Lines, perks.as_str())
        }
        Operation::Project { op } => check_project(op),
        Operation::Pledge { .. }
        | Operation::ChangePledge { .. }
        | Operation::PausePledge { .. }
        | Operation::ResumePledge { .. }
        | Operation::CancelPledge { .. }
        | Operation::Transfer { .. }
        | Operation::Withdraw { .. }
        | Operation::RetireTier { .. }
        | Operation::PauseCreator
        | Operation::ResumeCreator => Ok(()),
    }
}

fn check_project(op: &ProjectOperation) -> Result<(), TextRefusal> {
    match op {
        ProjectOperation::Create {
            title,
            description,
            link,
            ..
        } => {
            check("project title", Field::Line, title.as_str())?;
            check("project description", Field::Lines, description.as_str())?;
            link.as_ref()
                .map_or(Ok(()), |l| check("project link", Field::Url, l.as_str()))
        }
        ProjectOperation::OpenTicket { title, url, .. } => {
            check("ticket title", Field::Line, title.as_str())?;
            url.as_ref()
                .map_or(Ok(()), |u| check("ticket URL", Field::Url, u.as_str()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Result<(), TextProblem> {
        check("name", Field::Line, s).map_err(|r| r.problem)
    }

    #[test]
    fn printable_text_of_any_script_passes() {
        for s in [
            "",
            "Ada",
            "Ça va — 東京 ✓",
            "مرحبا",
            "a\u{200f}b",
            "\u{1f600}",
        ] {
            assert_eq!(line(s), Ok(()), "{s:?}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for c in [
            '\0', '\t', '\r', '\u{b}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}',
        ] {
            assert_eq!(line(&format!("a{c}b")), Err(TextProblem::Control(c)));
        }
    }

    #[test]
    fn line_feeds_only_in_multi_line_fields() {
        assert_eq!(line("a\nb"), Err(TextProblem::LineBreak));
        assert_eq!(check("perks", Field::Lines, "a\nb"), Ok(()));
        assert_eq!(
            check("perks", Field::Lines, "a\r\nb").map_err(|r| r.problem),
            Err(TextProblem::Control('\r'))
        );
    }

    #[test]
    fn bidi_formatting_is_refused() {
        for c in ['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}'] {
            assert_eq!(line(&format!("a{c}b")), Err(TextProblem::Bidi(c)));
        }
    }

    #[test]
    fn noncharacters_are_refused() {
        for c in ['\u{fdd0}', '\u{fdef}', '\u{fffe}', '\u{ffff}', '\u{10ffff}'] {
            assert_eq!(line(&format!("{c}")), Err(TextProblem::Noncharacter(c)));
        }
        assert_eq!(line("\u{fffd}"), Ok(()));
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_user() {
        let url = |s: &str| check("link", Field::Url, s).map_err(|r| r.problem);
        for ok in [
            "https://example.org",
            "http://example.org:8080/a?b=c#d",
            "https://xn--bcher-kva.example/%C3%A9",
            "https://example.org/?q='a'&b=(c)",
        ] {
            assert_eq!(url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "example.org",
            "ftp://example.org",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://github.com@evil.example/",
            "https://exa mple.org",
            "https://bücher.example",
            "HTTPS://example.org",
            "https://example.org/\"><script>",
            "https://example.org/a b",
            "https://example.org/{x}",
        ] {
            assert_eq!(url(bad), Err(TextProblem::NotUrl), "{bad}");
        }
    }

    #[test]
    fn the_refusal_names_the_field_and_the_character() {
        let refusal = check("profile name", Field::Line, "a\0").unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the profile name holds the control character U+0000"
        );
    }
}
