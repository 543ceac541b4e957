//! Writes the seed corpus of every fuzz target: a few valid inputs, made
//! with the testkit keys, so that each fuzzer starts past the first checks.
//! Deterministic (Ed25519 signatures are), so re-running gives the same files.
//!
//!     cd fuzz && cargo run --example seeds -- seeds
//!
//! Targets that read a mode byte first (see `fuzz/src/lib.rs`) get it here.

use sealpass_core::cbor::Encoder;
use sealpass_core::cose;
use sealpass_core::live::{DeviceSigner, sign_live_code};
use sealpass_core::testkit::{self, NOW};
use sealpass_core::{
    BUILTIN_PROFILES, CheckpointPolicy, KeyStatus, PassClaims, Seconds, StatusBits, TrustList,
    sign_pass, sign_status_list, text,
};
use sealpass_fuzz::FIXTURE;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    let city = &FIXTURE.city;
    let issuer = &city.active;

    let claims = testkit::sample_claims(NOW.minus(Seconds::hours(1)));
    let mut bare = claims.clone();
    bare.health.last_test = None;
    bare.health.vaccination.last_dose = None;
    let mut revoked = claims.clone();
    revoked.revocation_index = sealpass_fuzz::REVOKED_INDEX;

    let pass = sign_pass(&claims, issuer).unwrap();
    let pass_cose = text::decode(&pass).unwrap();
    let pass_zlib = text::encode_zlib(&pass_cose);

    let mut bits = StatusBits::new(64);
    bits.revoke(sealpass_fuzz::REVOKED_INDEX);
    let status = sign_status_list(
        testkit::ISSUER,
        NOW.minus(Seconds::hours(1)),
        NOW.plus(Seconds::days(1)),
        &bits,
        issuer,
    )
    .unwrap();
    let status_payload = cose::parse_sign1(&status).unwrap().payload.to_vec();

    let next = TrustList {
        sequence: 2,
        ..city.first_list().clone()
    };
    let mut rotated = next.clone();
    rotated.roots = testkit::root_set(&city.custodians(&[1, 2, 3, 4, 5]), 4);
    rotated.issuer_keys.push(testkit::issuer_entry(
        &city.next,
        KeyStatus::Retired,
    ));

    let with_mode = |mode: u8, body: &[u8]| [&[mode][..], body].concat();

    write(
        &out,
        "pass_text",
        &[
            ("valid-pass", with_mode(0x00, pass.as_bytes())),
            (
                "valid-pass-zlib-office",
                with_mode(0x04, pass_zlib.as_bytes()),
            ),
            (
                "wrong-prefix",
                with_mode(0x00, b"HC1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3DSPTLRR+%3"),
            ),
            (
                "signed-claims-status-list",
                with_mode(0x11, &claims.to_cbor()),
            ),
            (
                "signed-claims-zlib-hospital",
                with_mode(0x0a, &claims.to_cbor()),
            ),
            (
                "signed-bare-claims-outdoor",
                with_mode(0x0d, &bare.to_cbor()),
            ),
            ("signed-revoked-claims", with_mode(0x11, &revoked.to_cbor())),
            ("unsigned-cose", with_mode(0x03, &pass_cose)),
        ],
    );
    let fixture = &*FIXTURE;
    let bound = |phone: &dyn DeviceSigner| {
        let claims = PassClaims {
            holder: Some(phone.device_key()),
            ..city.claims()
        };
        text::decode(&city.pass(&claims)).unwrap()
    };
    let ed_code = sign_live_code(&bound(&fixture.ed25519_phone), NOW, &fixture.ed25519_phone);
    let p256_code = sign_live_code(&bound(&fixture.p256_phone), NOW, &fixture.p256_phone);
    let ed_claims = PassClaims {
        holder: Some(fixture.ed25519_phone.device_key()),
        ..city.claims()
    };
    let p256_claims = PassClaims {
        holder: Some(fixture.p256_phone.device_key()),
        ..city.claims()
    };
    let envelope = match text::decode_scanned(&ed_code).unwrap() {
        text::Scanned::LiveCode(bytes) => bytes,
        text::Scanned::Pass(_) => unreachable!("an SP2: text"),
    };
    let t_and_signature = [&NOW.0.to_be_bytes()[..], &envelope[envelope.len() - 64..]].concat();
    write(
        &out,
        "live_code",
        &[
            ("valid-ed25519", with_mode(0x10, ed_code.as_bytes())),
            ("valid-p256-office", with_mode(0x14, p256_code.as_bytes())),
            ("envelope", with_mode(0x11, &envelope)),
            ("signed-bound-claims", with_mode(0x12, &ed_claims.to_cbor())),
            ("signed-bound-claims-p256", with_mode(0x32, &p256_claims.to_cbor())),
            ("bound-pass-t-and-signature", with_mode(0x13, &t_and_signature)),
            ("bare-bound-pass", with_mode(0x10, text::encode(&bound(&fixture.ed25519_phone)).as_bytes())),
        ],
    );
    write(
        &out,
        "cose_sign1",
        &[
            ("pass", pass_cose.clone()),
            ("status-list", status.clone()),
            ("trust-list-cose-sign", city.signed_first_list().to_vec()),
            (
                "protected-header",
                cose::encode_protected(-19, sealpass_core::Signer::kid(issuer)),
            ),
        ],
    );
    write(
        &out,
        "claims",
        &[
            ("full", claims.to_cbor()),
            ("bare", bare.to_cbor()),
            (
                "lib-example",
                PassClaims {
                    issuer: "CN-610100".into(),
                    ..testkit::sample_claims(NOW)
                }
                .to_cbor(),
            ),
        ],
    );
    write(
        &out,
        "trust_list",
        &[
            ("bootstrap-list", with_mode(0x00, city.signed_first_list())),
            (
                "sequence-2",
                with_mode(0x00, &testkit::sign_list(&next, &city.custodians(&[1, 2, 3]))),
            ),
            (
                "payload-signed-by-1-2-3",
                with_mode(0x01 | (0b00111 << 1), &next.to_cbor()),
            ),
            (
                "payload-signed-by-2-4",
                with_mode(0x01 | (0b01010 << 1), &next.to_cbor()),
            ),
            (
                "rotation-signed-by-all",
                with_mode(0x01 | (0b11111 << 1), &rotated.to_cbor()),
            ),
            (
                "bare-list-payload",
                with_mode(0x00, &city.first_list().to_cbor()),
            ),
            ("bare-root-set", with_mode(0x00, &city.roots.to_cbor())),
        ],
    );
    write(
        &out,
        "status_list",
        &[
            ("signed", with_mode(0x00, &status)),
            ("payload", with_mode(0x01, &status_payload)),
            (
                "fixture-sized",
                with_mode(0x00, &sealpass_fuzz::status_list_bytes(city)),
            ),
        ],
    );
    let mut rfc = Encoder::default();
    rfc.map(2)
        .int(1)
        .text("a")
        .int(-65_537)
        .array(3)
        .bytes(&[1, 2])
        .bool(true)
        .tag(1)
        .uint(1_000_000);
    write(
        &out,
        "cbor",
        &[
            ("claims", claims.to_cbor()),
            ("trust-list-payload", city.first_list().to_cbor()),
            ("status-payload", status_payload),
            ("mixed", rfc.into_bytes()),
        ],
    );
    let mut policies: Vec<(&str, Vec<u8>)> = BUILTIN_PROFILES
        .iter()
        .map(|name| {
            (
                *name,
                CheckpointPolicy::builtin(name)
                    .unwrap()
                    .to_definition()
                    .into_bytes(),
            )
        })
        .collect();
    policies.push((
        "canteen",
        b"name = canteen; colours = green, yellow # comment\nmax-test-age = 72h\nmin-doses = 1"
            .to_vec(),
    ));
    write(&out, "policy", &policies);
}

fn write(out: &Path, target: &str, seeds: &[(&str, Vec<u8>)]) {
    let dir = out.join(target);
    fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        fs::write(dir.join(name), bytes).unwrap();
    }
    println!("{}: {} seeds", dir.display(), seeds.len());
}
