//! A pass text as a QR code image, SVG or PNG. Rendered once per pass, when
//! the pass is loaded into the [`PassBook`](super::passbook::PassBook), never
//! per request.
//!
//! Error correction level M, as docs/format.md sizes passes (version 10 for
//! a pass with every claim); the encoder picks alphanumeric mode by itself,
//! since a pass text is all in that set. Four modules of quiet zone.

use qrcode::{EcLevel, QrCode};
use std::fmt::Write as _;

/// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;
/// PNG pixels per module: 57 modules of a version-10 code make 260 px.
const PNG_SCALE: usize = 4;

/// Why a text cannot be a QR code (longer than a version-40 code holds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pass text does not fit in a QR code")]
pub struct TooLong;

/// The modules of a QR code, row by row, `true` for dark.
pub struct Modules {
    width: usize,
    dark: Vec<bool>,
}

impl Modules {
    pub fn of(text: &str) -> Result<Modules, TooLong> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| TooLong)?;
        Ok(Modules {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// An SVG of one stroked path, a horizontal run of dark modules per
    /// `h` segment, in module units: small (a few KiB) and sharp at any
    /// size.
    pub fn svg(&self) -> String {
        let size = self.width + 2 * QUIET;
        let mut path = String::with_capacity(self.width * self.width / 2);
        for y in 0..self.width {
            let mut x = 0;
            let mut pen: Option<usize> = None;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let _ = match pen {
                    None => write!(path, "M{} {}.5h{}", start + QUIET, y + QUIET, x - start),
                    Some(end) => write!(path, "m{} 0h{}", start - end, x - start),
                };
                pen = Some(x);
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
    /// `image-rendering: pixelated`).
    pub fn png(&self) -> Vec<u8> {
        let pixels = (self.width + 2 * QUIET) * PNG_SCALE;
        let row_bytes = pixels.div_ceil(8);
        let mut data = vec![0xff_u8; row_bytes * pixels];
        for y in 0..self.width {
            for x in 0..self.width {
                if !self.is_dark(x, y) {
                    continue;
                }
                for dy in 0..PNG_SCALE {
                    let py = (y + QUIET) * PNG_SCALE + dy;
                    for dx in 0..PNG_SCALE {
                        let px = (x + QUIET) * PNG_SCALE + dx;
                        data[py * row_bytes + px / 8] &= !(0x80 >> (px % 8));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(1024);
        {
            let mut encoder = png::Encoder::new(&mut out, pixels as u32, pixels as u32);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::One);
            encoder.set_compression(png::Compression::Fast);
            let mut writer = encoder.write_header().expect("writing to a Vec");
            writer
                .write_image_data(&data)
                .expect("the image data has the header's size");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_pass_is_a_version_10_code_and_small_images() {
        let text = sealpass_core::sign_pass(
            &sealpass_core::testkit::sample_claims(sealpass_core::testkit::NOW),
            &sealpass_core::testkit::key("issuer CN-610100 2026"),
        )
        .unwrap();
        let modules = Modules::of(&text).unwrap();
        assert_eq!(modules.width(), 57, "version 10 at level M");
        let svg = modules.svg();
        assert!(
            svg.starts_with("<svg") && svg.len() < 6 * 1024,
            "{}",
            svg.len()
        );
        let png = modules.png();
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() < 2048, "{}", png.len());
    }
}
