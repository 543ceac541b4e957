//! Passes typed through the wrong keyboard layout.
//!
//! A USB scanner in keyboard mode sends key codes as if on a US keyboard;
//! the computer turns them into characters with *its* layout. `SP1:` sent to
//! a German (QWERTZ) layout arrives as `SP1Ö`, to a French (AZERTY) one as
//! `SP&M`, and Base45 symbols such as `/`, `-` or `*` turn into `-`, `ß` or
//! `(`. Such a line is no pass, but the fix is in the scanner's or the
//! computer's settings, not in the pass: say so.

/// The QR alphanumeric set that Base45 (RFC 9285) writes.
const BASE45: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// How `SP1:` arrives through layouts we can name.
const KNOWN_PREFIXES: [(&str, &str); 2] =
    [("SP1Ö", "German (QWERTZ)"), ("SP&M", "French (AZERTY)")];

/// Characters a US `1` key can arrive as: itself, shifted, or on AZERTY.
const ONE_KEY: [char; 3] = ['1', '!', '&'];

/// A sentence for a line that failed to decode and looks like a pass typed
/// through another layout, or with Caps Lock on; `None` if it does not.
pub fn layout_hint(line: &str) -> Option<String> {
    let text = line.trim_matches(|c: char| c.is_ascii_whitespace());
    let fix = "set the scanner and this computer to the same keyboard layout (US), then scan again";

    for (prefix, layout) in KNOWN_PREFIXES {
        if text.starts_with(prefix) {
            return Some(format!(
                "this looks like a pass typed through a {layout} keyboard layout (it starts with `{prefix}`, not `SP1:`): {fix}"
            ));
        }
    }

    let mut chars = text.chars();
    let head: Vec<char> = chars.by_ref().take(4).collect();
    if head.len() < 4 {
        return None;
    }
    let looks_like_prefix = head[0].eq_ignore_ascii_case(&'S')
        && head[1].eq_ignore_ascii_case(&'P')
        && ONE_KEY.contains(&head[2]);
    if !looks_like_prefix {
        return None;
    }
    let prefix: String = head.iter().collect();
    let lower_case = text.chars().any(|c| c.is_ascii_lowercase());
    if lower_case && text.to_ascii_uppercase().chars().all(in_base45) {
        return Some(
            "the pass arrived in lower case: switch Caps Lock off (or set the scanner not to invert case), then scan again".into(),
        );
    }
    if head[2] != '1' || head[3] != ':' {
        return Some(format!(
            "this looks like a pass typed through a non-US keyboard layout (it starts with `{prefix}`, not `SP1:`): {fix}"
        ));
    }
    let foreign = chars.find(|&c| !in_base45(c) && (c.is_ascii_punctuation() || !c.is_ascii()))?;
    Some(format!(
        "this looks like a pass typed through a non-US keyboard layout (`{foreign}` is not a pass symbol): {fix}"
    ))
}

fn in_base45(c: char) -> bool {
    BASE45.contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = "SP1:RRQT 9 60GO07/3BTV-$G$4K8CKHQB180+M89W5$96$96736DF3FC0IDQDF3%40B5A";

    /// What a US scanner's key presses become through a German layout.
    fn through_german(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                'Y' => 'Z',
                'Z' => 'Y',
                '*' => '(',
                '+' => '`',
                '-' => 'ß',
                '/' => '-',
                ':' => 'Ö',
                c => c,
            })
            .collect()
    }

    /// ... and through a French one.
    fn through_french(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '1' => '&',
                '2' => 'é',
                '3' => '"',
                '4' => '\'',
                '5' => '(',
                '6' => '-',
                '7' => 'è',
                '8' => '_',
                '9' => 'ç',
                '0' => 'à',
                'A' => 'Q',
                'Q' => 'A',
                'Z' => 'W',
                'W' => 'Z',
                'M' => '?',
                '$' => '4',
                '%' => '5',
                '*' => '8',
                '-' => ')',
                '.' => ':',
                '/' => '!',
                ':' => 'M',
                c => c,
            })
            .collect()
    }

    #[test]
    fn names_the_layouts_it_knows() {
        let german = layout_hint(&through_german(PASS)).unwrap();
        assert!(german.contains("German (QWERTZ)"), "{german}");
        let french = layout_hint(&through_french(PASS)).unwrap();
        assert!(french.contains("French (AZERTY)"), "{french}");
    }

    #[test]
    fn notices_other_layouts_and_caps_lock() {
        let semicolon = layout_hint(&PASS.replacen(':', ";", 1)).unwrap();
        assert!(semicolon.contains("`SP1;`"), "{semicolon}");
        let symbols = layout_hint(&PASS.replace('/', "ñ")).unwrap();
        assert!(symbols.contains("`ñ`"), "{symbols}");
        let caps = layout_hint(&PASS.to_ascii_lowercase()).unwrap();
        assert!(caps.contains("Caps Lock"), "{caps}");
    }

    #[test]
    fn leaves_other_lines_alone() {
        for line in [
            "",
            "hello",
            "https://example.com/SP1:",
            "SP1:0000",
            "SP1:ZZZZ ZZZZ",
            PASS,
        ] {
            assert_eq!(layout_hint(line), None, "{line}");
        }
    }
}
