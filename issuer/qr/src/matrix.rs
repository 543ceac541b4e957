//! The symbol's modules before masking (ISO/IEC 18004:2015 §6.3, §7.7):
//! the function patterns, the version information, the format information's
//! place (filled in per mask), and the codewords placed in the zigzag.
//!
//! Modules are held as lines of bits, so that masks and their penalty
//! (`mask.rs`, `penalty.rs`) work a whole row or column at a time: bit `x`
//! of row `y` is the module in column `x`, `1` for dark.

/// Words of a line: 192 bits hold the 177 modules of version 40.
pub(super) const WORDS: usize = 3;
pub(super) type Line = [u64; WORDS];

pub(super) fn bit(line: &Line, i: usize) -> bool {
    line[i / 64] >> (i % 64) & 1 != 0
}

pub(super) fn set_bit(line: &mut Line, i: usize, dark: bool) {
    let mask = 1u64 << (i % 64);
    if dark {
        line[i / 64] |= mask;
    } else {
        line[i / 64] &= !mask;
    }
}

/// The same modules column by column: line `x` holds column `x`. Block by
/// block of 64×64 modules, each transposed in six rounds of swaps.
pub(super) fn transpose(rows: &[Line]) -> Vec<Line> {
    let size = rows.len();
    let blocks = size.div_ceil(64);
    let mut cols = vec![[0; WORDS]; size];
    for bi in 0..blocks {
        for bj in 0..blocks {
            let mut block = [0u64; 64];
            for (r, word) in block.iter_mut().enumerate() {
                if let Some(row) = rows.get(64 * bi + r) {
                    *word = row[bj];
                }
            }
            transpose64(&mut block);
            for (r, &word) in block.iter().enumerate() {
                if let Some(col) = cols.get_mut(64 * bj + r) {
                    col[bi] = word;
                }
            }
        }
    }
    cols
}

/// Transpose a 64×64 bit matrix, bit `c` of word `r` to bit `r` of word
/// `c`: swap the top right and bottom left 32×32 blocks, then the 16×16
/// blocks within each quarter, down to single bits (Hacker's Delight §7-3).
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32;
    let mut m: u64 = 0x0000_0000_ffff_ffff;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k] ^= t << j;
            a[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        m ^= m << j;
    }
}

/// An unmasked symbol.
pub(super) struct Grid {
    pub size: usize,
    /// Dark modules, row by row; the format information's modules light.
    pub dark: Vec<Line>,
    /// Modules a mask leaves alone: everything but the codewords' place.
    pub function: Vec<Line>,
}

impl Grid {
    /// The function patterns of `version` (1 to 40), nothing placed yet.
    pub fn new(version: u8) -> Grid {
        let size = 17 + 4 * usize::from(version);
        let mut grid = Grid {
            size,
            dark: vec![[0; WORDS]; size],
            function: vec![[0; WORDS]; size],
        };
        // Timing patterns (§6.3.5), crossed by the others drawn after.
        for i in 0..size {
            grid.set_function(6, i, i % 2 == 0);
            grid.set_function(i, 6, i % 2 == 0);
        }
        // Finder patterns with their separators (§6.3.3, §6.3.4).
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            grid.finder(x, y);
        }
        // Alignment patterns (§6.3.6), except where the finders are.
        let centres = alignment_centres(version);
        let last = centres.len().saturating_sub(1);
        for (i, &x) in centres.iter().enumerate() {
            for (j, &y) in centres.iter().enumerate() {
                if !matches!((i, j), (0, 0)) && (i, j) != (0, last) && (i, j) != (last, 0) {
                    grid.alignment(x, y);
                }
            }
        }
        // The format information's place (§7.9), light until a mask is
        // chosen, and the dark module beside it.
        for copy in format_positions(size) {
            for (x, y) in copy {
                grid.set_function(x, y, false);
            }
        }
        grid.set_function(8, size - 8, true);
        // Version information (§7.10), from version 7.
        if version >= 7 {
            let bits = version_bits(version);
            for i in 0..18 {
                let dark = bits >> i & 1 != 0;
                let (a, b) = (size - 11 + i % 3, i / 3);
                grid.set_function(a, b, dark);
                grid.set_function(b, a, dark);
            }
        }
        grid
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        set_bit(&mut self.dark[y], x, dark);
        set_bit(&mut self.function[y], x, true);
    }

    fn finder(&mut self, cx: usize, cy: usize) {
        for dy in -4i32..=4 {
            for dx in -4i32..=4 {
                let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                if (0..self.size as i32).contains(&x) && (0..self.size as i32).contains(&y) {
                    let ring = dx.abs().max(dy.abs());
                    self.set_function(x as usize, y as usize, ring != 2 && ring != 4);
                }
            }
        }
    }

    fn alignment(&mut self, cx: usize, cy: usize) {
        for dy in -2i32..=2 {
            for dx in -2i32..=2 {
                let ring = dx.abs().max(dy.abs());
                let (x, y) = ((cx as i32 + dx) as usize, (cy as i32 + dy) as usize);
                self.set_function(x, y, ring != 1);
            }
        }
    }

    /// Place the codewords, most significant bit first, in two-module
    /// columns from the bottom right, up and down in turn, skipping the
    /// function patterns and the vertical timing pattern's column (§7.7.3).
    /// Remainder modules stay light.
    pub fn place(&mut self, codewords: &[u8]) {
        let size = self.size;
        let bits = codewords.len() * 8;
        let mut i = 0;
        let mut right = size - 1;
        loop {
            if right == 6 {
                right = 5;
            }
            let upward = (right + 1) & 2 == 0;
            for step in 0..size {
                let y = if upward { size - 1 - step } else { step };
                for x in [right, right - 1] {
                    if i < bits && !bit(&self.function[y], x) {
                        let dark = codewords[i / 8] >> (7 - i % 8) & 1 != 0;
                        set_bit(&mut self.dark[y], x, dark);
                        i += 1;
                    }
                }
            }
            if right < 2 {
                break;
            }
            right -= 2;
        }
        debug_assert_eq!(i, bits, "every codeword placed");
    }
}

/// Row and column of the alignment patterns' centres (Annex E): 6, then
/// evenly spaced (by an even step) up to `size - 7`.
pub(super) fn alignment_centres(version: u8) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let v = usize::from(version);
    let count = v / 7 + 2;
    let step = (v * 8 + count * 3 + 5) / (count * 4 - 4) * 2;
    let last = 17 + 4 * v - 7;
    let mut centres: Vec<usize> = (0..count - 1).map(|i| last - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// The 18 version information bits: the version and its BCH (18,6) code.
fn version_bits(version: u8) -> u32 {
    let mut rem = u32::from(version);
    for _ in 0..12 {
        rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
    }
    u32::from(version) << 12 | rem
}

/// Where the 15 format information bits go, bit 0 first: the copy around
/// the top left finder, and the copy split between the other two.
pub(super) fn format_positions(size: usize) -> [[(usize, usize); 15]; 2] {
    let mut first = [(0, 0); 15];
    let mut second = [(0, 0); 15];
    for i in 0..15 {
        first[i] = match i {
            0..=5 => (8, i),
            6 => (8, 7),
            7 => (8, 8),
            8 => (7, 8),
            _ => (14 - i, 8),
        };
        second[i] = if i < 8 {
            (size - 1 - i, 8)
        } else {
            (8, size - 15 + i)
        };
    }
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposed_bit_by_bit() {
        let mut state = 7u64;
        for size in [21, 57, 64, 65, 128, 129, 177] {
            let rows: Vec<Line> = (0..size)
                .map(|_| {
                    let mut line = [0; WORDS];
                    for x in 0..size {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        set_bit(&mut line, x, state >> 63 != 0);
                    }
                    line
                })
                .collect();
            let cols = transpose(&rows);
            for (y, row) in rows.iter().enumerate() {
                for (x, col) in cols.iter().enumerate() {
                    assert_eq!(bit(row, x), bit(col, y), "size {size}, {x},{y}");
                }
            }
            assert!(cols.iter().all(|c| (size..64 * WORDS).all(|y| !bit(c, y))));
        }
    }

    #[test]
    fn alignment_centres_match_annex_e() {
        assert_eq!(alignment_centres(1), Vec::<usize>::new());
        assert_eq!(alignment_centres(2), [6, 18]);
        assert_eq!(alignment_centres(7), [6, 22, 38]);
        assert_eq!(alignment_centres(10), [6, 28, 50]);
        assert_eq!(alignment_centres(32), [6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_centres(36), [6, 24, 50, 76, 102, 128, 154]);
        assert_eq!(alignment_centres(40), [6, 30, 58, 86, 114, 142, 170]);
    }

    #[test]
    fn version_information_matches_annex_d() {
        assert_eq!(version_bits(7), 0x07c94);
        assert_eq!(version_bits(10), 0x0a4d3);
        assert_eq!(version_bits(40), 0x28c69);
    }

    #[test]
    fn every_data_module_is_filled_in_every_version() {
        for version in 1..=40 {
            let grid = Grid::new(version);
            let free: usize = grid
                .function
                .iter()
                .map(|row| grid.size - row.iter().map(|w| w.count_ones() as usize).sum::<usize>())
                .sum();
            assert_eq!(free, super::super::codewords::raw_data_modules(version));
        }
    }
}
