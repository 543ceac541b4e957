//! A stand-in for [encoding_rs](https://docs.rs/encoding_rs/0.8) 0.8 under
//! rxing, put in its place by the workspace's `[patch.crates-io]`.
//!
//! rxing names every encoding an ECI can declare in one `match`, which kept
//! all of encoding_rs's legacy tables (Big5, GB18030, Shift_JIS, EUC-KR and
//! more) in the web verifier's wasm: 108 KB of its 247 KB download as brotli
//! (docs/performance.md, "Web verifier"). A sealpass pass is ASCII, and
//! rxing decodes ISO-8859-1, US-ASCII and UTF-32 itself. This crate keeps
//! the names rxing uses and decodes:
//! - UTF-8 and UTF-16 (both byte orders) exactly as encoding_rs does, with
//!   U+FFFD for malformed input;
//! - windows-1252 (which is also what encoding_rs means by "ascii");
//! - every other encoding only in its ASCII range: other bytes become U+FFFD
//!   and the result says it had errors, so rxing reports the text as
//!   undecodable rather than guessing.

#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// One text encoding, compared by identity as encoding_rs's are.
#[derive(Debug, PartialEq, Eq)]
pub struct Encoding {
    name: &'static str,
    kind: Kind,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Kind {
    Utf8,
    Utf16Be,
    Utf16Le,
    Windows1252,
    AsciiRangeOnly,
}

macro_rules! encodings {
    ($($name:ident = $label:literal, $kind:ident;)*) => {
        $(pub static $name: &Encoding = &Encoding { name: $label, kind: Kind::$kind };)*
    };
}

encodings! {
    UTF_8 = "UTF-8", Utf8;
    UTF_16BE = "UTF-16BE", Utf16Be;
    UTF_16LE = "UTF-16LE", Utf16Le;
    WINDOWS_1252 = "windows-1252", Windows1252;
    ISO_8859_2 = "ISO-8859-2", AsciiRangeOnly;
    ISO_8859_3 = "ISO-8859-3", AsciiRangeOnly;
    ISO_8859_4 = "ISO-8859-4", AsciiRangeOnly;
    ISO_8859_5 = "ISO-8859-5", AsciiRangeOnly;
    ISO_8859_6 = "ISO-8859-6", AsciiRangeOnly;
    ISO_8859_7 = "ISO-8859-7", AsciiRangeOnly;
    ISO_8859_8 = "ISO-8859-8", AsciiRangeOnly;
    ISO_8859_10 = "ISO-8859-10", AsciiRangeOnly;
    ISO_8859_13 = "ISO-8859-13", AsciiRangeOnly;
    ISO_8859_14 = "ISO-8859-14", AsciiRangeOnly;
    ISO_8859_15 = "ISO-8859-15", AsciiRangeOnly;
    ISO_8859_16 = "ISO-8859-16", AsciiRangeOnly;
    WINDOWS_874 = "windows-874", AsciiRangeOnly;
    WINDOWS_1250 = "windows-1250", AsciiRangeOnly;
    WINDOWS_1251 = "windows-1251", AsciiRangeOnly;
    WINDOWS_1254 = "windows-1254", AsciiRangeOnly;
    WINDOWS_1256 = "windows-1256", AsciiRangeOnly;
    SHIFT_JIS = "Shift_JIS", AsciiRangeOnly;
    BIG5 = "Big5", AsciiRangeOnly;
    GBK = "GBK", AsciiRangeOnly;
    GB18030 = "gb18030", AsciiRangeOnly;
    EUC_KR = "EUC-KR", AsciiRangeOnly;
}

/// windows-1252's bytes 0x80-0x9F; every other byte is the code point of
/// the same number. The five unassigned bytes map to C1 controls, as in
/// the WHATWG Encoding Standard.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

impl Encoding {
    /// The encoding a WHATWG label names, for the labels this crate knows.
    pub fn for_label(label: &[u8]) -> Option<&'static Encoding> {
        let label = core::str::from_utf8(label).ok()?.trim();
        let known = [
            (&["utf-8", "utf8", "unicode-1-1-utf-8"][..], UTF_8),
            (&["utf-16be"][..], UTF_16BE),
            (&["utf-16", "utf-16le"][..], UTF_16LE),
            (
                &[
                    "ascii",
                    "us-ascii",
                    "windows-1252",
                    "cp1252",
                    "latin1",
                    "iso-8859-1",
                ][..],
                WINDOWS_1252,
            ),
        ];
        known
            .into_iter()
            .find(|(labels, _)| labels.iter().any(|l| l.eq_ignore_ascii_case(label)))
            .map(|(_, encoding)| encoding)
    }

    pub fn name(&'static self) -> &'static str {
        self.name
    }

    /// `bytes` as text, and whether anything in them could not be decoded
    /// (replaced by U+FFFD).
    pub fn decode<'a>(&'static self, bytes: &'a [u8]) -> (Cow<'a, str>, &'static Encoding, bool) {
        let (text, had_errors) = match self.kind {
            Kind::Utf8 => match core::str::from_utf8(bytes) {
                Ok(text) => (Cow::Borrowed(text), false),
                Err(_) => (String::from_utf8_lossy(bytes), true),
            },
            Kind::Utf16Be => utf16(bytes, u16::from_be_bytes),
            Kind::Utf16Le => utf16(bytes, u16::from_le_bytes),
            Kind::Windows1252 => (
                Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect()),
                false,
            ),
            Kind::AsciiRangeOnly => match bytes.is_ascii() {
                true => (
                    Cow::Borrowed(core::str::from_utf8(bytes).expect("ASCII is UTF-8")),
                    false,
                ),
                false => {
                    let text = bytes
                        .iter()
                        .map(|&b| {
                            if b.is_ascii() {
                                char::from(b)
                            } else {
                                char::REPLACEMENT_CHARACTER
                            }
                        })
                        .collect();
                    (Cow::Owned(text), true)
                }
            },
        };
        (text, self, had_errors)
    }

    /// `text` in this encoding, and whether some character had no byte form
    /// (written as `?`).
    pub fn encode<'a>(&'static self, text: &'a str) -> (Cow<'a, [u8]>, &'static Encoding, bool) {
        let (bytes, had_errors) = match self.kind {
            // encoding_rs encodes to UTF-16 as UTF-8, as the WHATWG standard does.
            Kind::Utf8 | Kind::Utf16Be | Kind::Utf16Le => (Cow::Borrowed(text.as_bytes()), false),
            Kind::Windows1252 | Kind::AsciiRangeOnly => {
                let mut had_errors = false;
                let bytes: Vec<u8> = text
                    .chars()
                    .map(|c| {
                        single_byte(self.kind, c).unwrap_or_else(|| {
                            had_errors = true;
                            b'?'
                        })
                    })
                    .collect();
                (Cow::Owned(bytes), had_errors)
            }
        };
        (bytes, self, had_errors)
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> (Cow<'static, str>, bool) {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut had_errors = bytes.len() % 2 == 1;
    let mut text: String = char::decode_utf16(units)
        .map(|c| {
            c.unwrap_or_else(|_| {
                had_errors = true;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    if bytes.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    (Cow::Owned(text), had_errors)
}

fn windows_1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => WINDOWS_1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

fn single_byte(kind: Kind, c: char) -> Option<u8> {
    if c.is_ascii() {
        return Some(c as u8);
    }
    if kind != Kind::Windows1252 {
        return None;
    }
    if let Some(i) = WINDOWS_1252_HIGH.iter().position(|&high| high == c) {
        return Some(0x80 + i as u8);
    }
    u8::try_from(u32::from(c))
        .ok()
        .filter(|b| !(0x80..=0x9F).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_decodes_and_marks_malformed_input() {
        assert_eq!(
            UTF_8.decode("SP1:绿码".as_bytes()),
            (Cow::Borrowed("SP1:绿码"), UTF_8, false)
        );
        let (text, _, had_errors) = UTF_8.decode(b"a\xFFb");
        assert_eq!((text.as_ref(), had_errors), ("a\u{FFFD}b", true));
    }

    #[test]
    fn utf16_decodes_both_byte_orders() {
        assert_eq!(UTF_16BE.decode(&[0x00, 0x41, 0x7E, 0xFF]).0, "A\u{7EFF}");
        assert_eq!(UTF_16LE.decode(&[0x41, 0x00, 0xFF, 0x7E]).0, "A\u{7EFF}");
        let (text, _, had_errors) = UTF_16LE.decode(&[0x00, 0xD8, 0x41]);
        assert_eq!((text.as_ref(), had_errors), ("\u{FFFD}\u{FFFD}", true));
    }

    #[test]
    fn windows_1252_round_trips_its_high_bytes() {
        let bytes: Vec<u8> = (0x20..=0xFF).collect();
        let (text, _, had_errors) = WINDOWS_1252.decode(&bytes);
        assert!(!had_errors);
        assert!(text.starts_with(" !") && text.contains('€') && text.ends_with('ÿ'));
        assert_eq!(
            WINDOWS_1252.encode(&text),
            (Cow::Owned(bytes.clone()), WINDOWS_1252, false)
        );
        assert_eq!(WINDOWS_1252.encode("绿").0.as_ref(), b"?");
        assert_eq!(Encoding::for_label(b" ASCII "), Some(WINDOWS_1252));
        assert_eq!(Encoding::for_label(b"shift_jis"), None);
    }

    #[test]
    fn other_encodings_keep_ascii_and_report_the_rest() {
        let pass = b"SP1:6BF-D7$N0";
        assert_eq!(
            SHIFT_JIS.decode(pass),
            (Cow::Borrowed("SP1:6BF-D7$N0"), SHIFT_JIS, false)
        );
        let (text, _, had_errors) = GB18030.decode(b"A\xC2\xCC");
        assert_eq!((text.as_ref(), had_errors), ("A\u{FFFD}\u{FFFD}", true));
        assert_eq!(BIG5.encode("A绿"), (Cow::Owned(b"A?".to_vec()), BIG5, true));
    }
}
