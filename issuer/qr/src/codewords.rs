//! From a text to the codewords a symbol carries (ISO/IEC 18004:2015
//! §7.4-7.6): one segment, alphanumeric mode when every character is in
//! that set (a pass text always is: `SP1:` and Base45), else byte mode; the
//! smallest version that holds it at level M; the data split into blocks,
//! each given its Reed-Solomon codewords, and the blocks interleaved.

use super::TooLong;

/// Level M's error correction codewords per block, by version (Table 9).
const ECC_PER_BLOCK: [u8; 41] = [
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];
/// Level M's number of blocks, by version (Table 9).
const BLOCKS: [u8; 41] = [
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23,
    25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// The codewords of one symbol, interleaved, ready to place.
pub(super) struct Codewords {
    pub version: u8,
    pub bytes: Vec<u8>,
}

/// How the one segment is encoded (§7.4.4 and §7.4.5).
#[derive(Clone, Copy)]
enum Mode {
    Alphanumeric,
    Byte,
}

impl Mode {
    fn of(text: &[u8]) -> Mode {
        if text.iter().all(|&b| alphanumeric(b).is_some()) {
            Mode::Alphanumeric
        } else {
            Mode::Byte
        }
    }

    fn indicator(self) -> u32 {
        match self {
            Mode::Alphanumeric => 0b0010,
            Mode::Byte => 0b0100,
        }
    }

    /// Bits of the character count indicator (Table 3).
    fn count_bits(self, version: u8) -> u32 {
        match (self, version) {
            (Mode::Alphanumeric, 1..=9) => 9,
            (Mode::Alphanumeric, 10..=26) => 11,
            (Mode::Alphanumeric, _) => 13,
            (Mode::Byte, 1..=9) => 8,
            (Mode::Byte, _) => 16,
        }
    }

    fn data_bits(self, chars: usize) -> usize {
        match self {
            Mode::Alphanumeric => 11 * (chars / 2) + 6 * (chars % 2),
            Mode::Byte => 8 * chars,
        }
    }
}

/// A character's value in alphanumeric mode (Table 5).
fn alphanumeric(b: u8) -> Option<u32> {
    Some(match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        b' ' => 36,
        b'$' => 37,
        b'%' => 38,
        b'*' => 39,
        b'+' => 40,
        b'-' => 41,
        b'.' => 42,
        b'/' => 43,
        b':' => 44,
        _ => return None,
    })
}

/// Modules left for data and error correction once the function patterns,
/// format and version information are placed.
pub(super) fn raw_data_modules(version: u8) -> usize {
    let v = usize::from(version);
    let mut modules = (16 * v + 128) * v + 64;
    if v >= 2 {
        let aligns = v / 7 + 2;
        modules -= (25 * aligns - 10) * aligns - 55;
        if v >= 7 {
            modules -= 36;
        }
    }
    modules
}

fn data_codewords(version: u8) -> usize {
    let v = usize::from(version);
    raw_data_modules(version) / 8 - usize::from(ECC_PER_BLOCK[v]) * usize::from(BLOCKS[v])
}

/// Bits appended most significant first.
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> BitWriter {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            acc: 0,
            pending: 0,
        }
    }

    fn push(&mut self, value: u32, bits: u32) {
        self.acc = (self.acc << bits) | u64::from(value);
        self.pending += bits;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
    }

    fn bits(&self) -> usize {
        self.bytes.len() * 8 + self.pending as usize
    }

    /// Zeros up to the next byte boundary.
    fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.push(0, 8 - self.pending);
        }
        self.bytes
    }
}

/// The text's codewords in the smallest version that holds them at level M.
pub(super) fn encode(text: &[u8]) -> Result<Codewords, TooLong> {
    let mode = Mode::of(text);
    let needed = |v: u8| 4 + mode.count_bits(v) as usize + mode.data_bits(text.len());
    let version = (1..=40u8)
        .find(|&v| needed(v) <= data_codewords(v) * 8)
        .ok_or(TooLong)?;
    let capacity = data_codewords(version);

    // The segment (§7.4), the terminator and the pad codewords (§7.4.10).
    let mut bits = BitWriter::with_capacity(capacity);
    bits.push(mode.indicator(), 4);
    bits.push(text.len() as u32, mode.count_bits(version));
    match mode {
        Mode::Alphanumeric => {
            let value = |b| alphanumeric(b).expect("checked by Mode::of");
            for pair in text.chunks(2) {
                match *pair {
                    [a, b] => bits.push(value(a) * 45 + value(b), 11),
                    [a] => bits.push(value(a), 6),
                    _ => unreachable!("chunks of two"),
                }
            }
        }
        Mode::Byte => text.iter().for_each(|&b| bits.push(b.into(), 8)),
    }
    let terminator = (capacity * 8 - bits.bits()).min(4);
    bits.push(0, terminator as u32);
    let mut data = bits.finish();
    for pad in [0xec, 0x11].into_iter().cycle() {
        if data.len() == capacity {
            break;
        }
        data.push(pad);
    }

    Ok(Codewords {
        version,
        bytes: interleave(version, &data),
    })
}

/// The data split into blocks (short blocks first), each followed by its
/// error correction codewords, interleaved codeword by codeword (§7.6).
fn interleave(version: u8, data: &[u8]) -> Vec<u8> {
    let v = usize::from(version);
    let blocks = usize::from(BLOCKS[v]);
    let ecc = usize::from(ECC_PER_BLOCK[v]);
    let raw = raw_data_modules(version) / 8;
    let short_blocks = blocks - raw % blocks;
    let short_data = raw / blocks - ecc;
    let generator = Generator::of_degree(ecc);

    let mut starts = Vec::with_capacity(blocks + 1);
    let mut eccs = vec![0u8; blocks * ecc];
    let mut start = 0;
    for (i, block_ecc) in eccs.chunks_exact_mut(ecc).enumerate() {
        let len = short_data + usize::from(i >= short_blocks);
        starts.push(start);
        generator.remainder(&data[start..start + len], block_ecc);
        start += len;
    }
    starts.push(start);

    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_data {
        for b in 0..blocks {
            if starts[b] + i < starts[b + 1] {
                out.push(data[starts[b] + i]);
            }
        }
    }
    for i in 0..ecc {
        for b in 0..blocks {
            out.push(eccs[b * ecc + i]);
        }
    }
    debug_assert_eq!(out.len(), raw);
    out
}

/// GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1, as powers of α = 2:
/// `EXP[i] = α^i` for i < 510 (so a sum of two logs needs no reduction) and
/// `LOG[α^i] = i`.
struct Field {
    exp: [u8; 510],
    log: [u8; 256],
}

const FIELD: Field = {
    let mut exp = [0u8; 510];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11d;
        }
        i += 1;
    }
    Field { exp, log }
};

fn multiply(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        FIELD.exp[usize::from(FIELD.log[usize::from(a)]) + usize::from(FIELD.log[usize::from(b)])]
    }
}

/// The Reed-Solomon generator polynomial (x - α^0)(x - α^1)...(x - α^(n-1))
/// (§7.5.2), its coefficients below the leading one, highest power first.
struct Generator {
    coefficients: Vec<u8>,
}

impl Generator {
    fn of_degree(degree: usize) -> Generator {
        // Ascending powers while multiplying by (x + α^i), one i at a time.
        let mut poly = vec![0u8; degree + 1];
        poly[0] = 1;
        let mut root = 1u8;
        for i in 0..degree {
            for k in (1..=i + 1).rev() {
                poly[k] = poly[k - 1] ^ multiply(poly[k], root);
            }
            poly[0] = multiply(poly[0], root);
            root = multiply(root, 2);
        }
        Generator {
            coefficients: poly[..degree].iter().rev().copied().collect(),
        }
    }

    /// The remainder of data · x^n divided by the generator: the block's
    /// error correction codewords.
    fn remainder(&self, data: &[u8], out: &mut [u8]) {
        out.fill(0);
        for &byte in data {
            let factor = byte ^ out[0];
            out.copy_within(1.., 0);
            let last = out.len() - 1;
            out[last] = 0;
            if factor != 0 {
                let log = usize::from(FIELD.log[usize::from(factor)]);
                for (r, &g) in out.iter_mut().zip(&self.coefficients) {
                    if g != 0 {
                        *r ^= FIELD.exp[usize::from(FIELD.log[usize::from(g)]) + log];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_m_capacities_match_the_standard() {
        // Data codewords at level M (Table 7) for a few versions.
        for (version, codewords) in [(1, 16), (2, 28), (7, 124), (10, 216), (40, 2334)] {
            assert_eq!(data_codewords(version), codewords, "version {version}");
        }
    }

    #[test]
    fn the_smallest_version_that_holds_the_text() {
        // Alphanumeric capacity at level M (Table 7): 20 characters in
        // version 1, 311 in version 10, 3391 in version 40.
        let version = |n: usize| encode("A".repeat(n).as_bytes()).map(|c| c.version);
        assert_eq!(version(20), Ok(1));
        assert_eq!(version(21), Ok(2));
        assert_eq!(version(311), Ok(10));
        assert_eq!(version(312), Ok(11));
        assert_eq!(version(3391), Ok(40));
        assert_eq!(version(3392), Err(TooLong));
        // Byte mode: 14 bytes in version 1.
        assert_eq!(encode(b"lowercase text").map(|c| c.version), Ok(1));
        assert_eq!(encode(b"lowercase texts").map(|c| c.version), Ok(2));
    }

    #[test]
    fn hello_world_in_version_1_m() {
        // The worked example of the alphanumeric mode: "HELLO WORLD", 1-M.
        let codewords = encode(b"HELLO WORLD").unwrap();
        assert_eq!(codewords.version, 1);
        assert_eq!(
            codewords.bytes,
            [
                0x20, 0x5b, 0x0b, 0x78, 0xd1, 0x72, 0xdc, 0x4d, 0x43, 0x40, 0xec, 0x11, 0xec, 0x11,
                0xec, 0x11, 196, 35, 39, 119, 235, 215, 231, 226, 93, 23
            ]
        );
    }

    #[test]
    fn the_standards_example_codewords() {
        // ISO/IEC 18004:2015 Annex I: "01234567" in version 1-M.
        let mut bits = BitWriter::with_capacity(16);
        bits.push(0b0001, 4);
        bits.push(8, 10);
        for (group, len) in [(12, 10), (345, 10), (67, 7)] {
            bits.push(group, len);
        }
        bits.push(0, 4);
        let mut data = bits.finish();
        data.extend([0xec, 0x11].iter().cycle().take(16 - data.len()));
        assert_eq!(
            data,
            [
                0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11,
                0xec, 0x11
            ]
        );
        let mut ecc = [0u8; 10];
        Generator::of_degree(10).remainder(&data, &mut ecc);
        assert_eq!(
            ecc,
            [0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55]
        );
    }
}
