//! How long the public API takes to load one pass into its pass book:
//! make the text, read the claims, render the JSON, the PNG and the SVG (docs/public-api.md,
//! "The pass book"; figures in docs/performance.md).
//!
//!   cargo run --release -p sealpass-tools --bin public_render_time

use sealpass_core::testkit::sample_claims;
use sealpass_core::{Timestamp, sign_passes_cose};
use sealpass_issuer::read::passbook::render;
use sealpass_issuer::store::reads::StoredPass;
use std::time::Instant;

/// How long loading one pass into the pass book takes (no arguments).
#[derive(clap::Parser)]
struct Args {}

fn main() {
    let Args {} = clap::Parser::parse();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let now = Timestamp(1_795_218_000);
    let passes: Vec<StoredPass> = (0..2000u32)
        .map(|i| {
            let mut claims = sample_claims(now);
            claims.revocation_index = 1_000_000 + i;
            StoredPass {
                cose: sign_passes_cose(&[claims], &key).expect("signs").remove(0),
                issued_at: now.0 as i64,
                expires_at: now.0 as i64 + 86_400,
                due_at: now.0 as i64 + 57_600,
            }
        })
        .collect();
    let started = Instant::now();
    let loaded: Vec<_> = passes.iter().map(|p| render(p).expect("loads")).collect();
    let load = started.elapsed() / passes.len() as u32;
    let held: usize = loaded
        .iter()
        .map(|p| p.json.len() + p.text.len())
        .sum::<usize>()
        / passes.len();
    let started = Instant::now();
    let images: usize = loaded
        .iter()
        .map(|p| p.images().png.len() + p.images().svg.len())
        .sum::<usize>()
        / passes.len();
    let render_images = started.elapsed() / passes.len() as u32;
    println!(
        "{} passes: {load:?} each to load (claims, JSON; {held} bytes held), \
         {render_images:?} each to render the PNG and SVG ({images} bytes more)",
        passes.len()
    );
}
