//! A strict, zero-copy CBOR (RFC 8949) profile for everything sealpass reads.
//!
//! General-purpose CBOR libraries accept what a verifier must not: indefinite
//! lengths, duplicate map keys, several encodings of one value. sealpass reads
//! a deliberately small profile (see docs/format.md, "CBOR profile"):
//!
//! - definite lengths only; integers and lengths in their shortest form;
//! - no floats and no simple values other than `false`, `true`, `null`;
//! - text is valid UTF-8; map keys are unique;
//! - nesting is capped, and exactly one item fills the input (no trailing bytes).
//!
//! Decoding never allocates more than the input could hold: a length is only
//! trusted as far as the bytes left can back it, and room is reserved for at
//! most [`MAX_PREALLOCATED`] elements ahead of reading them, so memory grows
//! with the items actually read, never with the lengths claimed (nested
//! headers claiming the whole input each once reserved room for all of it).
//! Hostile lengths cannot exhaust memory, and no input can panic.

use thiserror::Error;

/// Why bytes are not CBOR in the sealpass profile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CborError {
    #[error("the CBOR ends in the middle of an item")]
    Truncated,
    #[error("{0} bytes follow the CBOR item")]
    TrailingBytes(usize),
    #[error("indefinite-length CBOR items are not allowed")]
    IndefiniteLength,
    #[error("CBOR nesting deeper than {0} levels")]
    TooDeep(usize),
    #[error("a CBOR map repeats a key")]
    DuplicateMapKey,
    #[error("a CBOR integer or length is not in its shortest form")]
    NonCanonicalInteger,
    #[error("reserved CBOR additional information {0}")]
    Reserved(u8),
    #[error("CBOR floats and simple values other than true, false and null are not used")]
    UnsupportedSimple,
    #[error("CBOR text is not valid UTF-8")]
    InvalidUtf8,
    #[error("more than {0} CBOR items")]
    TooManyItems(usize),
}

impl CborError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            CborError::Truncated => "cbor_truncated",
            CborError::TrailingBytes(_) => "cbor_trailing_bytes",
            CborError::IndefiniteLength => "cbor_indefinite_length",
            CborError::TooDeep(_) => "cbor_too_deep",
            CborError::DuplicateMapKey => "cbor_duplicate_key",
            CborError::NonCanonicalInteger => "cbor_non_canonical",
            CborError::Reserved(_) => "cbor_reserved",
            CborError::UnsupportedSimple => "cbor_unsupported_simple",
            CborError::InvalidUtf8 => "cbor_invalid_utf8",
            CborError::TooManyItems(_) => "cbor_too_many_items",
        }
    }
}

/// One decoded CBOR item, borrowing byte and text strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is `-1 - n`.
    Negative(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Item<'a>>),
    Map(Vec<(Item<'a>, Item<'a>)>),
    Tag(u64, Box<Item<'a>>),
    Bool(bool),
    Null,
}

impl Item<'_> {
    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Item::Unsigned(n) => i64::try_from(n).ok(),
            Item::Negative(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// A short name of the item's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Unsigned(_) | Item::Negative(_) => "integer",
            Item::Bytes(_) => "byte string",
            Item::Text(_) => "text",
            Item::Array(_) => "array",
            Item::Map(_) => "map",
            Item::Tag(..) => "tag",
            Item::Bool(_) => "boolean",
            Item::Null => "null",
        }
    }
}

/// Most array elements or map entries reserved before they are read.
pub const MAX_PREALLOCATED: usize = 64;

/// Most items one document may hold. A decoded item takes some 40 bytes, so
/// this bounds the memory a document can make the decoder allocate (about
/// 2.6 MiB), whatever its size: a status list's unprotected header cannot
/// hold 16 million integers. The largest legitimate document, a trust list,
/// takes about ten items per issuer key.
pub const MAX_ITEMS: usize = 65_536;

/// Decode exactly one item filling all of `input`, nested at most
/// `max_depth` deep, of at most [`MAX_ITEMS`] items.
pub fn decode(input: &[u8], max_depth: usize) -> Result<Item<'_>, CborError> {
    let mut reader = Reader {
        input,
        pos: 0,
        items_left: MAX_ITEMS,
    };
    let item = reader.item(max_depth, max_depth)?;
    match input.len() - reader.pos {
        0 => Ok(item),
        n => Err(CborError::TrailingBytes(n)),
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    items_left: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let bytes = self.input.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Read an initial byte's argument in its shortest form.
    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        let (value, min) = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => (u64::from(self.take(1)?[0]), 24),
            25 => (u64::from(u16::from_be_bytes(self.array()?)), 0x100),
            26 => (u64::from(u32::from_be_bytes(self.array()?)), 0x1_0000),
            27 => (u64::from_be_bytes(self.array()?), 0x1_0000_0000),
            31 => return Err(CborError::IndefiniteLength),
            _ => return Err(CborError::Reserved(info)),
        };
        if value < min {
            return Err(CborError::NonCanonicalInteger);
        }
        Ok(value)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CborError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A length that must fit in the rest of the input (each element takes at
    /// least `min_item_size` bytes), so allocation is bounded by input size.
    fn length(&mut self, info: u8, min_item_size: usize) -> Result<usize, CborError> {
        let len = self.argument(info)?;
        let len = usize::try_from(len).map_err(|_| CborError::Truncated)?;
        if len.saturating_mul(min_item_size) > self.remaining() {
            return Err(CborError::Truncated);
        }
        Ok(len)
    }

    fn item(&mut self, depth_left: usize, max_depth: usize) -> Result<Item<'a>, CborError> {
        self.items_left = self
            .items_left
            .checked_sub(1)
            .ok_or(CborError::TooManyItems(MAX_ITEMS))?;
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        let nested = |depth_left: usize| {
            depth_left
                .checked_sub(1)
                .ok_or(CborError::TooDeep(max_depth))
        };
        Ok(match major {
            0 => Item::Unsigned(self.argument(info)?),
            1 => Item::Negative(self.argument(info)?),
            2 => {
                let len = self.length(info, 1)?;
                Item::Bytes(self.take(len)?)
            }
            3 => {
                let len = self.length(info, 1)?;
                let text =
                    std::str::from_utf8(self.take(len)?).map_err(|_| CborError::InvalidUtf8)?;
                Item::Text(text)
            }
            4 => {
                let len = self.length(info, 1)?;
                let depth = nested(depth_left)?;
                let mut items = Vec::with_capacity(len.min(MAX_PREALLOCATED));
                for _ in 0..len {
                    items.push(self.item(depth, max_depth)?);
                }
                Item::Array(items)
            }
            5 => {
                let len = self.length(info, 2)?;
                let depth = nested(depth_left)?;
                let mut entries = Vec::with_capacity(len.min(MAX_PREALLOCATED));
                let mut key_spans = Vec::with_capacity(len.min(MAX_PREALLOCATED));
                for _ in 0..len {
                    let start = self.pos;
                    let key = self.item(depth, max_depth)?;
                    key_spans.push(&self.input[start..self.pos]);
                    let value = self.item(depth, max_depth)?;
                    entries.push((key, value));
                }
                // Shortest-form encoding makes equal keys byte-identical.
                key_spans.sort_unstable();
                if key_spans.windows(2).any(|pair| pair[0] == pair[1]) {
                    return Err(CborError::DuplicateMapKey);
                }
                Item::Map(entries)
            }
            6 => {
                let tag = self.argument(info)?;
                let depth = nested(depth_left)?;
                Item::Tag(tag, Box::new(self.item(depth, max_depth)?))
            }
            _ => match info {
                20 => Item::Bool(false),
                21 => Item::Bool(true),
                22 => Item::Null,
                31 => return Err(CborError::IndefiniteLength),
                28..=30 => return Err(CborError::Reserved(info)),
                _ => return Err(CborError::UnsupportedSimple),
            },
        })
    }
}

/// Writes CBOR in shortest form: what sealpass signs.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn with_capacity(capacity: usize) -> Self {
        Encoder {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn head(&mut self, major: u8, value: u64) -> &mut Self {
        let major = major << 5;
        match value {
            0..=23 => self.buf.push(major | value as u8),
            24..=0xff => self.buf.extend_from_slice(&[major | 24, value as u8]),
            0x100..=0xffff => {
                self.buf.push(major | 25);
                self.buf.extend_from_slice(&(value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.buf.push(major | 26);
                self.buf.extend_from_slice(&(value as u32).to_be_bytes());
            }
            _ => {
                self.buf.push(major | 27);
                self.buf.extend_from_slice(&value.to_be_bytes());
            }
        }
        self
    }

    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.head(0, value)
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        if value >= 0 {
            self.head(0, value as u64)
        } else {
            self.head(1, (-1 - value) as u64)
        }
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.head(2, value.len() as u64);
        self.buf.extend_from_slice(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.head(3, value.len() as u64);
        self.buf.extend_from_slice(value.as_bytes());
        self
    }

    pub fn array(&mut self, len: usize) -> &mut Self {
        self.head(4, len as u64)
    }

    pub fn map(&mut self, len: usize) -> &mut Self {
        self.head(5, len as u64)
    }

    pub fn tag(&mut self, tag: u64) -> &mut Self {
        self.head(6, tag)
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.buf.push(if value { 0xf5 } else { 0xf4 });
        self
    }

    /// Append bytes that are already CBOR.
    pub fn raw(&mut self, cbor: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(cbor);
        self
    }
}

/// Reads a map with integer keys field by field, so that every key is either
/// understood or reported: sealpass v1 documents carry no unknown fields.
pub struct Fields<'a> {
    entries: Vec<(i64, Item<'a>)>,
}

/// Why a map's fields are not what a document expects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FieldError {
    #[error("expected a map, found {0}")]
    NotAMap(&'static str),
    #[error("map key is not an integer")]
    NonIntegerKey,
    #[error("field {0} is missing")]
    Missing(i64),
    #[error("field {key} has the wrong type: expected {expected}")]
    WrongType { key: i64, expected: &'static str },
    #[error("field {key} is out of range")]
    OutOfRange { key: i64 },
    #[error("unknown field {0}")]
    Unknown(i64),
}

impl<'a> Fields<'a> {
    pub fn new(item: Item<'a>) -> Result<Self, FieldError> {
        let Item::Map(map) = item else {
            return Err(FieldError::NotAMap(item.kind()));
        };
        let entries = map
            .into_iter()
            .map(|(key, value)| Ok((key.as_i64().ok_or(FieldError::NonIntegerKey)?, value)))
            .collect::<Result<_, FieldError>>()?;
        Ok(Fields { entries })
    }

    pub fn take(&mut self, key: i64) -> Option<Item<'a>> {
        let index = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.swap_remove(index).1)
    }

    pub fn require(&mut self, key: i64) -> Result<Item<'a>, FieldError> {
        self.take(key).ok_or(FieldError::Missing(key))
    }

    pub fn uint(&mut self, key: i64) -> Result<u64, FieldError> {
        match self.require(key)? {
            Item::Unsigned(n) => Ok(n),
            _ => Err(FieldError::WrongType {
                key,
                expected: "unsigned integer",
            }),
        }
    }

    pub fn opt_uint(&mut self, key: i64) -> Result<Option<u64>, FieldError> {
        match self.take(key) {
            None => Ok(None),
            Some(Item::Unsigned(n)) => Ok(Some(n)),
            Some(_) => Err(FieldError::WrongType {
                key,
                expected: "unsigned integer",
            }),
        }
    }

    pub fn int(&mut self, key: i64) -> Result<i64, FieldError> {
        self.require(key)?.as_i64().ok_or(FieldError::WrongType {
            key,
            expected: "integer",
        })
    }

    pub fn text(&mut self, key: i64) -> Result<&'a str, FieldError> {
        match self.require(key)? {
            Item::Text(text) => Ok(text),
            _ => Err(FieldError::WrongType {
                key,
                expected: "text",
            }),
        }
    }

    pub fn opt_text(&mut self, key: i64) -> Result<Option<&'a str>, FieldError> {
        match self.take(key) {
            None => Ok(None),
            Some(Item::Text(text)) => Ok(Some(text)),
            Some(_) => Err(FieldError::WrongType {
                key,
                expected: "text",
            }),
        }
    }

    pub fn bytes(&mut self, key: i64) -> Result<&'a [u8], FieldError> {
        match self.require(key)? {
            Item::Bytes(bytes) => Ok(bytes),
            _ => Err(FieldError::WrongType {
                key,
                expected: "byte string",
            }),
        }
    }

    pub fn array(&mut self, key: i64) -> Result<Vec<Item<'a>>, FieldError> {
        match self.require(key)? {
            Item::Array(items) => Ok(items),
            _ => Err(FieldError::WrongType {
                key,
                expected: "array",
            }),
        }
    }

    /// Fail on the first field nobody took.
    pub fn finish(self) -> Result<(), FieldError> {
        match self.entries.first() {
            None => Ok(()),
            Some((key, _)) => Err(FieldError::Unknown(*key)),
        }
    }
}

/// Narrow an integer field to a smaller type.
pub fn narrow<T: TryFrom<u64>>(key: i64, value: u64) -> Result<T, FieldError> {
    T::try_from(value).map_err(|_| FieldError::OutOfRange { key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_rfc8949_examples() {
        assert_eq!(decode(&hex("00"), 4), Ok(Item::Unsigned(0)));
        assert_eq!(decode(&hex("1903e8"), 4), Ok(Item::Unsigned(1000)));
        assert_eq!(decode(&hex("3863"), 4).unwrap().as_i64(), Some(-100));
        assert_eq!(decode(&hex("6449455446"), 4), Ok(Item::Text("IETF")));
        assert_eq!(
            decode(&hex("a201020304"), 4),
            Ok(Item::Map(vec![
                (Item::Unsigned(1), Item::Unsigned(2)),
                (Item::Unsigned(3), Item::Unsigned(4))
            ]))
        );
    }

    #[test]
    fn rejects_what_the_profile_excludes() {
        let cases = [
            ("9f01ff", CborError::IndefiniteLength),
            ("5f4101ff", CborError::IndefiniteLength),
            ("a201020103", CborError::DuplicateMapKey),
            ("0000", CborError::TrailingBytes(1)),
            ("1817", CborError::NonCanonicalInteger),
            ("f93c00", CborError::UnsupportedSimple),
            ("f7", CborError::UnsupportedSimple),
            ("1c", CborError::Reserved(28)),
            ("62c328", CborError::InvalidUtf8),
            ("5affffffff", CborError::Truncated),
            ("9bffffffffffffffff", CborError::Truncated),
            ("82", CborError::Truncated),
        ];
        for (input, expected) in cases {
            assert_eq!(decode(&hex(input), 8), Err(expected), "{input}");
        }
    }

    #[test]
    fn caps_the_number_of_items() {
        let mut many = vec![0x9a, 0x00, 0x01, 0x00, 0x00]; // array(65536)
        many.extend(std::iter::repeat_n(0x00, 65_536));
        assert_eq!(decode(&many, 4), Err(CborError::TooManyItems(MAX_ITEMS)));
        let mut just_enough = vec![0x99, 0xff, 0xff]; // array(65535) and its elements: 65536 items
        just_enough.extend(std::iter::repeat_n(0x00, 65_535));
        assert!(decode(&just_enough, 4).is_ok());
    }

    #[test]
    fn caps_nesting_depth() {
        let mut deep = vec![0x81; 20];
        deep.push(0x00);
        assert_eq!(decode(&deep, 16), Err(CborError::TooDeep(16)));
        assert!(decode(&deep, 20).is_ok());
    }

    #[test]
    fn encoder_round_trips_through_decoder() {
        let mut e = Encoder::default();
        e.map(3)
            .int(-19)
            .bytes(&[1, 2, 3])
            .uint(70_000)
            .text("张*明")
            .int(-65_537)
            .array(2);
        e.bool(true).uint(u64::MAX);
        let bytes = e.into_bytes();
        let Item::Map(entries) = decode(&bytes, 4).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.as_i64(), Some(-19));
        assert_eq!(entries[1].1, Item::Text("张*明"));
        assert_eq!(entries[2].0.as_i64(), Some(-65_537));
        assert_eq!(
            entries[2].1,
            Item::Array(vec![Item::Bool(true), Item::Unsigned(u64::MAX)])
        );
    }

    #[test]
    fn fields_report_unknown_and_missing() {
        let bytes = hex("a201020304");
        let mut fields = Fields::new(decode(&bytes, 4).unwrap()).unwrap();
        assert_eq!(fields.uint(1), Ok(2));
        assert_eq!(fields.uint(5), Err(FieldError::Missing(5)));
        assert_eq!(fields.finish(), Err(FieldError::Unknown(3)));
    }
}
