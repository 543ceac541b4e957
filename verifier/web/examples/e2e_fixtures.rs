//! Writes what the web app's end-to-end test serves and films, for a test
//! city at a given time (the test passes the real time, since Chromium's
//! clock cannot be pinned):
//!
//! ```text
//! cargo run -p sealpass-web --example e2e_fixtures -- OUT UNIX-SECONDS
//! OUT/site-lists/roots.cbor               the root set, pinned at first load
//! OUT/site-lists/trust-list.cbor          sequence 1, signed 3 of 5
//! OUT/site-lists/status/CN-610100.cbor    revokes index 7
//! OUT/site-lists-short/...                 the same, with a status list that
//!                                          expires in 2 h (before the next sync)
//! OUT/camera/{valid,expired,tampered,revoked,live,blank}.y4m
//!                                         (live: a live code of a pass bound
//!                                          to a test phone, signed 25 s
//!                                          ahead, so that it stays in its
//!                                          window for the suite's first
//!                                          80 s)
//! OUT/passes.json                         the pass texts, by name, with two
//!                                          hostile ones: markup in the masked
//!                                          name (valid) and in the issuer,
//!                                          and the bound pass shown bare
//!                                          (`bound_bare`)
//! ```
//!
//! A server that answers 404 for the status list is the e2e test's own
//! (it serves `site-lists` without `status/`).
//!
//! Each `.y4m` is what Chromium's fake camera plays in a loop
//! (`--use-file-for-fake-video-capture`): 640x480 YUV 4:2:0 frames of the
//! pass as a QR code, as a phone held up to the camera shows it.

use qrcode::{Color, EcLevel, QrCode};
use sealpass_core::live::{self, DeviceSigner};
use sealpass_core::testkit::{City, device_key};
use sealpass_core::{Seconds, Timestamp};
use std::io::Write;
use std::path::Path;

const WIDTH: usize = 640;
const HEIGHT: usize = 480;
const FRAMES: usize = 6;
/// An image whose error handler would run script if the page parsed it.
const HOSTILE_MARKUP: &str = "<img src=x onerror=globalThis.sealpassXss=1>";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, now] = args.as_slice() else {
        eprintln!("usage: e2e_fixtures OUT UNIX-SECONDS");
        std::process::exit(2);
    };
    let now = Timestamp(now.parse().expect("UNIX-SECONDS is a number"));
    let out = Path::new(out);
    let city = City::at(now);
    let lists = out.join("site-lists");
    std::fs::create_dir_all(lists.join("status")).unwrap();
    std::fs::write(lists.join("roots.cbor"), city.roots.to_cbor()).unwrap();
    std::fs::write(lists.join("trust-list.cbor"), city.trust_list(1)).unwrap();
    std::fs::write(
        lists.join("status/CN-610100.cbor"),
        city.current_status_list(),
    )
    .unwrap();
    let short = out.join("site-lists-short");
    std::fs::create_dir_all(short.join("status")).unwrap();
    std::fs::write(short.join("roots.cbor"), city.roots.to_cbor()).unwrap();
    std::fs::write(short.join("trust-list.cbor"), city.trust_list(1)).unwrap();
    // Valid 24 h from 22 h ago: 2 h left, less than the page's 6 h between syncs.
    std::fs::write(
        short.join("status/CN-610100.cbor"),
        city.status_list(now.minus(Seconds::hours(22)), &[]),
    )
    .unwrap();
    let phone = device_key("e2e test phone");
    let mut bound = city.claims();
    bound.holder = Some(phone.device_key());
    let bound = sealpass_core::text::decode(&city.pass(&bound)).unwrap();
    let camera_passes = [
        ("valid", city.valid_pass()),
        ("expired", city.named("expired")),
        ("tampered", city.named("bad-signature")),
        ("revoked", city.named("revoked")),
        (
            "live",
            live::sign_live_code(&bound, now.plus(Seconds(25)), &phone),
        ),
    ];
    let camera = out.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    for (name, text) in &camera_passes {
        write_y4m(&camera.join(format!("{name}.y4m")), &qr_frame(text));
    }
    // Markup where a pass carries text (security review, finding 7): the
    // page must show it as text, never parse it.
    let mut hostile_name = city.claims();
    hostile_name.health.masked_name = format!("{HOSTILE_MARKUP}张*明");
    let mut hostile_issuer = city.claims();
    hostile_issuer.issuer = HOSTILE_MARKUP.into();
    let mut passes = camera_passes.to_vec();
    passes.push(("hostile_name", city.pass(&hostile_name)));
    passes.push(("hostile_issuer", city.pass(&hostile_issuer)));
    passes.push(("bound_bare", sealpass_core::text::encode(&bound)));
    write_y4m(&camera.join("blank.y4m"), &blank_frame());
    let json: serde_json::Map<String, serde_json::Value> = passes
        .iter()
        .map(|(name, text)| (name.to_string(), text.clone().into()))
        .collect();
    std::fs::write(
        out.join("passes.json"),
        serde_json::Value::Object(json).to_string(),
    )
    .unwrap();
}

/// The pass at 5 pixels a module with its quiet zone, on a desk-grey frame.
fn qr_frame(text: &str) -> Vec<u8> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let module = 5;
    let side = (modules + 8) * module;
    let (x0, y0) = ((WIDTH - side) / 2, (HEIGHT - side) / 2);
    let mut luma = blank_frame();
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / module) as isize - 4, (y / module) as isize - 4);
            let inside = (0..modules as isize).contains(&mx) && (0..modules as isize).contains(&my);
            let dark = inside && colors[my as usize * modules + mx as usize] == Color::Dark;
            luma[(y0 + y) * WIDTH + x0 + x] = if dark { 24 } else { 235 };
        }
    }
    luma
}

/// A shaded grey frame with some texture and no code.
fn blank_frame() -> Vec<u8> {
    (0..WIDTH * HEIGHT)
        .map(|i| {
            let (x, y) = (i % WIDTH, i / WIDTH);
            (110 + (x * 40 / WIDTH) + ((x / 7 + y / 5) % 3) * 6) as u8
        })
        .collect()
}

/// YUV4MPEG2, 4:2:0, grey (chroma 128), the same frame `FRAMES` times.
fn write_y4m(path: &Path, luma: &[u8]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "YUV4MPEG2 W{WIDTH} H{HEIGHT} F15:1 Ip A1:1 C420jpeg").unwrap();
    let chroma = vec![128u8; WIDTH / 2 * HEIGHT / 2];
    for _ in 0..FRAMES {
        file.write_all(b"FRAME\n").unwrap();
        file.write_all(luma).unwrap();
        file.write_all(&chroma).unwrap();
        file.write_all(&chroma).unwrap();
    }
    file.flush().unwrap();
}
