//! Verdicts for people: a big coloured banner on a terminal, plain lines
//! elsewhere, and warnings on standard error.

use crate::verdict::Origin;
use crate::zone::Zone;
use sealpass_checkpoint::{Outcome, Verdict};
use sealpass_core::Colour;
use sealpass_core::unicode::is_invisible;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// How to show things: colour only on a terminal, and never with `NO_COLOR`
/// set (<https://no-color.org>); times in `zone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub colour: bool,
    pub terminal: bool,
    pub zone: Zone,
}

impl Style {
    pub fn detect(zone: Zone) -> Style {
        let terminal = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            colour: terminal && !no_color,
            terminal,
            zone,
        }
    }

    fn paint(self, codes: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{codes}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

const BANNER_WIDTH: usize = 44;

/// `text` with every character that could move the cursor, colour the
/// screen or reorder what is shown (`sealpass_core::unicode::is_invisible`:
/// controls such as ESC and newline, bidirectional overrides and other
/// format characters, line and paragraph separators) written as `\u{..}`:
/// a pass's text can never draw a verdict line of its own.
pub fn terminal_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            safe.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            safe.push(c);
        }
    }
    safe
}

/// The verdict as a person reads it at the gate.
pub fn render(verdict: &Verdict, origin: &Origin, style: Style) -> String {
    let mut out = String::new();
    match origin {
        Origin::Argument => {}
        Origin::Line(n) => out.push_str(&style.paint("2", &format!("line {n}\n"))),
        Origin::Image { path, symbol } => {
            let which = symbol.map_or(String::new(), |i| format!(", code {}", i + 1));
            out.push_str(&style.paint("2", &format!("{path}{which}\n")));
        }
    }
    let headline = headline(verdict);
    if style.colour {
        let codes = banner_colour(verdict);
        let blank = " ".repeat(BANNER_WIDTH);
        let padded = format!("   {headline:<width$}", width = BANNER_WIDTH - 3);
        for line in [&blank, &padded, &blank] {
            let _ = writeln!(out, "{}", style.paint(codes, line));
        }
    } else {
        let _ = writeln!(out, "{headline}");
    }
    if let Some(pass) = &verdict.pass {
        let name = terminal_safe(&pass.masked_name);
        let id = terminal_safe(&pass.masked_id);
        let _ = writeln!(out, "  name     {}", style.paint("1", &name));
        let _ = writeln!(out, "  id       {}", style.paint("1", &id));
        let _ = writeln!(out, "  vaccine  {}", pass.vaccination_line());
        let _ = writeln!(out, "  test     {}", pass.test_line());
        if verdict.outcome == Outcome::Valid {
            let _ = writeln!(out, "  checked  {}", pass.checked_line());
            let _ = writeln!(out, "  holder   {}", pass.holder_line());
            if let Some(seen) = pass.already_scanned_line() {
                let _ = writeln!(out, "  {}", style.paint("1;33", &seen));
            }
        }
        let _ = writeln!(
            out,
            "  valid    for {}, until {}",
            pass.valid_for,
            style.zone.show(pass.expires_at)
        );
        let revocation = if pass.revocation_checked {
            "revocation checked"
        } else {
            "revocation NOT checked (this checkpoint's policy accepts that: a revoked pass would pass)"
        };
        let _ = writeln!(
            out,
            "  issuer   {} (key {}), {revocation}",
            terminal_safe(&pass.issuer),
            pass.kid
        );
    }
    if let Some(reason) = &verdict.reason {
        let _ = writeln!(out, "  {}", style.paint("1", &terminal_safe(&reason.text)));
    }
    out
}

fn headline(verdict: &Verdict) -> String {
    match (verdict.outcome, &verdict.pass) {
        (Outcome::Valid, Some(pass)) => {
            format!("VALID · {}", pass.colour.name().to_ascii_uppercase())
        }
        (Outcome::Valid, None) => "VALID".into(),
        (Outcome::NotValid, _) => "NOT VALID".into(),
        (Outcome::Undecided, _) => "CANNOT DECIDE".into(),
    }
}

/// SGR codes of the banner: the pass's colour when valid, red when not,
/// grey when undecided.
fn banner_colour(verdict: &Verdict) -> &'static str {
    match (verdict.outcome, verdict.pass.as_ref().map(|p| p.colour)) {
        (Outcome::Valid, Some(Colour::Green)) => "1;97;42",
        (Outcome::Valid, Some(Colour::Yellow)) => "1;30;43",
        (Outcome::Valid, _) => "1;97;41",
        (Outcome::NotValid, _) => "1;97;41",
        (Outcome::Undecided, _) => "1;97;100",
    }
}

/// A warning on standard error, yellow on a terminal.
pub fn warn(message: &str) {
    let message = terminal_safe(message);
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if colour {
        eprintln!("\x1b[1;33mwarning:\x1b[0m {message}");
    } else {
        eprintln!("warning: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_checkpoint::PassSummary;
    use sealpass_core::{Date, HolderBinding, PolicyCheck, Seconds, Timestamp, Vaccination};

    fn valid() -> Verdict {
        Verdict {
            outcome: Outcome::Valid,
            pass: Some(PassSummary {
                colour: Colour::Yellow,
                masked_name: "张*明".into(),
                masked_id: "6101**********1234".into(),
                issuer: "CN-610100".into(),
                kid: "1f51fa5b853a9f0d".into(),
                issued_at: Timestamp(1_795_218_000),
                expires_at: Timestamp(1_795_304_400),
                valid_for: Seconds::hours(23),
                revocation_checked: false,
                vaccination: Vaccination {
                    doses: 3,
                    last_dose: Date::from_ymd(2022, 1, 15),
                },
                last_test: None,
                test_age: None,
                checked: vec![PolicyCheck::Colour(Colour::Yellow)],
                holder: HolderBinding::NotBound,
                live_code_age: None,
                already_scanned: None,
            }),
            reason: None,
        }
    }

    #[test]
    fn plain_output_has_no_escape_codes() {
        let plain = Style {
            colour: false,
            terminal: false,
            zone: Zone::Utc,
        };
        let text = render(&valid(), &Origin::Line(3), plain);
        assert!(!text.contains('\x1b'));
        assert!(text.starts_with("line 3\nVALID · YELLOW\n"), "{text}");
        assert!(text.contains("revocation NOT checked"), "{text}");
        assert!(
            text.contains(
                "  holder   NOT BOUND to a phone: compare the ID number with an identity card\n"
            ),
            "{text}"
        );
    }

    /// Finding 7 of the security review: a masked name with ANSI escapes
    /// and a newline drew a fake verdict line.
    #[test]
    fn text_from_a_pass_cannot_draw_on_the_terminal() {
        let mut verdict = valid();
        let pass = verdict.pass.as_mut().unwrap();
        pass.masked_name = "张*明\n\x1b[1;97;42m   VALID · GREEN\x1b[0m\u{202e}".into();
        pass.issuer = "CN-610100\r\u{2028}x".into();
        let plain = Style {
            colour: false,
            terminal: false,
            zone: Zone::Utc,
        };
        let text = render(&verdict, &Origin::Argument, plain);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(!text.contains('\r') && !text.contains('\u{202e}') && !text.contains('\u{2028}'));
        assert_eq!(
            text.lines().filter(|l| l.contains("VALID")).count(),
            2,
            "{text}"
        );
        assert!(text.contains(r"张*明\u{000a}\u{001b}[1;97;42m"), "{text}");
        assert_eq!(terminal_safe("张*明 6101**1234"), "张*明 6101**1234");
        // The keyboard-layout hint echoes a character of the input.
        let hint = sealpass_checkpoint::layout_hint("SP1:ABC\u{202e}DEF").unwrap();
        assert!(hint.contains('\u{202e}'));
        let undecided = Verdict::undecided("keyboard_layout", "input", hint);
        let text = render(&undecided, &Origin::Line(1), plain);
        assert!(
            !text.contains('\u{202e}') && text.contains(r"\u{202e}"),
            "{text}"
        );
    }

    #[test]
    fn terminal_output_is_a_coloured_banner_in_the_pass_colour() {
        let colour = Style {
            colour: true,
            terminal: true,
            zone: Zone::Utc,
        };
        let text = render(&valid(), &Origin::Argument, colour);
        assert!(text.starts_with("\x1b[1;30;43m"), "{text:?}");
        assert_eq!(text.matches("\x1b[1;30;43m").count(), 3);
    }
}
