//! QR codes in image files: PNG or JPEG decoded by `image`, codes found and
//! read by sealpass-qr (rxing, a port of ZXing, with the settings the web
//! app uses on camera frames). A photo of a phone screen is blurred, tilted
//! and noisy, so several ways of looking are tried, cheapest first, until
//! one finds a code.

use image::{GrayImage, ImageReader, imageops};
use sealpass_qr::{Frame, Look};
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use thiserror::Error;

/// Larger files are refused before decoding: no phone photo comes close.
pub const MAX_IMAGE_FILE_LEN: u64 = 64 << 20;
/// Images are read at most this many pixels on a side (larger ones are shrunk).
const MAX_SIDE: u32 = 1600;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error(
        "no QR code found in {path}: hold the pass flat, fill the frame, avoid glare, and try again"
    )]
    NoCode { path: String },
}

impl ImageError {
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Unreadable { .. } => "unreadable_image",
            ImageError::NoCode { .. } => "no_code_found",
        }
    }
}

/// The text of every distinct QR code in the image file, in the order found.
pub fn read_codes(path: &Path) -> Result<Vec<String>, ImageError> {
    let shown = path.display().to_string();
    let unreadable = |reason: String| ImageError::Unreadable {
        path: shown.clone(),
        reason,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| unreadable(e.to_string()))?
        .len();
    if len > MAX_IMAGE_FILE_LEN {
        return Err(unreadable(format!(
            "{len} bytes, more than the {MAX_IMAGE_FILE_LEN} accepted"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let grey = decode_image(&bytes).map_err(unreadable)?;
    // rxing is a large port; whatever an image does to it, never let it
    // take the whole run down.
    let codes = catch_unwind(AssertUnwindSafe(|| find_codes(&grey)))
        .map_err(|_| unreadable("the QR decoder failed on this image".into()))?;
    if codes.is_empty() {
        return Err(ImageError::NoCode { path: shown });
    }
    Ok(codes)
}

/// PNG or JPEG bytes to 8-bit grey, shrunk to at most [`MAX_SIDE`] a side.
pub fn decode_image(bytes: &[u8]) -> Result<GrayImage, String> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("not a PNG or JPEG image".into());
    }
    let image = reader.decode().map_err(|e| e.to_string())?;
    let grey = image.to_luma8();
    let (w, h) = grey.dimensions();
    if w.max(h) <= MAX_SIDE {
        return Ok(grey);
    }
    let scale = MAX_SIDE as f64 / w.max(h) as f64;
    let (nw, nh) = ((w as f64 * scale) as u32, (h as f64 * scale) as u32);
    Ok(imageops::resize(
        &grey,
        nw.max(1),
        nh.max(1),
        imageops::FilterType::Triangle,
    ))
}

/// Every distinct code found by the first way of looking that finds any.
///
/// ZXing's detector samples rows and columns, so a code it misses at one
/// size or orientation it often finds at another: the image is tried at
/// full, three-quarter and half size, each turned by 0, 90, 270 and 180
/// degrees, with both multi-code readers (and a global threshold once).
/// A clean image is read by the first attempt; an image without any code
/// costs them all.
pub fn find_codes(grey: &GrayImage) -> Vec<String> {
    for (numerator, denominator) in [(1, 1), (3, 4), (1, 2)] {
        let sized = if numerator == denominator {
            grey.clone()
        } else {
            scaled(grey, numerator, denominator)
        };
        for quarter_turns in [0, 1, 3, 2] {
            let turned = match quarter_turns {
                0 => sized.clone(),
                1 => imageops::rotate90(&sized),
                2 => imageops::rotate180(&sized),
                _ => imageops::rotate270(&sized),
            };
            let (width, height) = turned.dimensions();
            let Some(frame) = Frame::new(turned.into_raw(), width, height) else {
                continue;
            };
            let mut found = sealpass_qr::read(&frame, Look::Multi);
            if found.is_empty() {
                found = sealpass_qr::read(&frame, Look::Generic);
            }
            if found.is_empty() && quarter_turns == 0 {
                found = sealpass_qr::read(&frame, Look::MultiGlobal);
            }
            if !found.is_empty() {
                return found;
            }
        }
    }
    Vec::new()
}

fn scaled(grey: &GrayImage, numerator: u32, denominator: u32) -> GrayImage {
    imageops::resize(
        grey,
        (grey.width() * numerator / denominator).max(1),
        (grey.height() * numerator / denominator).max(1),
        imageops::FilterType::Triangle,
    )
}
