//! Signing and verifying a pass, each beside the raw Ed25519 operation it
//! wraps, measured in the same run so that their ratio means something on a
//! shared, noisy machine; and verifying a live code beside the two raw
//! signature checks it wraps (the issuer's `verify_strict` and the phone's
//! Ed25519 or P-256 signature). `scripts/bench-ratios` prints the ratios.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use sealpass_core::live::{DeviceSigner, live_code_signing_input, sign_live_code};
use sealpass_core::testkit::{City, NOW, device_key, p256_device_key};
use sealpass_core::{
    CheckpointPolicy, ExpandedKey, PassClaims, Seconds, Verifier, cose, sign_pass, sign_passes,
    text,
};
use std::hint::black_box;

fn sign(c: &mut Criterion) {
    let city = City::new();
    let claims = city.claims();
    let key = &city.active;
    // The exact message the pass signature covers.
    let message = cose::sig_structure1(
        &cose::encode_protected(sealpass_core::ALG_ED25519, sealpass_core::Signer::kid(key)),
        cose::AAD_PASS,
        &claims.to_cbor(),
    );
    let mut group = c.benchmark_group("sign");
    group.bench_function("raw ed25519 sign", |b| {
        b.iter(|| key.sign(black_box(&message)))
    });
    group.bench_function("sealpass sign_pass", |b| {
        b.iter(|| sign_pass(black_box(&claims), key).unwrap())
    });
    // The bulk signer's path: 64 passes a batch (a signing thread's take),
    // with the secret expanded once. Per pass: divide by 64.
    let expanded = ExpandedKey::new(key);
    let batch = vec![claims.clone(); 64];
    group.bench_function("sealpass sign_passes x64", |b| {
        b.iter(|| sign_passes(black_box(&batch), &expanded).unwrap())
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let city = City::new();
    let key = &city.active;
    let claims = city.claims();
    let text = sign_pass(&claims, key).unwrap();
    let policy = CheckpointPolicy::builtin("office").unwrap();
    // As a checkpoint verifies: with its issuer's status list held.
    let status_lists = city.held_status_lists();
    let verifier = Verifier::new(city.trusted(), &policy).with_status_lists(&status_lists);
    let message = cose::sig_structure1(
        &cose::encode_protected(sealpass_core::ALG_ED25519, sealpass_core::Signer::kid(key)),
        cose::AAD_PASS,
        &claims.to_cbor(),
    );
    let signature = key.sign(&message);
    let verifying_key = key.verifying_key();
    let mut group = c.benchmark_group("verify");
    group.bench_function("raw ed25519 verify_strict", |b| {
        b.iter(|| {
            verifying_key
                .verify_strict(black_box(&message), black_box(&signature))
                .unwrap()
        })
    });
    group.bench_function("sealpass Verifier::verify", |b| {
        b.iter(|| verifier.verify(black_box(&text), NOW).unwrap())
    });
    group.finish();
}

/// A live code of a bound pass, verified as a checkpoint does (office
/// policy, status list held), beside the raw checks it cannot do without:
/// the issuer's signature over the pass with `verify_strict`, and the
/// phone's signature over the signing input, each with its key decoded
/// ahead of time.
fn live(c: &mut Criterion) {
    let city = City::new();
    let key = &city.active;
    let policy = CheckpointPolicy::builtin("office").unwrap();
    let status_lists = city.held_status_lists();
    let verifier = Verifier::new(city.trusted(), &policy).with_status_lists(&status_lists);
    let issuer_key = key.verifying_key();
    let ed25519 = device_key("phone");
    let p256 = p256_device_key("phone");
    let mut group = c.benchmark_group("live");
    for (name, phone) in [("ed25519", &ed25519 as &dyn DeviceSigner), ("p256", &p256)] {
        let claims = PassClaims {
            holder: Some(phone.device_key()),
            ..city.claims()
        };
        let pass = text::decode(&sign_pass(&claims, key).unwrap()).unwrap();
        let code = sign_live_code(&pass, NOW, phone);
        let now = NOW.plus(Seconds(5));
        verifier.verify(&code, now).unwrap();
        let message = cose::sig_structure1(
            &cose::encode_protected(sealpass_core::ALG_ED25519, sealpass_core::Signer::kid(key)),
            cose::AAD_PASS,
            &claims.to_cbor(),
        );
        let issuer_signature = key.sign(&message);
        let input = live_code_signing_input(&pass, NOW);
        let device_signature = phone.sign_device(&input);
        let raw_device: Box<dyn Fn() -> bool> = match name {
            "ed25519" => {
                let device_key = ed25519.verifying_key();
                let signature = ed25519_dalek::Signature::from_bytes(&device_signature);
                let input = input.clone();
                Box::new(move || {
                    device_key
                        .verify_strict(black_box(&input), &signature)
                        .is_ok()
                })
            }
            _ => {
                use p256::ecdsa::signature::Verifier as _;
                let device_key = *p256.verifying_key();
                let signature = p256::ecdsa::Signature::from_slice(&device_signature).unwrap();
                let input = input.clone();
                Box::new(move || device_key.verify(black_box(&input), &signature).is_ok())
            }
        };
        assert!(raw_device());
        group.bench_function(
            format!("raw issuer verify_strict + raw {name} verify"),
            |b| {
                b.iter(|| {
                    issuer_key
                        .verify_strict(black_box(&message), black_box(&issuer_signature))
                        .unwrap();
                    assert!(raw_device());
                })
            },
        );
        group.bench_function(format!("sealpass live code {name}"), |b| {
            b.iter(|| verifier.verify(black_box(&code), now).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, sign, verify, live);
criterion_main!(benches);
