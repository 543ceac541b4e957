//! A pass's QR code, the `qrcode` crate's way (what the issuer used before)
//! and the `fast_qr` crate's beside ours, measured in the same run so that
//! their ratios mean something on a shared, noisy machine. `scripts/render-ratios` prints the ratios;
//! figures in docs/performance.md, "QR rendering".

use criterion::{Criterion, criterion_group, criterion_main};
use sealpass_issuer::read::public::render::Modules;
use std::hint::black_box;

/// Passes with every claim (version 10 at level M), as the issuer signs
/// them, each for another person (revocation index): every iteration
/// renders the next, so that no branch predictor learns one symbol by
/// heart (the same text over and over measured faster: docs/performance.md,
/// "QR rendering").
fn full_passes() -> Vec<String> {
    let key = sealpass_core::testkit::City::new().active;
    (0..PASSES)
        .map(|i| {
            let mut claims = sealpass_core::testkit::sample_claims(sealpass_core::testkit::NOW);
            claims.revocation_index = 1_000_000 + i;
            sealpass_core::sign_pass(&claims, &key).expect("signs")
        })
        .collect()
}

const PASSES: u32 = 256;

/// A QR code's width and its modules, row by row, `true` for dark.
type DarkModules = fn(&str) -> (usize, Vec<bool>);

/// The `qrcode` crate's modules, row by row, `true` for dark.
fn qrcode_modules(text: &str) -> (usize, Vec<bool>) {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("fits");
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    (code.width(), dark)
}

/// The `fast_qr` crate's modules at level M (its own choice of version,
/// mode and mask), row by row, `true` for dark.
fn fast_qr_modules(text: &str) -> (usize, Vec<bool>) {
    let code = fast_qr::QRBuilder::new(text.as_bytes())
        .ecl(fast_qr::ECL::M)
        .build()
        .expect("fits");
    let dark = code.data[..code.size * code.size]
        .iter()
        .map(|m| m.value())
        .collect();
    (code.size, dark)
}

/// The issuer's PNG writer as it was with the `qrcode` crate: module by
/// module, pixel by pixel, into a 1-bit PNG, `png::Compression::Fast`.
fn old_png(width: usize, dark: &[bool]) -> Vec<u8> {
    const QUIET: usize = 4;
    const SCALE: usize = 4;
    let pixels = (width + 2 * QUIET) * SCALE;
    let row_bytes = pixels.div_ceil(8);
    let mut data = vec![0xff_u8; row_bytes * pixels];
    for y in 0..width {
        for x in 0..width {
            if !dark[y * width + x] {
                continue;
            }
            for dy in 0..SCALE {
                let py = (y + QUIET) * SCALE + dy;
                for dx in 0..SCALE {
                    let px = (x + QUIET) * SCALE + dx;
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
        writer.write_image_data(&data).expect("the header's size");
    }
    out
}

fn render(c: &mut Criterion) {
    let texts = full_passes();
    assert!(
        texts
            .iter()
            .all(|t| Modules::of(t).expect("fits").width() == 57)
    );
    assert!(texts.iter().all(|t| fast_qr_modules(t).0 == 57));
    let mut group = c.benchmark_group("qr");
    // Other crates' matrices, alone and written by the old PNG writer.
    let others: [(&str, DarkModules); 2] = [
        ("qrcode crate", qrcode_modules),
        ("fast_qr crate", fast_qr_modules),
    ];
    for (name, modules) in others {
        group.bench_function(format!("{name} matrix"), |b| {
            let mut next = texts.iter().cycle();
            b.iter(|| modules(black_box(next.next().unwrap())))
        });
        group.bench_function(format!("{name} matrix + PNG"), |b| {
            let mut next = texts.iter().cycle();
            b.iter(|| {
                let (width, dark) = modules(black_box(next.next().unwrap()));
                old_png(width, &dark)
            })
        });
    }
    group.bench_function("sealpass matrix", |b| {
        let mut next = texts.iter().cycle();
        b.iter(|| Modules::of(black_box(next.next().unwrap())).expect("fits"))
    });
    group.bench_function("sealpass matrix + PNG", |b| {
        let mut next = texts.iter().cycle();
        b.iter(|| {
            Modules::of(black_box(next.next().unwrap()))
                .expect("fits")
                .png()
        })
    });
    group.bench_function("sealpass matrix + SVG", |b| {
        let mut next = texts.iter().cycle();
        b.iter(|| {
            Modules::of(black_box(next.next().unwrap()))
                .expect("fits")
                .svg()
        })
    });
    group.bench_function("sealpass matrix + PNG + SVG", |b| {
        let mut next = texts.iter().cycle();
        b.iter(|| {
            let modules = Modules::of(black_box(next.next().unwrap())).expect("fits");
            (modules.png(), modules.svg())
        })
    });
    let all: Vec<Modules> = texts
        .iter()
        .map(|t| Modules::of(t).expect("fits"))
        .collect();
    group.bench_function("sealpass PNG alone", |b| {
        let mut next = all.iter().cycle();
        b.iter(|| black_box(next.next().unwrap()).png())
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
