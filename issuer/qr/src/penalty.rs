//! A masked symbol's penalty score (ISO/IEC 18004:2015 §7.8.3, Table 11),
//! the lower the better:
//!
//! 1. each run of 5 + i modules of one colour in a row or column: 3 + i;
//! 2. each 2×2 block of one colour (blocks may overlap): 3;
//! 3. each 1:1:3:1:1 (dark:light:dark:light:dark) pattern in a row or
//!    column with 4 light modules (in the same ratio) before or after it:
//!    40, or 80 with light on both sides; outside the symbol is light
//!    (the quiet zone);
//! 4. 10 for every full 5 % the dark modules' share is away from 50 %.
//!
//! Every rule is counted with word operations on whole lines of bits (one
//! word per line up to version 11, two up to version 27): rule 1 from the
//! bits where a module equals the next, rule 3 by matching the 12-module
//! window of each ratio-1 pattern at every position at once (shifted copies
//! of the line ANDed), and rules 2 and 4 by population counts. Patterns in a
//! larger ratio (2:2:6:2:2 and up) need a dark run of 6 or more, which the
//! same shifted copies find; the few there are are checked one by one.

use super::matrix::Line;

const N1: u32 = 3;
const N2: u32 = 3;
const N3: u32 = 40;
const N4: u32 = 10;

/// The score of a symbol given both ways, `rows` and `cols`.
pub(super) fn score(rows: &[Line], cols: &[Line], size: usize) -> u32 {
    match size {
        0..=64 => score_in::<1>(rows, cols, size),
        65..=128 => score_in::<2>(rows, cols, size),
        _ => score_in::<3>(rows, cols, size),
    }
}

fn score_in<const W: usize>(rows: &[Line], cols: &[Line], size: usize) -> u32 {
    let words = |line: &Line| -> Bits<W> { Bits(std::array::from_fn(|w| line[w])) };
    let lines: u32 = rows
        .iter()
        .chain(cols)
        .map(|line| along(words(line), size))
        .sum();
    let rows: Vec<Bits<W>> = rows.iter().map(words).collect();
    lines + blocks(&rows, size) + balance(&rows, size)
}

/// A line of up to 64 × W modules, bit i for module i, 1 for dark; the bits
/// past the line's end are 0 (light, like the quiet zone).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Bits<const W: usize>([u64; W]);

impl<const W: usize> Bits<W> {
    /// The first `len` bits set.
    fn first(len: usize) -> Bits<W> {
        Bits(std::array::from_fn(|w| match len.saturating_sub(64 * w) {
            0 => 0,
            n if n >= 64 => u64::MAX,
            n => (1 << n) - 1,
        }))
    }

    /// Bit i of the result is bit i + k (k < 64): the line looking ahead.
    fn ahead(self, k: u32) -> Bits<W> {
        if k == 0 {
            return self;
        }
        Bits(std::array::from_fn(|w| {
            let carry = if w + 1 < W {
                self.0[w + 1] << (64 - k)
            } else {
                0
            };
            self.0[w] >> k | carry
        }))
    }

    /// Bit i of the result is bit i - k (k < 64), 0 below k: the line
    /// looking back, light before its start.
    fn behind(self, k: u32) -> Bits<W> {
        if k == 0 {
            return self;
        }
        Bits(std::array::from_fn(|w| {
            let carry = if w > 0 { self.0[w - 1] >> (64 - k) } else { 0 };
            self.0[w] << k | carry
        }))
    }

    fn and(self, other: Bits<W>) -> Bits<W> {
        Bits(std::array::from_fn(|w| self.0[w] & other.0[w]))
    }

    fn and_not(self, other: Bits<W>) -> Bits<W> {
        Bits(std::array::from_fn(|w| self.0[w] & !other.0[w]))
    }

    fn or(self, other: Bits<W>) -> Bits<W> {
        Bits(std::array::from_fn(|w| self.0[w] | other.0[w]))
    }

    fn xor(self, other: Bits<W>) -> Bits<W> {
        Bits(std::array::from_fn(|w| self.0[w] ^ other.0[w]))
    }

    fn ones(self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    fn get(self, i: usize) -> bool {
        i < 64 * W && self.0[i / 64] >> (i % 64) & 1 != 0
    }

    /// The set bits' positions, lowest first.
    fn positions(self) -> impl Iterator<Item = usize> {
        (0..W).flat_map(move |w| {
            let mut word = self.0[w];
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    64 * w + bit
                })
            })
        })
    }
}

/// Rules 1 and 3 along one line of `size` modules.
fn along<const W: usize>(line: Bits<W>, size: usize) -> u32 {
    // Rule 1: `same` has bit i when module i equals module i + 1, `five`
    // when modules i to i + 4 are one colour, `runs` where such a run
    // starts. A run of 5 + k holds 1 + k fives and scores N1 + k.
    let same = Bits::first(size - 1).and_not(line.xor(line.ahead(1)));
    let five = same
        .and(same.ahead(1))
        .and(same.ahead(2))
        .and(same.ahead(3));
    let runs = five.and_not(five.behind(1));
    let mut score = five.ones() + runs.ones() * (N1 - 1);

    // Rule 3, ratio 1: `at[j]` is the line shifted so that bit s holds
    // module s + j - 4 (outside the line: light).
    let at: [Bits<W>; 15] = std::array::from_fn(|j| {
        if j < 4 {
            line.behind((4 - j) as u32)
        } else {
            line.ahead((j - 4) as u32)
        }
    });
    let window = |start: usize, pattern: &[u8; 12]| {
        let mut dark = Bits::first(64 * W);
        let mut light = Bits([0; W]);
        for (k, &module) in pattern.iter().enumerate() {
            if module == 1 {
                dark = dark.and(at[start + k]);
            } else {
                light = light.or(at[start + k]);
            }
        }
        dark.and_not(light)
    };
    // The core (dark, light, 3 dark, light, dark) starts at module s, for s
    // in 0..=size - 7; four light modules before it, or after it.
    let cores = Bits::first(size - 6);
    let before = window(0, &[0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0]);
    let after = window(3, &[0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0]);
    score += (before.and(cores).ones() + after.and(cores).ones()) * N3;

    // Rule 3, ratio 2 and more: a dark run of 3n ≥ 6 at its start.
    let six = (4..10).fold(Bits::first(size), |six, j| six.and(at[j]));
    for start in six.and_not(at[3]).positions() {
        let len = (start..size).take_while(|&i| line.get(i)).count();
        if len % 3 == 0 {
            score += scaled(line, start, len / 3) * N3;
        }
    }
    score
}

/// Patterns n:n:3n:n:n around the dark run of 3n from `core`, its ends
/// light: 0, 1 or 2 (light 4n before it, or after it, or both).
fn scaled<const W: usize>(line: Bits<W>, core: usize, n: usize) -> u32 {
    let dark = |i: isize| i >= 0 && line.get(i as usize);
    let all = |from: isize, len: usize, want_dark: bool| {
        (from..from + len as isize).all(|i| dark(i) == want_dark)
    };
    let (c, n_) = (core as isize, n as isize);
    let shape = all(c - n_, n, false)
        && all(c - 2 * n_, n, true)
        && all(c + 3 * n_, n, false)
        && all(c + 4 * n_, n, true)
        && !dark(c + 5 * n_)
        && !dark(c - 2 * n_ - 1);
    if !shape {
        return 0;
    }
    let light_before = |len: usize| all(c - 2 * n_ - len as isize, len, false);
    let light_after = |len: usize| all(c + 5 * n_, len, false);
    u32::from(light_before(4 * n) && light_after(n))
        + u32::from(light_after(4 * n) && light_before(n))
}

/// Rule 2: 2×2 blocks of one colour, two rows at a time.
fn blocks<const W: usize>(rows: &[Bits<W>], size: usize) -> u32 {
    let within = Bits::first(size);
    // A block's left column: every column but the last.
    let left = Bits::first(size - 1);
    let mut count = 0;
    for pair in rows.windows(2) {
        let dark = pair[0].and(pair[1]);
        let light = within.and_not(pair[0].or(pair[1]));
        for same in [dark, light] {
            count += same.and(same.ahead(1)).and(left).ones();
        }
    }
    count * N2
}

/// Rule 4: every full 5 % of the symbol the dark share is away from 50 %.
fn balance<const W: usize>(rows: &[Bits<W>], size: usize) -> u32 {
    let dark: u64 = rows.iter().map(|row| u64::from(row.ones())).sum();
    let total = (size * size) as u64;
    let steps = (20 * dark).abs_diff(10 * total) / total;
    steps as u32 * N4
}

#[cfg(test)]
mod tests {
    use super::super::matrix::{WORDS, bit, transpose};
    use super::*;

    /// The rules module by module, as Table 11 reads: what the fast score
    /// must equal.
    fn reference(dark: &[Vec<bool>]) -> u32 {
        let size = dark.len();
        let at = |x: usize, y: usize| dark[y][x];
        let mut score = 0;
        for horizontal in [true, false] {
            for i in 0..size {
                let line: Vec<bool> = (0..size)
                    .map(|j| if horizontal { at(j, i) } else { at(i, j) })
                    .collect();
                // Rule 1.
                let mut j = 0;
                while j < size {
                    let mut k = j;
                    while k < size && line[k] == line[j] {
                        k += 1;
                    }
                    if k - j >= 5 {
                        score += 3 + (k - j - 5) as u32;
                    }
                    j = k;
                }
                // Rule 3, on the line with a quiet zone either side, for every
                // ratio n: dark n, light n, dark 3n, light n, dark n, bounded
                // by light, and 4n light before or after.
                let quiet = 4 * size;
                let padded: Vec<bool> = std::iter::repeat_n(false, quiet)
                    .chain(line.iter().copied())
                    .chain(std::iter::repeat_n(false, quiet))
                    .collect();
                let light = |from: usize, len: usize| padded[from..from + len].iter().all(|&d| !d);
                let darks = |from: usize, len: usize| padded[from..from + len].iter().all(|&d| d);
                for n in 1..=size / 7 {
                    for s in quiet..quiet + size {
                        let core = !padded[s - 1]
                            && darks(s, n)
                            && light(s + n, n)
                            && darks(s + 2 * n, 3 * n)
                            && light(s + 5 * n, n)
                            && darks(s + 6 * n, n)
                            && !padded[s + 7 * n];
                        if core {
                            score += 40 * u32::from(light(s - 4 * n, 4 * n) && light(s + 7 * n, n));
                            score += 40 * u32::from(light(s + 7 * n, 4 * n) && light(s - n, n));
                        }
                    }
                }
            }
        }
        // Rule 2.
        for y in 0..size - 1 {
            for x in 0..size - 1 {
                let c = at(x, y);
                if c == at(x + 1, y) && c == at(x, y + 1) && c == at(x + 1, y + 1) {
                    score += 3;
                }
            }
        }
        // Rule 4: the dark share's distance from 50 %, in whole 5 % steps.
        let dark_count = dark.iter().flatten().filter(|&&d| d).count() as f64;
        let share = dark_count * 100.0 / (size * size) as f64;
        score + 10 * ((share - 50.0).abs() / 5.0).floor() as u32
    }

    fn lines(dark: &[Vec<bool>]) -> Vec<Line> {
        dark.iter()
            .map(|row| {
                let mut line = [0; WORDS];
                for (x, &d) in row.iter().enumerate() {
                    line[x / 64] |= u64::from(d) << (x % 64);
                }
                line
            })
            .collect()
    }

    fn fast(dark: &[Vec<bool>]) -> u32 {
        let rows = lines(dark);
        score(&rows, &transpose(&rows), dark.len())
    }

    /// A small deterministic generator (SplitMix64).
    struct Random(u64);
    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn finder_like_patterns_in_every_ratio() {
        // A 21-module light square with one row: .x.xxx.x.... then light.
        let mut dark = vec![vec![false; 21]; 21];
        for x in [1, 3, 4, 5, 7] {
            dark[10][x] = true;
        }
        // Light before (the quiet zone) and after: counted twice.
        assert_eq!(fast(&dark), reference(&dark));
        // The same pattern at ratio 2, and at ratio 3 touching the edge.
        for (row, n, at) in [(2, 2, 3), (17, 3, 0)] {
            for (offset, len) in [(0, 1), (2, 3), (6, 1)] {
                dark[row][at + n * offset..at + n * (offset + len)].fill(true);
            }
        }
        assert_eq!(fast(&dark), reference(&dark));
    }

    #[test]
    fn the_fast_score_is_the_reference_score() {
        let mut random = Random(2026);
        for size in [21, 25, 57, 63, 64, 65, 101, 127, 128, 129, 177] {
            for density in [1, 2, 3] {
                // Sparse to dense, with long runs and finder-like patterns.
                let dark: Vec<Vec<bool>> = (0..size)
                    .map(|_| (0..size).map(|_| random.next() % 4 < density).collect())
                    .collect();
                assert_eq!(fast(&dark), reference(&dark), "size {size}");
                let rows = lines(&dark);
                assert!((0..size).all(|x| bit(&rows[0], x) == dark[0][x]));
            }
        }
    }

    #[test]
    fn real_symbols_in_every_mask_score_as_the_reference_says() {
        for len in [12, 268, 700, 1500] {
            let text: String = "SP1:"
                .chars()
                .chain("7 $Q-:*A/.%+".chars().cycle().take(len))
                .collect();
            let codewords = super::super::codewords::encode(text.as_bytes()).unwrap();
            let mut grid = super::super::matrix::Grid::new(codewords.version);
            grid.place(&codewords.bytes);
            for mask in 0..8 {
                let rows = super::super::mask::masked(&grid, mask);
                let dark: Vec<Vec<bool>> = rows
                    .iter()
                    .map(|row| (0..grid.size).map(|x| bit(row, x)).collect())
                    .collect();
                assert_eq!(
                    fast(&dark),
                    reference(&dark),
                    "{len} characters, mask {mask}"
                );
            }
        }
    }
}
