//! The QR text of a pass: `SP1:` + Base45 (RFC 9285) of the COSE_Sign1 bytes,
//! or of their zlib (RFC 1950) compression where an issuer chose that.
//!
//! sealpass writes no zlib by default (on a ~180-byte pass it makes the text
//! longer), but accepts it on decode, told apart by the first byte: a tagged
//! COSE_Sign1 starts with 0xD2, a zlib stream with 0x78. Inflation stops at
//! [`MAX_INFLATED_LEN`] bytes, so a small bomb cannot make a large buffer.
//!
//! A live code (docs/format.md, "Live codes") is `SP2:` + Base45 of its
//! envelope, never compressed: [`decode_scanned`] tells the two apart.

use thiserror::Error;

/// The text prefix of a v1 pass.
pub const PREFIX: &str = "SP1:";
/// The text prefix of a live code.
pub const LIVE_PREFIX: &str = "SP2:";
/// Longest pass text accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 2048;
/// Largest COSE_Sign1 accepted after inflating.
pub const MAX_INFLATED_LEN: usize = 4096;

/// Why a text is not the encoding of a pass.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TextError {
    #[error("the text is empty")]
    Empty,
    #[error("the text is {len} bytes long; a pass is at most {max}")]
    TooLong { len: usize, max: usize },
    #[error("the text does not begin with the {PREFIX} or {LIVE_PREFIX} prefix")]
    MissingPrefix,
    #[error("the text after its prefix is not Base45")]
    Base45,
    #[error("the zlib-compressed data is damaged")]
    Inflate,
    #[error("the compressed data inflates beyond {max} bytes")]
    InflatedTooLarge { max: usize },
    #[error("{extra} bytes follow the end of the zlib stream")]
    TrailingData { extra: usize },
}

impl TextError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            TextError::Empty | TextError::MissingPrefix => "not_a_pass",
            TextError::TooLong { .. } => "text_too_long",
            TextError::Base45 => "bad_base45",
            TextError::Inflate => "bad_zlib",
            TextError::InflatedTooLarge { .. } => "inflated_too_large",
            TextError::TrailingData { .. } => "zlib_trailing_bytes",
        }
    }
}

/// `SP1:` + Base45 of `cose`.
pub fn encode(cose: &[u8]) -> String {
    encode_with_prefix(PREFIX, cose)
}

/// `SP2:` + Base45 of a live code's envelope.
pub fn encode_live(envelope: &[u8]) -> String {
    encode_with_prefix(LIVE_PREFIX, envelope)
}

fn encode_with_prefix(prefix: &str, bytes: &[u8]) -> String {
    let mut text = Vec::with_capacity(prefix.len() + bytes.len().div_ceil(2) * 3);
    text.extend_from_slice(prefix.as_bytes());
    base45_encode(bytes, &mut text);
    // Base45's alphabet and the prefix are ASCII.
    String::from_utf8(text).unwrap_or_default()
}

/// RFC 9285's alphabet, by value.
const BASE45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Append Base45 (RFC 9285 section 4) of `bytes`: each two bytes `a, b` as
/// `n = 256a + b = c + 45d + 2025e` written `c d e`, a last single byte as
/// `c d`. The signer encodes every pass it issues, so this is written for
/// speed: one division per output character, no intermediate string.
fn base45_encode(bytes: &[u8], out: &mut Vec<u8>) {
    let mut pairs = bytes.chunks_exact(2);
    for pair in pairs.by_ref() {
        let n = u32::from(pair[0]) << 8 | u32::from(pair[1]);
        out.extend_from_slice(&[
            BASE45[(n % 45) as usize],
            BASE45[(n / 45 % 45) as usize],
            BASE45[(n / 2025) as usize],
        ]);
    }
    if let [last] = pairs.remainder() {
        let n = u32::from(*last);
        out.extend_from_slice(&[BASE45[(n % 45) as usize], BASE45[(n / 45) as usize]]);
    }
}

/// `SP1:` + Base45 of the zlib compression of `cose`.
pub fn encode_zlib(cose: &[u8]) -> String {
    encode(&miniz_oxide::deflate::compress_to_vec_zlib(cose, 9))
}

/// What a scanned text carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// `SP1:`: a pass's COSE_Sign1 bytes (inflated, if they were zlib).
    Pass(Vec<u8>),
    /// `SP2:`: a live code's envelope bytes.
    LiveCode(Vec<u8>),
}

/// The COSE bytes a pass text carries. Surrounding ASCII white space (a
/// scanner's CR/LF) is ignored.
pub fn decode(text: &str) -> Result<Vec<u8>, TextError> {
    match decode_scanned(text)? {
        Scanned::Pass(cose) => Ok(cose),
        Scanned::LiveCode(_) => Err(TextError::MissingPrefix),
    }
}

/// The bytes a pass text or a live-code text carries, told apart by the
/// prefix. A live code is Base45 of its envelope, never zlib. Surrounding
/// ASCII white space is ignored, and neither is read beyond
/// [`MAX_TEXT_LEN`] bytes.
pub fn decode_scanned(text: &str) -> Result<Scanned, TextError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(TextError::TooLong {
            len: text.len(),
            max: MAX_TEXT_LEN,
        });
    }
    if let Some(body) = text.strip_prefix(LIVE_PREFIX) {
        let bytes = base45::decode(body).map_err(|_| TextError::Base45)?;
        return Ok(Scanned::LiveCode(bytes));
    }
    let body = text.strip_prefix(PREFIX).ok_or(TextError::MissingPrefix)?;
    let bytes = base45::decode(body).map_err(|_| TextError::Base45)?;
    if bytes.first() == Some(&0x78) {
        return inflate(&bytes, MAX_INFLATED_LEN).map(Scanned::Pass);
    }
    Ok(Scanned::Pass(bytes))
}

/// Inflate a zlib stream, refusing output beyond `max` bytes and any byte
/// after the stream's end (otherwise many texts would carry one pass).
pub fn inflate(zlib: &[u8], max: usize) -> Result<Vec<u8>, TextError> {
    use miniz_oxide::inflate::stream::{InflateState, inflate as inflate_step};
    use miniz_oxide::{DataFormat, MZFlush, MZStatus};
    const CHUNK: usize = 16 * 1024;
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut inflated = Vec::new();
    let mut chunk = vec![0; CHUNK];
    let mut input = zlib;
    loop {
        let step = inflate_step(&mut state, input, &mut chunk, MZFlush::None);
        input = &input[step.bytes_consumed.min(input.len())..];
        if inflated.len() + step.bytes_written > max {
            return Err(TextError::InflatedTooLarge { max });
        }
        inflated.extend_from_slice(&chunk[..step.bytes_written]);
        match step.status {
            Ok(MZStatus::StreamEnd) if input.is_empty() => return Ok(inflated),
            Ok(MZStatus::StreamEnd) => {
                return Err(TextError::TrailingData { extra: input.len() });
            }
            Ok(_) if step.bytes_consumed > 0 || step.bytes_written > 0 => {}
            // No progress: the stream is truncated or damaged.
            _ => return Err(TextError::Inflate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base45(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        base45_encode(bytes, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn base45_encodes_as_rfc_9285_does() {
        // The examples of RFC 9285, section 4.3.
        assert_eq!(base45(b"AB"), "BB8");
        assert_eq!(base45(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45(b"ietf!"), "QED8WEX0");
        assert_eq!(base45(b""), "");
        // The extremes of a pair and of a last byte.
        assert_eq!(base45(&[0xff, 0xff]), "FGW");
        assert_eq!(base45(&[0xff]), "U5");
        // Every length a pass can have, over varied bytes, as the decoder
        // (the base45 crate) reads it back.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..=600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let text = base45(&bytes);
            assert_eq!(text.len(), len / 2 * 3 + len % 2 * 2);
            assert_eq!(base45::decode(&text).unwrap(), bytes, "length {len}");
        }
    }

    #[test]
    fn round_trips_plain_and_zlib() {
        let cose = [0xd2, 0x84, 1, 2, 3];
        assert_eq!(decode(&encode(&cose)), Ok(cose.to_vec()));
        assert_eq!(decode(&encode_zlib(&cose)), Ok(cose.to_vec()));
        assert_eq!(
            decode(&format!(" {}\r\n", encode(&cose))),
            Ok(cose.to_vec())
        );
    }

    #[test]
    fn refuses_bombs_and_garbage() {
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 1 << 20], 9);
        assert_eq!(
            decode(&encode(&bomb)),
            Err(TextError::InflatedTooLarge {
                max: MAX_INFLATED_LEN
            })
        );
        assert_eq!(decode("HC1:ABC"), Err(TextError::MissingPrefix));
        assert_eq!(decode("SP1:a"), Err(TextError::Base45));
        assert_eq!(
            decode(&"SP1:".repeat(600)),
            Err(TextError::TooLong {
                len: 2400,
                max: 2048
            })
        );
        assert_eq!(
            decode(&encode(&[0x78, 0x9c, 0xff])),
            Err(TextError::Inflate)
        );
    }

    /// Finding 8 of the security review: bytes after the zlib stream were
    /// ignored, so many texts decoded to one pass.
    #[test]
    fn refuses_bytes_after_the_zlib_stream() {
        let cose = [0xd2, 0x84, 1, 2, 3];
        let mut zlib = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
        assert_eq!(inflate(&zlib, 64), Ok(cose.to_vec()));
        zlib.extend_from_slice(b"xy");
        assert_eq!(
            decode(&encode(&zlib)),
            Err(TextError::TrailingData { extra: 2 })
        );
        assert_eq!(
            inflate(&zlib, 64),
            Err(TextError::TrailingData { extra: 2 })
        );
        // Exactly `max` bytes inflate; one more does not.
        let big = miniz_oxide::deflate::compress_to_vec_zlib(&[7; 40_000], 9);
        assert_eq!(inflate(&big, 40_000).map(|v| v.len()), Ok(40_000));
        assert_eq!(
            inflate(&big, 39_999),
            Err(TextError::InflatedTooLarge { max: 39_999 })
        );
    }
}
