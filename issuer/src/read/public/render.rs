//! A pass text as a QR code image, SVG or PNG. Rendered once per pass, the
//! first time either is asked for, and kept in the
//! [`PassBook`](crate::read::passbook::PassBook), never per request.
//!
//! The modules come from our own encoder, [`sealpass_qr_encode`]: error
//! correction level M, as docs/format.md sizes passes (version 10 for a pass
//! with every claim), alphanumeric mode (a pass text is all in that set),
//! the mask ISO/IEC 18004 chooses. Four modules of quiet zone. How long a
//! full pass takes, against the `qrcode` and `fast_qr` crates:
//! docs/performance.md, "QR rendering" (`cargo bench -p sealpass-issuer
//! --bench render`).

use sealpass_qr_encode::{self as qr, Symbol};

pub use sealpass_qr_encode::TooLong;

/// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;
/// PNG pixels per module: 57 modules of a version-10 code make 260 px.
const PNG_SCALE: usize = 4;
// Two modules make one byte of a 1-bit PNG row, the quiet zone whole bytes.
const _: () = assert!(PNG_SCALE == 4 && (QUIET * PNG_SCALE).is_multiple_of(8));
/// The PNG byte of two modules (bit 0: the left one dark, bit 1: the right
/// one), 4 pixels each, 0 for dark.
const PAIRS: [u8; 4] = [0xff, 0x0f, 0xf0, 0x00];

/// The modules of a QR code.
pub struct Modules {
    symbol: Symbol,
}

impl Modules {
    pub fn of(text: &str) -> Result<Modules, TooLong> {
        Ok(Modules {
            symbol: qr::encode(text)?,
        })
    }

    pub fn width(&self) -> usize {
        self.symbol.width()
    }

    /// An SVG of one stroked path, a horizontal run of dark modules per
    /// `h` segment, in module units: small (a few KiB) and sharp at any
    /// size.
    pub fn svg(&self) -> String {
        let size = self.width() + 2 * QUIET;
        let mut path = String::with_capacity(self.width() * self.width() / 2);
        for y in 0..self.width() {
            let mut pen: Option<usize> = None;
            for (start, end) in self.symbol.dark_runs(y) {
                match pen {
                    None => {
                        path.push('M');
                        push_number(&mut path, start + QUIET);
                        path.push(' ');
                        push_number(&mut path, y + QUIET);
                        path.push_str(".5h");
                    }
                    Some(pen) => {
                        path.push('m');
                        push_number(&mut path, start - pen);
                        path.push_str(" 0h");
                    }
                }
                push_number(&mut path, end - start);
                pen = Some(end);
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
             shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"sealpass QR code\">\
             <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
             <path stroke=\"#000\" stroke-width=\"1\" d=\"{path}\"/></svg>\n"
        )
    }

    /// A 1-bit greyscale PNG, [`PNG_SCALE`] pixels per module: a few
    /// hundred bytes; scale it up with nearest-neighbour (CSS
    /// `image-rendering: pixelated`). Each module row is drawn once, two
    /// modules a byte, and copied; PNG's "Up" filter turns the copies into zeros, which the
    /// fastest DEFLATE setting packs well.
    pub fn png(&self) -> Vec<u8> {
        let width = self.width();
        let pixels = (width + 2 * QUIET) * PNG_SCALE;
        let row_bytes = pixels.div_ceil(8);
        let mut data = vec![0xff_u8; row_bytes * pixels];
        let band = PNG_SCALE * row_bytes;
        for (y, rows) in data[QUIET * band..]
            .chunks_exact_mut(band)
            .take(width)
            .enumerate()
        {
            let (first, copies) = rows.split_at_mut(row_bytes);
            // Two modules a byte, after the quiet zone's two bytes; the
            // module past the last (odd width) is light.
            let pairs = &mut first[QUIET * PNG_SCALE / 8..][..width.div_ceil(2)];
            for (i, byte) in pairs.iter_mut().enumerate() {
                *byte = PAIRS[self.symbol.pair(2 * i, y)];
            }
            for copy in copies.chunks_exact_mut(row_bytes) {
                copy.copy_from_slice(first);
            }
        }
        let mut out = Vec::with_capacity(1024);
        {
            let mut encoder = png::Encoder::new(&mut out, pixels as u32, pixels as u32);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::One);
            encoder.set_compression(png::Compression::Fastest);
            let mut writer = encoder.write_header().expect("writing to a Vec");
            writer
                .write_image_data(&data)
                .expect("the image data has the header's size");
        }
        out
    }
}

/// Append a number below 1000 in decimal (what `write!` does, without its
/// formatting machinery: the SVG has two or three numbers per run).
fn push_number(out: &mut String, n: usize) {
    debug_assert!(n < 1000, "QR coordinates are below 200");
    if n >= 100 {
        out.push(char::from(b'0' + (n / 100) as u8));
    }
    if n >= 10 {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{City, NOW, sample_claims};
    use sealpass_core::{HealthStatus, PassClaims, Seconds, Vaccination, sign_pass};

    fn full_pass() -> String {
        sign_pass(&sample_claims(NOW), &City::new().active).unwrap()
    }

    /// The fewest claims a pass can have: no vaccination, no test.
    fn shortest_pass() -> String {
        let claims = PassClaims {
            issuer: "CN".into(),
            issued_at: NOW,
            not_before: NOW,
            expires_at: NOW.plus(Seconds::hours(1)),
            revocation_index: 0,
            health: HealthStatus {
                colour: sealpass_core::Colour::Red,
                masked_name: sealpass_core::mask_name("李"),
                masked_id: String::new(),
                vaccination: Vaccination {
                    doses: 0,
                    last_dose: None,
                },
                last_test: None,
            },
            holder: None,
        };
        sign_pass(&claims, &City::new().active).unwrap()
    }

    /// Pass-like texts, `SP1:` and Base45 characters, from version 1 to 40.
    fn long_and_short_texts() -> Vec<String> {
        const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        [
            10, 20, 60, 140, 262, 268, 311, 312, 500, 1000, 1700, 2500, 3391,
        ]
        .iter()
        .map(|&len| {
            let body = (0..len - 4).map(|i| BASE45[(i * 7 + len) % 45] as char);
            "SP1:".chars().chain(body).collect()
        })
        .collect()
    }

    /// The PNG's pixels, 0 for dark and 255 for light, and its side.
    fn png_pixels(png: &[u8]) -> (Vec<u8>, usize) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a valid PNG");
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).expect("a valid PNG");
        assert_eq!(info.width, info.height);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert!(pixels.iter().all(|&p| p == 0 || p == 255));
        (pixels, info.width as usize)
    }

    /// The dark modules an SVG's path draws, quiet zone included.
    fn svg_modules(svg: &str) -> Vec<(usize, usize)> {
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = Vec::new();
        let (mut x, mut y) = (0, 0);
        let mut rest = path;
        while let Some(command) = rest.chars().next() {
            rest = &rest[1..];
            let end = rest
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let numbers: Vec<f64> = rest[..end].split(' ').map(|n| n.parse().unwrap()).collect();
            rest = &rest[end..];
            match (command, numbers.as_slice()) {
                ('M', &[mx, my]) => (x, y) = (mx as usize, my.floor() as usize),
                ('m', &[dx, dy]) => {
                    assert_eq!(dy, 0.0);
                    x += dx as usize;
                }
                ('h', &[len]) => {
                    dark.extend((x..x + len as usize).map(|x| (x, y)));
                    x += len as usize;
                }
                _ => panic!("unexpected path command {command} {numbers:?}"),
            }
        }
        dark
    }

    /// Render `text`, read the PNG back with the verifier's decoder, and
    /// compare the SVG's modules with the PNG's, pixel by pixel.
    fn check(text: &str) -> Modules {
        let modules = Modules::of(text).unwrap();
        let (pixels, side) = png_pixels(&modules.png());
        let size = modules.width() + 2 * QUIET;
        assert_eq!(side, size * PNG_SCALE);

        let frame = sealpass_qr::Frame::new(pixels.clone(), side as u32, side as u32).unwrap();
        let read = sealpass_qr::read(&frame, sealpass_qr::Look::Multi);
        assert_eq!(read, [text], "{} characters", text.len());

        let mut svg_dark = vec![false; size * size];
        for (x, y) in svg_modules(&modules.svg()) {
            svg_dark[y * size + x] = true;
        }
        for (i, &dark) in svg_dark.iter().enumerate() {
            let (mx, my) = (i % size, i / size);
            for py in my * PNG_SCALE..(my + 1) * PNG_SCALE {
                for px in mx * PNG_SCALE..(mx + 1) * PNG_SCALE {
                    assert_eq!(pixels[py * side + px] == 0, dark, "module {mx},{my}");
                }
            }
        }
        modules
    }

    #[test]
    fn a_full_pass_is_a_version_10_code_and_small_images() {
        let modules = check(&full_pass());
        assert_eq!(modules.width(), 57, "version 10 at level M");
        let svg = modules.svg();
        assert!(
            svg.starts_with("<svg") && svg.len() < 6 * 1024,
            "{}",
            svg.len()
        );
        let png = modules.png();
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() < 2560, "{}", png.len());
    }

    #[test]
    fn numbers_in_decimal() {
        let mut out = String::new();
        for n in [0, 7, 10, 99, 100, 185, 999] {
            push_number(&mut out, n);
            out.push(' ');
        }
        assert_eq!(out, "0 7 10 99 100 185 999 ");
    }

    #[test]
    fn the_shortest_pass_reads_back() {
        let text = shortest_pass();
        assert!(text.len() < full_pass().len());
        check(&text);
    }

    #[test]
    fn passes_of_every_size_read_back_from_the_png_and_match_the_svg() {
        for text in long_and_short_texts() {
            check(&text);
        }
    }
}
