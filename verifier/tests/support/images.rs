//! QR images for `scan` tests: passes rendered with the `qrcode` crate, and
//! the small transforms a phone camera applies to them (rotation,
//! perspective, blur, noise, washed-out contrast, JPEG compression), written
//! here so that each one is plain to see.

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

/// A pass as a phone shows it: black modules of `module` pixels on white,
/// with the standard 4-module quiet zone.
pub fn render(text: &str, module: u32) -> GrayImage {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    code.render::<Luma<u8>>()
        .module_dimensions(module, module)
        .quiet_zone(true)
        .build()
}

pub fn canvas(width: u32, height: u32, grey: u8) -> GrayImage {
    GrayImage::from_pixel(width, height, Luma([grey]))
}

pub fn paste(onto: &mut GrayImage, image: &GrayImage, x: u32, y: u32) {
    for (px, py, pixel) in image.enumerate_pixels() {
        if x + px < onto.width() && y + py < onto.height() {
            onto.put_pixel(x + px, y + py, *pixel);
        }
    }
}

/// Bilinear sample at a real position; `background` outside the image.
fn sample(image: &GrayImage, x: f64, y: f64, background: u8) -> u8 {
    let (w, h) = (image.width() as f64, image.height() as f64);
    if x < 0.0 || y < 0.0 || x > w - 1.0 || y > h - 1.0 {
        return background;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |dx: f64, dy: f64| {
        let px = ((x0 + dx) as u32).min(image.width() - 1);
        let py = ((y0 + dy) as u32).min(image.height() - 1);
        image.get_pixel(px, py).0[0] as f64
    };
    let top = at(0.0, 0.0) * (1.0 - fx) + at(1.0, 0.0) * fx;
    let bottom = at(0.0, 1.0) * (1.0 - fx) + at(1.0, 1.0) * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// Turned by `degrees` about its centre, on a canvas large enough to hold it.
pub fn rotate(image: &GrayImage, degrees: f64, background: u8) -> GrayImage {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (w, h) = (image.width() as f64, image.height() as f64);
    let out_w = (w * cos.abs() + h * sin.abs()).ceil() as u32;
    let out_h = (w * sin.abs() + h * cos.abs()).ceil() as u32;
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (ox, oy) = (out_w as f64 / 2.0, out_h as f64 / 2.0);
    GrayImage::from_fn(out_w, out_h, |x, y| {
        let (dx, dy) = (x as f64 - ox, y as f64 - oy);
        // The inverse rotation finds where each output pixel came from.
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        Luma([sample(image, sx, sy, background)])
    })
}

/// The image's corners moved to `corners` (top-left, top-right,
/// bottom-right, bottom-left) on a `width` x `height` canvas: a pass
/// photographed at an angle.
pub fn perspective(
    image: &GrayImage,
    corners: [(f64, f64); 4],
    width: u32,
    height: u32,
    background: u8,
) -> GrayImage {
    let (w, h) = (image.width() as f64, image.height() as f64);
    let source = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    // Output position -> source position.
    let m = homography(corners, source);
    GrayImage::from_fn(width, height, |x, y| {
        let (x, y) = (x as f64, y as f64);
        let d = m[6] * x + m[7] * y + 1.0;
        let sx = (m[0] * x + m[1] * y + m[2]) / d;
        let sy = (m[3] * x + m[4] * y + m[5]) / d;
        Luma([sample(image, sx, sy, background)])
    })
}

/// The projective map taking `from[i]` to `to[i]`, as the 8 free entries of
/// its 3x3 matrix (the ninth is 1), by Gaussian elimination.
fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> [f64; 8] {
    let mut a = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let ((x, y), (u, v)) = (from[i], to[i]);
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let factor = row[col] / pivot_row[col];
                for (value, pivot_value) in row.iter_mut().zip(pivot_row).skip(col) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    std::array::from_fn(|i| a[i][8] / a[i][i])
}

/// A box blur of `radius` pixels, horizontally then vertically: out of focus.
pub fn blur(image: &GrayImage, radius: u32) -> GrayImage {
    let pass = |image: &GrayImage, horizontal: bool| {
        let r = radius as i64;
        GrayImage::from_fn(image.width(), image.height(), |x, y| {
            let (mut sum, mut n) = (0u32, 0u32);
            for d in -r..=r {
                let (px, py) = if horizontal {
                    (x as i64 + d, y as i64)
                } else {
                    (x as i64, y as i64 + d)
                };
                if px >= 0 && py >= 0 && (px as u32) < image.width() && (py as u32) < image.height()
                {
                    sum += image.get_pixel(px as u32, py as u32).0[0] as u32;
                    n += 1;
                }
            }
            Luma([(sum / n) as u8])
        })
    };
    pass(&pass(image, true), false)
}

/// Sensor noise: each pixel moved by up to `amplitude` either way, from a
/// seeded generator so that every run sees the same image.
pub fn noise(image: &GrayImage, amplitude: i32, seed: u64) -> GrayImage {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        let delta = (next() % (2 * amplitude as u64 + 1)) as i32 - amplitude;
        pixel.0[0] = (pixel.0[0] as i32 + delta).clamp(0, 255) as u8;
    }
    out
}

/// A screen photographed in a bright room: black is grey, white is grey.
pub fn washed_out(image: &GrayImage, black: u8, white: u8) -> GrayImage {
    let mut out = image.clone();
    let span = white as f64 - black as f64;
    for pixel in out.pixels_mut() {
        pixel.0[0] = (black as f64 + pixel.0[0] as f64 / 255.0 * span).round() as u8;
    }
    out
}

/// Light falling off from left to right by up to `drop` levels.
pub fn shade(image: &GrayImage, drop: u8) -> GrayImage {
    let mut out = image.clone();
    let width = image.width() as f64;
    for (x, _, pixel) in out.enumerate_pixels_mut() {
        let loss = (drop as f64 * x as f64 / width).round() as i32;
        pixel.0[0] = (pixel.0[0] as i32 - loss).clamp(0, 255) as u8;
    }
    out
}

pub fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    bytes
}

/// JPEG at `quality` (1-100): the lower, the more blocky damage.
pub fn jpeg(image: &GrayImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    bytes
}
