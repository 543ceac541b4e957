//! Signing and verifying a pass, each beside the raw Ed25519 operation it
//! wraps, measured in the same run so that their ratio means something on a
//! shared, noisy machine. `scripts/bench-ratios` prints the ratios.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use sealpass_core::testkit::{City, NOW};
use sealpass_core::{CheckpointPolicy, ExpandedKey, Verifier, cose, sign_pass, sign_passes};
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

criterion_group!(benches, sign, verify);
criterion_main!(benches);
