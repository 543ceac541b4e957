//! Reading the test vectors (`tests/vectors/README.md` of sealpass-core):
//! a case file's `key: value` lines, and the bytes a value names, for the
//! checkpoints' own runs of the vectors. Reading the files is the caller's.

use std::collections::BTreeMap;

/// A case file's `key: value` lines (one space after the colon).
pub fn case_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| {
            let value = value.strip_prefix(' ').unwrap_or(value);
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// Whether a value names a fixture file (`fixtures/name.hex`) rather
/// than holding its bytes in hex.
pub fn is_fixture(value: &str) -> bool {
    value.starts_with("fixtures/")
}

/// The bytes of lowercase hex, 32 bytes to a line or all on one, with
/// `#` lines (a fixture's description) passed over.
pub fn hex_bytes(text: &str) -> Vec<u8> {
    let hex: String = text.lines().filter(|line| !line.starts_with('#')).collect();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("lowercase hex"))
        .collect()
}
