//! Live codes through the public API, as a checkpoint and a phone use it:
//! what is accepted, what is refused and why, and what the replay memory
//! says. The named cases are also vectors (tests/vectors/live-code/).

use ed25519_dalek::SigningKey;
use sealpass_core::live::{
    self, DeviceSigner, LiveCodeEnvelope, ReplayMemory, assemble_live_code,
    live_code_signing_input, sign_live_code,
};
use sealpass_core::testkit::{
    City, NOW, device_key, p256_device_key, p256_signature_with, p256_twin as twin,
};
use sealpass_core::{
    CheckpointPolicy, DeviceKeyType, HolderBinding, MAX_CLOCK_SKEW, Seconds, StatusList, Timestamp,
    Verifier, text,
};

struct Checkpoint {
    city: City,
    lists: Vec<StatusList>,
}

impl Checkpoint {
    fn new() -> Checkpoint {
        let city = City::new();
        let lists = city.held_status_lists();
        Checkpoint { city, lists }
    }

    fn verifier<'a>(&'a self, policy: &'a CheckpointPolicy) -> Verifier<'a> {
        Verifier::new(self.city.trusted(), policy).with_status_lists(&self.lists)
    }

    /// The COSE bytes of the city's pass, bound to `device`.
    fn bound_pass(&self, device: &dyn DeviceSigner) -> Vec<u8> {
        let mut claims = self.city.claims();
        claims.holder = Some(device.device_key());
        text::decode(&self.city.pass(&claims)).unwrap()
    }

    fn code(&self, text: &str, now: Timestamp) -> Result<HolderBinding, &'static str> {
        let policy = CheckpointPolicy::default();
        self.verifier(&policy)
            .verify(text, now)
            .map(|pass| pass.holder())
            .map_err(|e| e.code())
    }
}

#[test]
fn both_device_key_types_make_codes_a_checkpoint_accepts() {
    let checkpoint = Checkpoint::new();
    let ed = device_key("ed25519 phone");
    let p = p256_device_key("p-256 phone");
    for (device, kind) in [
        (&ed as &dyn DeviceSigner, DeviceKeyType::Ed25519),
        (&p, DeviceKeyType::P256),
    ] {
        let code = sign_live_code(&checkpoint.bound_pass(device), NOW, device);
        let HolderBinding::Live(proof) = checkpoint.code(&code, NOW.plus(Seconds(5))).unwrap()
        else {
            panic!("a live code is holder-bound");
        };
        assert_eq!(proof.device(), kind);
        assert_eq!(proof.signed_at(), NOW);
    }
}

#[test]
fn the_window_is_not_widened_by_the_clock_skew_and_only_ever_narrowed() {
    let checkpoint = Checkpoint::new();
    let phone = device_key("phone");
    let code = sign_live_code(&checkpoint.bound_pass(&phone), NOW, &phone);
    let policy = CheckpointPolicy::default();
    let skewed = checkpoint.verifier(&policy).with_clock_skew(MAX_CLOCK_SKEW);
    let code_at = |verifier: &Verifier, now| verifier.verify(&code, now).map_err(|e| e.code());
    assert!(code_at(&skewed, NOW.plus(Seconds(60))).is_ok());
    assert_eq!(
        code_at(&skewed, NOW.plus(Seconds(61))),
        Err("live_code_too_old")
    );
    assert!(code_at(&skewed, NOW.minus(Seconds(30))).is_ok());
    assert_eq!(
        code_at(&skewed, NOW.minus(Seconds(31))),
        Err("phone_clock_ahead")
    );
    let error = skewed.verify(&code, NOW.plus(Seconds(90))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "code too old: signed 90 s ago, over 60 s. Ask for the live code on the phone, not a picture of it"
    );

    let narrow = checkpoint
        .verifier(&policy)
        .with_live_window(Seconds(20), Seconds(5));
    assert_eq!(
        code_at(&narrow, NOW.plus(Seconds(21))),
        Err("live_code_too_old")
    );
    assert_eq!(
        code_at(&narrow, NOW.minus(Seconds(6))),
        Err("phone_clock_ahead")
    );
    let wide = checkpoint
        .verifier(&policy)
        .with_live_window(Seconds::hours(1), Seconds::hours(1));
    assert_eq!(wide.live_window(), live::LiveCodeWindow::DEFAULT);
}

#[test]
fn a_p256_twin_is_refused_and_another_signature_of_the_same_code_is_a_replay() {
    let checkpoint = Checkpoint::new();
    let phone = p256_device_key("phone");
    let pass = checkpoint.bound_pass(&phone);
    let input = live_code_signing_input(&pass, NOW);
    // Find a nonce whose signature has a high s, as WebCrypto gives half the time.
    let (high, low) = (0..=255u8)
        .map(|extra| p256_signature_with(&phone, &input, extra))
        .find_map(|signature| {
            let low = live::normalize_p256_signature(&signature).unwrap();
            (low != signature).then_some((signature, low))
        })
        .unwrap();
    assert_eq!(twin(&low), high);

    // Assembly puts a WebCrypto signature in its one form.
    let code = assemble_live_code(&pass, NOW, DeviceKeyType::P256, &high).unwrap();
    let envelope = text::decode_scanned(&code).unwrap();
    let text::Scanned::LiveCode(envelope) = envelope else {
        panic!("a live code");
    };
    assert_eq!(LiveCodeEnvelope::parse(&envelope).unwrap().signature, low);
    // The twin written as it is, is refused.
    let twin_code = text::encode_live(
        &LiveCodeEnvelope {
            pass: &pass,
            signed_at: NOW,
            signature: high,
        }
        .to_bytes(),
    );
    assert_eq!(
        checkpoint.code(&twin_code, NOW),
        Err("device_signature_high_s")
    );

    // Another valid low-s signature of the same pass and t is the same code.
    let other = (0..=255u8)
        .map(|extra| p256_signature_with(&phone, &input, extra))
        .map(|signature| live::normalize_p256_signature(&signature).unwrap())
        .find(|signature| *signature != low)
        .unwrap();
    let other_code = assemble_live_code(&pass, NOW, DeviceKeyType::P256, &other).unwrap();
    assert_ne!(other_code, code);
    let policy = CheckpointPolicy::default();
    let verifier = checkpoint.verifier(&policy);
    let mut memory = ReplayMemory::default();
    let first = verifier
        .verify_remembering(&code, NOW.plus(Seconds(2)), &mut memory)
        .unwrap();
    assert_eq!(first.already_scanned(), None);
    let second = verifier
        .verify_remembering(&other_code, NOW.plus(Seconds(9)), &mut memory)
        .unwrap();
    assert_eq!(
        second.already_scanned().unwrap().to_string(),
        "already scanned 7 s ago here"
    );
    // The twin is refused before the memory is asked, and noted nowhere.
    let len = memory.len();
    assert!(
        verifier
            .verify_remembering(&twin_code, NOW.plus(Seconds(10)), &mut memory)
            .is_err()
    );
    assert_eq!(memory.len(), len);
}

#[test]
fn a_bound_pass_is_refused_bare_under_every_policy_and_a_plain_one_is_flagged() {
    let checkpoint = Checkpoint::new();
    let phone = device_key("phone");
    let bare = text::encode(&checkpoint.bound_pass(&phone));
    let lax = CheckpointPolicy {
        danger_accept_unchecked_revocation: true,
        ..CheckpointPolicy::builtin("outdoor").unwrap()
    };
    let policies = sealpass_core::BUILTIN_PROFILES
        .iter()
        .map(|name| CheckpointPolicy::builtin(name).unwrap())
        .chain([lax]);
    for policy in policies {
        let error = checkpoint.verifier(&policy).verify(&bare, NOW).unwrap_err();
        assert_eq!(error.code(), "bound_pass_not_live", "{}", policy.name);
        // Even without status lists, or with a zlib text.
        let unchecked = Verifier::new(checkpoint.city.trusted(), &policy);
        assert_eq!(
            unchecked.verify(&bare, NOW).unwrap_err().code(),
            "bound_pass_not_live"
        );
        let zlib = text::encode_zlib(&checkpoint.bound_pass(&phone));
        assert_eq!(
            checkpoint
                .verifier(&policy)
                .verify(&zlib, NOW)
                .unwrap_err()
                .code(),
            "bound_pass_not_live"
        );
    }

    // A plain pass: accepted where paper is, and says it is not holder-bound.
    let plain = checkpoint.city.valid_pass();
    assert_eq!(checkpoint.code(&plain, NOW), Ok(HolderBinding::NotBound));
    let live_only = CheckpointPolicy {
        require_live_code: true,
        ..CheckpointPolicy::default()
    };
    let error = checkpoint
        .verifier(&live_only)
        .verify(&plain, NOW)
        .unwrap_err();
    assert_eq!(error.code(), "policy_live_code_required");
    let code = sign_live_code(&checkpoint.bound_pass(&phone), NOW, &phone);
    assert!(checkpoint.verifier(&live_only).verify(&code, NOW).is_ok());

    // A live code around a plain pass is not holder-bound.
    let unbound = text::decode(&plain).unwrap();
    let code = sign_live_code(&unbound, NOW, &phone);
    assert_eq!(checkpoint.code(&code, NOW), Err("not_holder_bound"));
}

#[test]
fn a_code_made_from_a_webcrypto_style_signature_is_the_code_made_in_memory() {
    let checkpoint = Checkpoint::new();
    let phone = device_key("phone");
    let pass = checkpoint.bound_pass(&phone);
    let signed_at = NOW.minus(Seconds(3));
    // What the page does: sign the exact bytes, then assemble.
    let input = live_code_signing_input(&pass, signed_at);
    let signature = ed25519_dalek::Signer::sign(&phone, &input).to_bytes();
    let code = assemble_live_code(&pass, signed_at, DeviceKeyType::Ed25519, &signature).unwrap();
    assert_eq!(code, sign_live_code(&pass, signed_at, &phone));
    assert!(checkpoint.code(&code, NOW).is_ok());
    // A signature by another phone over the same bytes is not the holder's.
    let thief: SigningKey = device_key("thief");
    let stolen = ed25519_dalek::Signer::sign(&thief, &input).to_bytes();
    let code = assemble_live_code(&pass, signed_at, DeviceKeyType::Ed25519, &stolen).unwrap();
    assert_eq!(checkpoint.code(&code, NOW), Err("wrong_device"));
    assert_eq!(
        assemble_live_code(&pass, signed_at, DeviceKeyType::P256, &[0; 64])
            .unwrap_err()
            .code(),
        "not_a_p256_signature"
    );
}

#[test]
fn the_pass_is_judged_first_and_refused_codes_are_not_remembered() {
    let checkpoint = Checkpoint::new();
    let phone = device_key("phone");
    let mut claims = checkpoint.city.claims();
    claims.holder = Some(phone.device_key());
    claims.expires_at = NOW.minus(Seconds::hours(1));
    let expired = text::decode(&checkpoint.city.pass(&claims)).unwrap();
    // Signed by another phone and a minute old too, but expired is the answer.
    let code = sign_live_code(&expired, NOW.minus(Seconds(90)), &device_key("thief"));
    assert_eq!(checkpoint.code(&code, NOW), Err("expired"));

    let code = sign_live_code(&checkpoint.bound_pass(&phone), NOW, &phone);
    let policy = CheckpointPolicy::default();
    let mut memory = ReplayMemory::default();
    let verifier = checkpoint.verifier(&policy);
    assert!(
        verifier
            .verify_remembering(&code, NOW.plus(Seconds(61)), &mut memory)
            .is_err()
    );
    assert!(memory.is_empty());
    // Plain passes are not remembered either: there is no code to replay.
    let plain = checkpoint.city.valid_pass();
    verifier
        .verify_remembering(&plain, NOW, &mut memory)
        .unwrap();
    let again = verifier
        .verify_remembering(&plain, NOW, &mut memory)
        .unwrap();
    assert_eq!(again.already_scanned(), None);
    assert!(memory.is_empty());
}
