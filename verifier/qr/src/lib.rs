//! QR codes in 8-bit grey frames, read by rxing (a port of ZXing) with the
//! settings every sealpass verifier uses: the command line's `scan` (which
//! also shrinks and turns a photo it cannot read at first) and the web app,
//! which reads one camera frame at a time in a Web Worker.
//!
//! ```
//! use sealpass_qr::{Frame, Look, read};
//!
//! let blank = Frame::new(vec![255; 64 * 48], 64, 48).unwrap();
//! assert!(read(&blank, Look::Multi).is_empty());
//! ```

#![forbid(unsafe_code)]

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::qrcode::QRCodeMultiReader;
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::qrcode::QRCodeReader;
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8LuminanceSource, RXingResult,
};
use std::collections::HashSet;

/// An 8-bit grey image, one byte per pixel, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    luma: Vec<u8>,
    width: u32,
    height: u32,
}

impl Frame {
    /// `None` unless `luma` holds exactly `width * height` pixels, neither zero.
    pub fn new(luma: Vec<u8>, width: u32, height: u32) -> Option<Frame> {
        let pixels = (width as usize).checked_mul(height as usize)?;
        (pixels > 0 && luma.len() == pixels).then_some(Frame {
            luma,
            width,
            height,
        })
    }

    /// An RGBA frame (a canvas's `ImageData`) in grey, with the ITU-R BT.709
    /// weights the `image` crate's `to_luma8` uses for photos.
    pub fn from_rgba(rgba: &[u8], width: u32, height: u32) -> Option<Frame> {
        let pixels = (width as usize).checked_mul(height as usize)?;
        if rgba.len() != pixels.checked_mul(4)? {
            return None;
        }
        let luma = rgba
            .chunks_exact(4)
            .map(|p| {
                let weighted =
                    2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2]);
                (weighted / 10_000) as u8
            })
            .collect();
        Frame::new(luma, width, height)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn luma(&self) -> &[u8] {
        &self.luma
    }
}

/// One way of looking for codes in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Finder-pattern search for several codes at once, local thresholds
    /// (the hybrid binarizer): the first and cheapest look.
    Multi,
    /// One code at a time, searching the rest of the frame around each find.
    Generic,
    /// As [`Look::Multi`], with one global threshold: washed-out photos.
    MultiGlobal,
}

/// The text of every distinct code this look finds, in the order found.
pub fn read(frame: &Frame, look: Look) -> Vec<String> {
    let Ok(source) = Luma8LuminanceSource::new(frame.luma.clone(), frame.width, frame.height)
    else {
        return Vec::new();
    };
    let results = match look {
        Look::Multi => multi(BinaryBitmap::new(HybridBinarizer::new(source))),
        Look::Generic => generic(BinaryBitmap::new(HybridBinarizer::new(source))),
        Look::MultiGlobal => multi(BinaryBitmap::new(GlobalHistogramBinarizer::new(source))),
    };
    let mut seen = HashSet::new();
    results
        .into_iter()
        .map(|r| r.getText().to_owned())
        .filter(|text| seen.insert(text.clone()))
        .collect()
}

/// QR codes only, inverted ones too, trying harder than ZXing's default.
fn hints() -> DecodeHints {
    DecodeHints {
        TryHarder: Some(true),
        AlsoInverted: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    }
}

fn multi<B: Binarizer>(mut bitmap: BinaryBitmap<B>) -> Vec<RXingResult> {
    QRCodeMultiReader::new()
        .decode_multiple_with_hints(&mut bitmap, &hints())
        .unwrap_or_default()
}

fn generic<B: Binarizer>(mut bitmap: BinaryBitmap<B>) -> Vec<RXingResult> {
    GenericMultipleBarcodeReader::new(QRCodeReader::new())
        .decode_multiple_with_hints(&mut bitmap, &hints())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::{EcLevel, QrCode};
    use sealpass_core::sign_pass;
    use sealpass_core::testkit::{City, NOW, sample_claims};

    /// A pass at `module` pixels a module, centred on a grey `w` x `h` frame.
    fn frame_with_pass(text: &str, module: u32, w: u32, h: u32) -> Frame {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let n = code.width() as u32 + 8;
        let colors = code.to_colors();
        let (x0, y0) = ((w - n * module) / 2, (h - n * module) / 2);
        let mut luma = vec![180u8; (w * h) as usize];
        for y in 0..n * module {
            for x in 0..n * module {
                let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
                let inside = (0..code.width() as i64).contains(&mx)
                    && (0..code.width() as i64).contains(&my);
                let dark = inside
                    && colors[(my * code.width() as i64 + mx) as usize] == qrcode::Color::Dark;
                luma[((y0 + y) * w + x0 + x) as usize] = if dark { 20 } else { 250 };
            }
        }
        Frame::new(luma, w, h).unwrap()
    }

    #[test]
    fn every_look_reads_a_pass_in_a_camera_frame() {
        let city = City::new();
        let text = sign_pass(&sample_claims(NOW), &city.active).unwrap();
        let frame = frame_with_pass(&text, 5, 640, 480);
        for look in [Look::Multi, Look::Generic, Look::MultiGlobal] {
            assert_eq!(read(&frame, look), std::slice::from_ref(&text), "{look:?}");
        }
        let other = sign_pass(&sample_claims(NOW), &city.rogue).unwrap();
        assert_ne!(
            read(&frame_with_pass(&other, 4, 640, 480), Look::Multi),
            [text]
        );
    }

    /// Byte-mode codes go through rxing's character sets, which the
    /// workspace gives its own encoding_rs stand-in (verifier/qr/encodings).
    #[test]
    fn byte_mode_codes_read_as_utf8_or_latin1() {
        for text in ["https://pass.example/p?c=sp1", "绿码 · sealpass", "Café"] {
            assert_eq!(
                read(&frame_with_pass(text, 5, 640, 480), Look::Multi),
                [text]
            );
        }
    }

    #[test]
    fn rgba_frames_are_weighted_as_photos_are() {
        let frame =
            Frame::from_rgba(&[255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 0], 3, 1).unwrap();
        assert_eq!(frame.luma(), [54, 182, 18]);
        assert_eq!(Frame::from_rgba(&[0; 7], 1, 2), None);
        assert_eq!(Frame::new(vec![], 0, 0), None);
    }
}
