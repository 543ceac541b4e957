//! Identity tokens for the performance harness (`scripts/perf/run`, issue
//! 8): N EdDSA tokens, each for a random subject of the synthetic
//! population that `perf_seed` stored, signed with a **harness-only**
//! identity-provider key (derived from a published string: anyone can mint
//! these tokens, so never trust this provider outside a benchmark), plus
//! that provider's JWKS and a `public` config file trusting it.
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin perf_tokens -- OUT_DIR [N] [SUBJECTS] [SEED]
//!   OUT_DIR    gets tokens.txt (one token a line), perf-idp-jwks.json and public.toml
//!   N          tokens, default 100000 (each a different random subject, with repeats
//!              only by chance)
//!   SUBJECTS   population size perf_seed stored, default 1000000
//!   SEED       population seed, default 2026 (perf_seed's)
//! ```
//!
//! Tokens are valid for 12 hours from now (`exp`), audience
//! `sealpass-perf`, issuer `https://perf-idp.sealpass.invalid`. The
//! `public.toml` written beside them turns the per-client rate off (every
//! load-generator connection comes from 127.0.0.1) and leaves every other
//! limit at its default; pass `--config OUT_DIR/public.toml` to
//! `sealpass-issuer public`.

use sealpass_core::Timestamp;
use sealpass_issuer::population::Population;
use sealpass_issuer::read::public::auth::{ed25519_jwk, sign_eddsa};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;

pub const PERF_ISSUER: &str = "https://perf-idp.sealpass.invalid";
pub const PERF_AUDIENCE: &str = "sealpass-perf";
pub const PERF_KID: &str = "perf-idp-HARNESS-ONLY";
const LIFETIME_SECONDS: u64 = 12 * 3600;

/// The harness provider's key: public by construction.
fn harness_key() -> ed25519_dalek::SigningKey {
    let seed: [u8; 32] =
        Sha256::digest(b"sealpass perf harness identity provider: HARNESS ONLY").into();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// SplitMix64: a repeatable choice of subjects.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Identity tokens for the performance harness, signed with a
/// HARNESS-ONLY identity-provider key, with its JWKS and a `public`
/// config file trusting it.
#[derive(clap::Parser)]
struct Args {
    /// Gets tokens.txt (one token a line), perf-idp-jwks.json and public.toml
    #[arg(value_name = "OUT_DIR")]
    out: PathBuf,
    /// Tokens, each for a random subject (repeats only by chance)
    #[arg(default_value_t = 100_000)]
    n: u64,
    /// Population size perf_seed stored
    #[arg(default_value_t = 1_000_000)]
    subjects: u64,
    /// Population seed (perf_seed's)
    #[arg(default_value_t = 2026)]
    seed: u64,
}

fn main() {
    let Args {
        out,
        n,
        subjects,
        seed,
    } = clap::Parser::parse();
    std::fs::create_dir_all(&out).expect("OUT_DIR");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let key = harness_key();

    let jwks = serde_json::json!({"keys": [ed25519_jwk(&key.verifying_key(), PERF_KID)]});
    std::fs::write(out.join("perf-idp-jwks.json"), jwks.to_string()).expect("the JWKS");
    let config = format!(
        "# The performance harness's public API (tools/src/bin/perf_tokens.rs).\n\
         # HARNESS ONLY: the identity provider's key is derived from a published string.\n\
         [limits]\n\
         # every load-generator connection is 127.0.0.1: the per-client rate is off\n\
         per_client_rate = 1000000000.0\n\
         per_client_burst = 1000000000\n\n\
         [[identity_provider]]\n\
         issuer = \"{PERF_ISSUER}\"\n\
         audience = \"{PERF_AUDIENCE}\"\n\
         jwks_file = \"perf-idp-jwks.json\"\n"
    );
    std::fs::write(out.join("public.toml"), config).expect("public.toml");

    // Subjects only need the population's ids: Population::person(n) is
    // the same person whatever was generated before.
    let people = Population::new(seed, subjects, Timestamp(now));
    let file = std::fs::File::create(out.join("tokens.txt")).expect("tokens.txt");
    let mut file = std::io::BufWriter::new(file);
    let mut state = seed ^ 0x7065_7266; // "perf"
    for _ in 0..n {
        let person = people.person(splitmix(&mut state) % subjects);
        let claims = serde_json::json!({
            "iss": PERF_ISSUER,
            "aud": PERF_AUDIENCE,
            "sub": person.subject,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
        });
        writeln!(file, "{}", sign_eddsa(&key, PERF_KID, &claims)).expect("a token written");
    }
    file.flush().expect("tokens.txt");
    println!(
        "wrote {n} tokens for random subjects of {subjects} (seed {seed}) to {}",
        out.display()
    );
}
