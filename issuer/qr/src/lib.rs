//! A QR code encoder for exactly what the issuer draws: one text, error
//! correction level M, the smallest version (1 to 40) that holds it, in
//! alphanumeric mode (every pass text: `SP1:` and Base45) or else byte
//! mode, and the mask ISO/IEC 18004:2015 §7.8 chooses.
//!
//! ```
//! use sealpass_qr_encode as qr;
//!
//! let symbol = qr::encode("SP1:HELLO").unwrap();
//! assert_eq!(symbol.version(), 1);
//! assert_eq!(symbol.width(), 21);
//! assert!(symbol.is_dark(0, 0), "a finder pattern's corner");
//! ```
//!
//! It replaced the `qrcode` crate, which spent almost all of its time for a
//! pass choosing the mask: here the rows and columns are
//! words of bits, a mask is applied a line at a time and its penalty is
//! counted by runs and with word operations (figures in
//! docs/performance.md, "QR rendering"). The tests compare every module
//! with the `qrcode` crate's for the same mask; the issuer's images of it
//! are read back with the verifier's decoder (`sealpass-qr`) in the
//! issuer's tests.

#![forbid(unsafe_code)]

mod codewords;
mod mask;
mod matrix;
mod penalty;

use matrix::{Grid, Line, bit};

/// Why a text cannot be a QR code (longer than a version-40 code holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pass text does not fit in a QR code")]
pub struct TooLong;

/// A QR code's modules, without its quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    version: u8,
    mask: u8,
    rows: Vec<Line>,
}

/// Encode `text` at level M with the mask of lowest penalty.
pub fn encode(text: &str) -> Result<Symbol, TooLong> {
    let (version, grid) = unmasked(text)?;
    let (mask, rows) = mask::best(&grid);
    Ok(Symbol {
        version,
        mask,
        rows,
    })
}

/// Encode `text` at level M with the given mask (0 to 7), whatever its
/// penalty: for comparing with other encoders.
pub fn encode_with_mask(text: &str, mask: u8) -> Result<Symbol, TooLong> {
    assert!(mask < 8, "QR masks are 0 to 7");
    let (version, grid) = unmasked(text)?;
    Ok(Symbol {
        version,
        mask,
        rows: mask::masked(&grid, mask),
    })
}

fn unmasked(text: &str) -> Result<(u8, Grid), TooLong> {
    let codewords = codewords::encode(text.as_bytes())?;
    let mut grid = Grid::new(codewords.version);
    grid.place(&codewords.bytes);
    Ok((codewords.version, grid))
}

impl Symbol {
    pub fn version(&self) -> u8 {
        self.version
    }

    pub fn mask(&self) -> u8 {
        self.mask
    }

    /// Modules per side: 17 + 4 × version.
    pub fn width(&self) -> usize {
        self.rows.len()
    }

    /// Whether the module in column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        bit(&self.rows[y], x)
    }

    /// Modules `x` (bit 0) and `x + 1` (bit 1) of row `y`, `x` even; past
    /// the last column, light.
    pub fn pair(&self, x: usize, y: usize) -> usize {
        debug_assert!(x.is_multiple_of(2));
        (self.rows[y][x / 64] >> (x % 64) & 0b11) as usize
    }

    /// The runs of dark modules in row `y`, left to right, each as its
    /// first column and the column after its last.
    pub fn dark_runs(&self, y: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        // Bit i where module i differs from module i - 1 (light before the
        // row and after it): a run's start, then its end, in turn.
        let row = &self.rows[y];
        let changes: Line = std::array::from_fn(|w| {
            let carry = if w > 0 { row[w - 1] >> 63 } else { 0 };
            row[w] ^ (row[w] << 1 | carry)
        });
        let mut edges = (0..changes.len()).flat_map(move |w| {
            let mut word = changes[w];
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    64 * w + bit
                })
            })
        });
        std::iter::from_fn(move || Some((edges.next()?, edges.next()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::bits::Bits;
    use qrcode::canvas::{Canvas, MaskPattern};
    use qrcode::{EcLevel, Version};

    const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    /// Texts of every length class: in alphanumeric mode, one to several
    /// per version 1 to 40 (pseudo-random characters, so digit runs and all
    /// the symbols occur), and a few in byte mode.
    fn texts() -> Vec<String> {
        let mut state = 2026u32;
        let mut next = move || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as usize
        };
        let mut texts = Vec::new();
        let mut len = 1;
        while len <= 3391 {
            texts.push(
                (0..len)
                    .map(|_| ALPHANUMERIC[next() % ALPHANUMERIC.len()] as char)
                    .collect(),
            );
            len += 1 + len / 40 + next() % (1 + len / 40);
        }
        texts.push("A".repeat(3391));
        texts.push("sp1:lowercase is byte mode".into());
        texts.push("ünïcödé, UTF-8 in byte mode".repeat(40));
        texts
    }

    /// The `qrcode` crate's symbol for the same segment, version and mask.
    fn theirs(text: &str, version: u8, mask: u8) -> Vec<bool> {
        let mut bits = Bits::new(Version::Normal(version.into()));
        if text.bytes().all(|b| ALPHANUMERIC.contains(&b)) {
            bits.push_alphanumeric_data(text.as_bytes()).unwrap();
        } else {
            bits.push_byte_data(text.as_bytes()).unwrap();
        }
        bits.push_terminator(EcLevel::M).unwrap();
        let version = bits.version();
        let (data, ec) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).unwrap();
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        canvas.apply_mask(
            [
                MaskPattern::Checkerboard,
                MaskPattern::HorizontalLines,
                MaskPattern::VerticalLines,
                MaskPattern::DiagonalLines,
                MaskPattern::LargeCheckerboard,
                MaskPattern::Fields,
                MaskPattern::Diamonds,
                MaskPattern::Meadow,
            ][usize::from(mask)],
        );
        canvas
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect()
    }

    fn modules(symbol: &Symbol) -> Vec<bool> {
        let w = symbol.width();
        (0..w * w).map(|i| symbol.is_dark(i % w, i / w)).collect()
    }

    #[test]
    fn every_module_is_the_qrcode_crates_in_every_version_and_mask() {
        let texts = texts();
        let mut versions = std::collections::BTreeSet::new();
        for text in &texts {
            for mask in 0..8 {
                let ours = encode_with_mask(text, mask).unwrap();
                versions.insert(ours.version());
                assert_eq!(ours.width(), 17 + 4 * usize::from(ours.version()));
                assert!(
                    modules(&ours) == theirs(text, ours.version(), mask),
                    "{} characters, version {}, mask {mask}",
                    text.len(),
                    ours.version()
                );
            }
        }
        assert_eq!(versions.len(), 40, "every version: {versions:?}");
    }

    #[test]
    fn the_chosen_mask_is_one_of_the_eight() {
        for text in texts().iter().step_by(7) {
            let best = encode(text).unwrap();
            assert_eq!(best, encode_with_mask(text, best.mask()).unwrap());
        }
    }

    #[test]
    fn dark_runs_and_pairs_are_the_modules() {
        for text in texts().iter().step_by(5) {
            let symbol = encode(text).unwrap();
            let w = symbol.width();
            for y in 0..w {
                let mut from_runs = vec![false; w + 1];
                for (start, end) in symbol.dark_runs(y) {
                    assert!(start < end && end <= w);
                    from_runs[start..end].fill(true);
                }
                let modules: Vec<bool> = (0..=w).map(|x| x < w && symbol.is_dark(x, y)).collect();
                assert_eq!(from_runs, modules);
                for x in (0..w).step_by(2) {
                    let pair = usize::from(modules[x]) | usize::from(modules[x + 1]) << 1;
                    assert_eq!(symbol.pair(x, y), pair);
                }
            }
        }
    }

    #[test]
    fn too_long_for_version_40() {
        assert_eq!(encode(&"A".repeat(3392)), Err(TooLong));
        assert_eq!(encode(&"a".repeat(2332)), Err(TooLong));
        assert_eq!(encode(&"a".repeat(2331)).unwrap().version(), 40);
    }
}
