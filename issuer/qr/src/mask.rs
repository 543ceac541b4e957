//! Masks and the choice among them (ISO/IEC 18004:2015 §7.8): each of the
//! eight masks is applied to the codewords' modules, the format information
//! for it drawn, and the symbol scored (`penalty.rs`); the lowest score wins,
//! the lower mask number on a tie. A whole row or column is masked at once:
//! every mask repeats every 12 modules both ways, so twelve lines of bits per
//! mask and direction hold all of it.

use super::matrix::{Grid, Line, WORDS, format_positions, transpose};
use super::penalty;

/// Whether mask `mask` darkens or lightens the module in column `x`, row `y`
/// (Table 10, with i the row and j the column).
const fn inverts(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => (x / 3 + y / 2).is_multiple_of(2),
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + (x * y) % 3).is_multiple_of(2),
    }
}

/// The period, in both directions, of every mask.
const PERIOD: usize = 12;

/// Per mask, the lines it inverts: row `y` is `[mask][y % 12]` when
/// `by_row`, else column `x` is `[mask][x % 12]`.
const fn patterns(by_row: bool) -> [[Line; PERIOD]; 8] {
    let mut table = [[[0; WORDS]; PERIOD]; 8];
    let mut mask = 0;
    while mask < 8 {
        let mut k = 0;
        while k < PERIOD {
            let mut i = 0;
            while i < 64 * WORDS {
                let (x, y) = if by_row { (i, k) } else { (k, i) };
                if inverts(mask as u8, x, y) {
                    table[mask][k][i / 64] |= 1 << (i % 64);
                }
                i += 1;
            }
            k += 1;
        }
        mask += 1;
    }
    table
}

static ROW_PATTERNS: [[Line; PERIOD]; 8] = patterns(true);
static COLUMN_PATTERNS: [[Line; PERIOD]; 8] = patterns(false);

/// The 15 format information bits for level M and `mask`: the five data
/// bits, their BCH (15,5) code, XOR 0x5412 (§7.9.1).
pub(super) fn format_bits(mask: u8) -> u32 {
    let data = u32::from(mask); // level M is 00
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    (data << 10 | rem) ^ 0x5412
}

/// The grid's lines (rows or columns) with `mask` applied where `data` is set.
fn apply(
    mask: u8,
    lines: &[Line],
    data: &[Line],
    patterns: &[[Line; PERIOD]; 8],
    out: &mut [Line],
) {
    let table = &patterns[usize::from(mask)];
    for (i, ((out, line), data)) in out.iter_mut().zip(lines).zip(data).enumerate() {
        let pattern = &table[i % PERIOD];
        for w in 0..WORDS {
            out[w] = line[w] ^ (pattern[w] & data[w]);
        }
    }
}

/// Draw the format information for `mask` (its place is light in the grid).
fn draw_format(mask: u8, size: usize, rows: &mut [Line], cols: Option<&mut [Line]>) {
    let bits = format_bits(mask);
    let positions = format_positions(size);
    for copy in &positions {
        for (i, &(x, y)) in copy.iter().enumerate() {
            if bits >> i & 1 != 0 {
                rows[y][x / 64] |= 1 << (x % 64);
            }
        }
    }
    if let Some(cols) = cols {
        for copy in &positions {
            for (i, &(x, y)) in copy.iter().enumerate() {
                if bits >> i & 1 != 0 {
                    cols[x][y / 64] |= 1 << (y % 64);
                }
            }
        }
    }
}

/// Where a mask applies: the modules that are not function patterns.
fn data_rows(grid: &Grid) -> Vec<Line> {
    let full = full_line(grid.size);
    grid.function
        .iter()
        .map(|f| std::array::from_fn(|w| !f[w] & full[w]))
        .collect()
}

/// The first `len` bits set.
fn full_line(len: usize) -> Line {
    std::array::from_fn(|w| match len.saturating_sub(64 * w) {
        0 => 0,
        n if n >= 64 => u64::MAX,
        n => (1 << n) - 1,
    })
}

/// The symbol's rows with `mask` applied and its format information drawn.
pub(super) fn masked(grid: &Grid, mask: u8) -> Vec<Line> {
    let mut rows = vec![[0; WORDS]; grid.size];
    apply(mask, &grid.dark, &data_rows(grid), &ROW_PATTERNS, &mut rows);
    draw_format(mask, grid.size, &mut rows, None);
    rows
}

/// The mask with the lowest penalty, and the symbol's rows with it.
pub(super) fn best(grid: &Grid) -> (u8, Vec<Line>) {
    let size = grid.size;
    let data = data_rows(grid);
    let dark_cols = transpose(&grid.dark);
    let data_cols = transpose(&data);
    let mut rows = vec![[0; WORDS]; size];
    let mut cols = vec![[0; WORDS]; size];
    let mut best = (u32::MAX, 0);
    for mask in 0..8 {
        apply(mask, &grid.dark, &data, &ROW_PATTERNS, &mut rows);
        apply(mask, &dark_cols, &data_cols, &COLUMN_PATTERNS, &mut cols);
        draw_format(mask, size, &mut rows, Some(&mut cols));
        let score = penalty::score(&rows, &cols, size);
        if score < best.0 {
            best = (score, mask);
        }
    }
    (best.1, masked(grid, best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_bits_match_annex_c() {
        // Level M, masks 0 and 5 and 7 (Table C.1).
        assert_eq!(format_bits(0), 0x5412);
        assert_eq!(format_bits(5), 0x40ce);
        assert_eq!(format_bits(7), 0x4aa0);
    }

    #[test]
    fn the_tables_repeat_every_mask() {
        for mask in 0..8u8 {
            for k in 0..30 {
                for i in 0..177 {
                    let row = &ROW_PATTERNS[usize::from(mask)][k % PERIOD];
                    let col = &COLUMN_PATTERNS[usize::from(mask)][k % PERIOD];
                    assert_eq!(row[i / 64] >> (i % 64) & 1 != 0, inverts(mask, i, k));
                    assert_eq!(col[i / 64] >> (i % 64) & 1 != 0, inverts(mask, k, i));
                }
            }
        }
    }
}
