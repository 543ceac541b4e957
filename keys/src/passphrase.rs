//! Passphrases: held in zeroizing memory, and refused when weak.
//!
//! The rules are deliberately simple and explainable to a custodian at the
//! ceremony table (docs/key-ceremony.md, "Passphrases"): long enough, varied
//! enough, and none of the passwords every cracking dictionary starts with.

use std::fmt;
use thiserror::Error;
use zeroize::Zeroizing;

/// Fewest characters of any passphrase.
pub const MIN_LEN: usize = 12;
/// From this length on, a passphrase of words ("correct horse battery
/// staple") needs no digits or capitals.
pub const LONG_LEN: usize = 20;

/// A passphrase, wiped from memory when dropped. Never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Passphrase {
        Passphrase(Zeroizing::new(text))
    }

    /// The passphrase as read from a file descriptor or the environment:
    /// one trailing newline (CR LF or LF) is not part of it.
    pub fn from_line(mut text: String) -> Passphrase {
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Passphrase::new(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Refuse a weak passphrase for a new key, with the reason.
    pub fn check_strength(&self) -> Result<(), WeakPassphrase> {
        let text: &str = &self.0;
        let chars = text.chars().count();
        if chars < MIN_LEN {
            return Err(WeakPassphrase::TooShort { chars });
        }
        let lower = Zeroizing::new(text.to_lowercase());
        let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!?.@#$*".contains(c));
        if COMMON
            .iter()
            .any(|common| core == *common || lower.as_str() == *common)
        {
            return Err(WeakPassphrase::Common);
        }
        let mut distinct: Zeroizing<Vec<char>> = Zeroizing::new(text.chars().collect());
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 6 {
            return Err(WeakPassphrase::Repetitive);
        }
        let classes = [
            text.chars().any(|c| c.is_lowercase()),
            text.chars().any(|c| c.is_uppercase()),
            text.chars().any(|c| c.is_numeric()),
            text.chars().any(|c| !c.is_alphanumeric()),
        ]
        .iter()
        .filter(|&&present| present)
        .count();
        if chars < LONG_LEN && classes < 3 {
            return Err(WeakPassphrase::TooPlain { chars });
        }
        Ok(())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Why a passphrase was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WeakPassphrase {
    #[error(
        "the passphrase is too short ({chars} characters): use at least {MIN_LEN}, better a sentence of {LONG_LEN} or more"
    )]
    TooShort { chars: usize },
    #[error(
        "the passphrase is one of the most common passwords (with digits or symbols added): choose one nobody else would"
    )]
    Common,
    #[error("the passphrase repeats too few characters: use at least 6 different ones")]
    Repetitive,
    #[error(
        "the passphrase has {chars} characters of only one or two kinds: under {LONG_LEN} characters, mix at least three of lower case, upper case, digits and symbols, or use a longer sentence"
    )]
    TooPlain { chars: usize },
}

/// The start of every cracking dictionary (lower case, trailing digits and
/// symbols stripped before comparing).
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "password1",
    "qwertyuiop",
    "qwerty",
    "123456789012",
    "1234567890",
    "abc123456789",
    "iloveyou",
    "admin",
    "administrator",
    "letmein",
    "welcome",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "dragon",
    "monkey",
    "changeme",
    "trustno1",
    "p@ssw0rd",
    "p@ssword",
    "passwordpassword",
    "correct horse battery staple",
    "woaini1314",
    "woaiwojia",
    "sealpass",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), WeakPassphrase> {
        Passphrase::new(text.into()).check_strength()
    }

    #[test]
    fn weak_passphrases_are_refused_with_a_reason() {
        assert_eq!(check("Sh0rt!"), Err(WeakPassphrase::TooShort { chars: 6 }));
        assert_eq!(check("Password123456!"), Err(WeakPassphrase::Common));
        assert_eq!(check("qwertyuiop!!"), Err(WeakPassphrase::Common));
        assert_eq!(
            check("correct horse battery staple"),
            Err(WeakPassphrase::Common)
        );
        assert_eq!(check("abababababab1A"), Err(WeakPassphrase::Repetitive));
        assert_eq!(
            check("lowercaseonly"),
            Err(WeakPassphrase::TooPlain { chars: 13 })
        );
    }

    #[test]
    fn strong_passphrases_pass() {
        check("Drum-Lantern-42-river").unwrap();
        check("the yellow kite over xian bell tower").unwrap();
        check("Xian#Subway7am").unwrap();
    }

    #[test]
    fn a_trailing_newline_is_not_part_of_the_passphrase() {
        assert_eq!(Passphrase::from_line("abc\r\n".into()).expose(), "abc");
        assert_eq!(Passphrase::from_line("abc\n".into()).expose(), "abc");
        assert_eq!(
            format!("{:?}", Passphrase::new("x".into())),
            "Passphrase(<redacted>)"
        );
    }
}
