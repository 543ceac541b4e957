//! Live-code vectors: what a checkpoint answers to an `SP2:` code (or to a
//! bound pass shown without one), with the replay memory it keeps. Every
//! pass here is signed by the active issuer key; where a case breaks the
//! device key or the envelope, everything else about it is sound.

use super::city::{City, STATUS_LIST, TRUST_LIST, claims};
use super::raw::{RawSign1, cbor};
use super::{Case, Kind};
use ed25519_dalek::SigningKey;
use sealpass_core::cbor::Encoder;
use sealpass_core::live::{
    self, DeviceSigner, LiveCodeEnvelope, assemble_live_code, live_code_signing_input,
    sign_live_code,
};
use sealpass_core::testkit::{NOW, device_key, p256_device_key, p256_signature_with, p256_twin};
use sealpass_core::{DeviceKeyType, PassClaims, Seconds, Timestamp, text};

/// A live-code case, verified by default at [`NOW`] at a `subway`
/// checkpoint holding [`TRUST_LIST`] and the issuer's [`STATUS_LIST`], with
/// an empty replay memory.
pub struct LiveCase {
    case: Case,
    policy: String,
    status_list: Option<&'static str>,
    earlier: Option<(Timestamp, String)>,
    code: String,
    holder: Option<&'static str>,
    warning: Option<String>,
}

fn live(name: &'static str, expect: &'static str, comment: &'static str, code: String) -> LiveCase {
    LiveCase {
        case: Case::new(Kind::LiveCode, name, expect, comment),
        policy: "subway".into(),
        status_list: Some(STATUS_LIST),
        earlier: None,
        code,
        holder: None,
        warning: None,
    }
}

/// An accepted case, and how it was tied to its holder: `live Ed25519`,
/// `live P-256` or `not bound`.
fn valid(
    name: &'static str,
    holder: &'static str,
    comment: &'static str,
    code: String,
) -> LiveCase {
    LiveCase {
        holder: Some(holder),
        ..live(name, "valid", comment, code)
    }
}

impl LiveCase {
    fn at(mut self, now: Timestamp) -> LiveCase {
        self.case.now = now;
        self
    }

    /// A policy definition (docs: `CheckpointPolicy`'s text form) or a built-in name.
    fn policy(self, policy: &str) -> LiveCase {
        LiveCase {
            policy: policy.into(),
            ..self
        }
    }

    fn without_status_list(self) -> LiveCase {
        LiveCase {
            status_list: None,
            ..self
        }
    }

    /// The checkpoint accepted `code` at `at`, earlier, and remembers it.
    fn after_scanning(self, code: String, at: Timestamp) -> LiveCase {
        LiveCase {
            earlier: Some((at, code)),
            ..self
        }
    }

    fn warning(self, warning: &str) -> LiveCase {
        LiveCase {
            warning: Some(warning.into()),
            ..self
        }
    }
}

impl From<LiveCase> for Case {
    fn from(l: LiveCase) -> Case {
        let mut case = l
            .case
            .line("policy", l.policy)
            .line("trust-list", TRUST_LIST);
        if let Some(status_list) = l.status_list {
            case = case.line("status-list", status_list);
        }
        if let Some((at, code)) = l.earlier {
            case = case
                .line("earlier-scan-at", at.0.to_string())
                .line("earlier-scan", code);
        }
        case = case.line("code", l.code);
        if let Some(holder) = l.holder {
            case = case.line("holder", holder);
        }
        match l.warning {
            Some(warning) => case.line("warning", warning),
            None => case,
        }
    }
}

/// The phones of the vectors.
struct Phones {
    ed25519: SigningKey,
    p256: p256::ecdsa::SigningKey,
    /// Not the holder's.
    other: SigningKey,
}

/// When the phone signed, unless a case says otherwise: 5 s before [`NOW`].
const SIGNED_AT: Timestamp = Timestamp(NOW.0 - 5);

/// `claims` as the active key signs them: the pass's COSE bytes.
fn issued(city: &City, claims: &PassClaims) -> Vec<u8> {
    text::decode(&city.pass(claims)).expect("a pass text")
}

/// [`claims`] bound to `device`, issued.
fn bound(city: &City, device: &dyn DeviceSigner) -> Vec<u8> {
    issued(
        city,
        &PassClaims {
            holder: Some(device.device_key()),
            ..claims()
        },
    )
}

/// An envelope written field by field.
fn envelope(pass: &[u8], signed_at: Timestamp, signature: [u8; 64]) -> String {
    text::encode_live(
        &LiveCodeEnvelope {
            pass,
            signed_at,
            signature,
        }
        .to_bytes(),
    )
}

/// A live code of `pass` signed by `device` over the bytes given.
fn signed_over(pass: &[u8], signed_at: Timestamp, device: &SigningKey, input: &[u8]) -> String {
    envelope(pass, signed_at, device.sign_device(input))
}

pub fn cases(city: &City) -> Vec<Case> {
    let phones = Phones {
        ed25519: device_key("holder's phone, Ed25519"),
        p256: p256_device_key("holder's phone, P-256"),
        other: device_key("another phone"),
    };
    let mut cases = accepted(city, &phones);
    cases.extend(refused_windows_and_devices(city, &phones));
    cases.extend(refused_device_keys(city, &phones));
    cases.extend(refused_envelopes(city, &phones));
    cases.extend(refused_passes(city, &phones));
    cases.into_iter().map(Case::from).collect()
}

fn accepted(city: &City, phones: &Phones) -> Vec<LiveCase> {
    let ed = bound(city, &phones.ed25519);
    let p = bound(city, &phones.p256);
    let code = sign_live_code(&ed, SIGNED_AT, &phones.ed25519);
    let early = sign_live_code(&ed, NOW.minus(Seconds(25)), &phones.ed25519);
    let p256_input = live_code_signing_input(&p, SIGNED_AT);
    let p256_other_nonce = (0..=255)
        .map(|extra| p256_signature_with(&phones.p256, &p256_input, extra))
        .map(|signature| live::normalize_p256_signature(&signature).expect("P-256"))
        .find(|signature| {
            *signature
                != live::normalize_p256_signature(&phones.p256.sign_device(&p256_input))
                    .expect("P-256")
        })
        .expect("another nonce makes another signature");
    let p256_code = sign_live_code(&p, SIGNED_AT, &phones.p256);
    vec![
        valid(
            "valid-ed25519",
            "live Ed25519",
            "a pass bound to an Ed25519 phone key, in a live code that phone signed 5 s ago",
            code.clone(),
        ),
        valid(
            "valid-p256",
            "live P-256",
            "a pass bound to a P-256 phone key (compressed point), in a live code that phone signed 5 s ago, s low",
            p256_code.clone(),
        ),
        valid(
            "valid-60s-old",
            "live Ed25519",
            "signed exactly 60 s before the checkpoint's clock: the edge of the window, still inside",
            sign_live_code(&ed, NOW.minus(Seconds(60)), &phones.ed25519),
        ),
        valid(
            "valid-phone-clock-30s-ahead",
            "live Ed25519",
            "signed 30 s ahead of the checkpoint's clock: the most a phone's clock may be ahead",
            sign_live_code(&ed, NOW.plus(Seconds(30)), &phones.ed25519),
        ),
        valid(
            "valid-plain-pass-not-holder-bound",
            "not bound",
            "a plain SP1: pass, bound to no phone, where paper is allowed: accepted, and not holder-bound \
             (compare the masked id with an identity card)",
            city.pass(&claims()),
        ),
        valid(
            "valid-live-code-where-required",
            "live Ed25519",
            "a live code at a checkpoint whose policy requires one",
            code.clone(),
        )
        .policy("name = office-live; colours = green; max-test-age = 48h; require-live-code = yes"),
        valid(
            "replay-same-checkpoint-inside-window",
            "live Ed25519",
            "the same live code (signed 25 s ago), accepted here 20 s ago, shown again inside its \
             window: accepted with a warning that asks the worker to look",
            early.clone(),
        )
        .after_scanning(early, NOW.minus(Seconds(20)))
        .warning("already scanned 20 s ago here"),
        valid(
            "replay-p256-another-signature-same-code",
            "live P-256",
            "the same pass and t signed again with another nonce (other signature bytes): the same code \
             to the replay memory, which keys on the pass hash and t",
            assemble_live_code(&p, SIGNED_AT, DeviceKeyType::P256, &p256_other_nonce)
                .expect("P-256"),
        )
        .after_scanning(p256_code, NOW.minus(Seconds(3)))
        .warning("already scanned 3 s ago here"),
        valid(
            "valid-next-code-is-not-a-replay",
            "live Ed25519",
            "the phone's next code (signed 10 s after one accepted here) is a new code: no warning",
            sign_live_code(&ed, SIGNED_AT, &phones.ed25519),
        )
        .after_scanning(
            sign_live_code(&ed, SIGNED_AT.minus(Seconds(10)), &phones.ed25519),
            NOW.minus(Seconds(12)),
        ),
    ]
}

fn refused_windows_and_devices(city: &City, phones: &Phones) -> Vec<LiveCase> {
    let ed = bound(city, &phones.ed25519);
    let p = bound(city, &phones.p256);
    let signature = phones
        .ed25519
        .sign_device(&live_code_signing_input(&ed, SIGNED_AT));
    let mut flipped_signature = signature;
    flipped_signature[10] ^= 0x01;
    let p256_input = live_code_signing_input(&p, SIGNED_AT);
    let low = live::normalize_p256_signature(&phones.p256.sign_device(&p256_input)).expect("P-256");
    let mut no_context = Encoder::default();
    no_context
        .array(2)
        .bytes(&live::pass_hash(&ed))
        .uint(SIGNED_AT.0);
    vec![
        live(
            "one-second-past-the-window",
            "live_code_too_old",
            "signed 61 s before the checkpoint's clock: a screenshot, or a phone far behind; 1 s past the \
             60 s window",
            sign_live_code(&ed, NOW.minus(Seconds(61)), &phones.ed25519),
        ),
        live(
            "screenshot-ten-minutes-old",
            "live_code_too_old",
            "a screenshot of a live code, shown 10 min after the phone signed it",
            sign_live_code(&ed, SIGNED_AT, &phones.ed25519),
        )
        .at(SIGNED_AT.plus(Seconds::minutes(10))),
        live(
            "phone-clock-31s-ahead",
            "phone_clock_ahead",
            "signed 31 s ahead of the checkpoint's clock: 1 s more than the 30 s allowed",
            sign_live_code(&ed, NOW.plus(Seconds(31)), &phones.ed25519),
        ),
        live(
            "another-phones-key",
            "wrong_device",
            "the pass's text carried to another phone, which signs the code with its own key: not the \
             phone the pass is bound to",
            sign_live_code(&ed, SIGNED_AT, &phones.other),
        ),
        live(
            "p256-pass-signed-by-ed25519-phone",
            "wrong_device",
            "a pass bound to a P-256 key, in a code signed by an Ed25519 key: the key's type decides the \
             algorithm, and the signature is not that key's",
            sign_live_code(&p, SIGNED_AT, &phones.ed25519),
        ),
        live(
            "bit-flipped-in-t",
            "wrong_device",
            "the code's t with its lowest bit flipped (still inside the window): the signature covers t",
            envelope(&ed, Timestamp(SIGNED_AT.0 ^ 1), signature),
        ),
        live(
            "bit-flipped-in-device-signature",
            "wrong_device",
            "one bit of the device signature flipped",
            envelope(&ed, SIGNED_AT, flipped_signature),
        ),
        live(
            "p256-high-s-twin",
            "device_signature_high_s",
            "the twin (r, n - s) of a valid P-256 signature: plain ECDSA accepts it, sealpass accepts one \
             form only, low s (assembly normalises WebCrypto's signatures), so the twin is refused and \
             never reaches the replay memory",
            envelope(&p, SIGNED_AT, p256_twin(&low)),
        ),
        live(
            "signature-without-context",
            "wrong_device",
            "the phone's signature over the pass hash and t without the \"sealpass live code v1\" \
             context: the signing input is domain-separated",
            signed_over(&ed, SIGNED_AT, &phones.ed25519, &no_context.into_bytes()),
        ),
        live(
            "device-signed-the-pass-bytes",
            "wrong_device",
            "the phone's signature over the pass bytes themselves, not the signing input",
            signed_over(&ed, SIGNED_AT, &phones.ed25519, &ed),
        ),
    ]
}

/// [`claims`] bound to the Ed25519 phone, with the bytes of its `cnf` value
/// replaced by `cnf`, signed by the active key: a genuine issuer signature
/// over a device key sealpass does not accept.
fn with_cnf(city: &City, phones: &Phones, cnf: Vec<u8>) -> Vec<u8> {
    let mut good = Encoder::default();
    phones.ed25519.device_key().encode_cnf(&mut good);
    let good = good.into_bytes();
    let payload = PassClaims {
        holder: Some(phones.ed25519.device_key()),
        ..claims()
    }
    .to_cbor();
    let at = payload
        .windows(good.len())
        .position(|window| window == good.as_slice())
        .expect("the cnf value is in the claims");
    let payload = [&payload[..at], &cnf, &payload[at + good.len()..]].concat();
    RawSign1::pass(&payload, &city.active).to_bytes()
}

/// `{1: {1: kty, -1: crv, -2: x}}` and, if given, `-3: y`.
fn cose_key(kty: i64, crv: i64, x: &[u8], y: Option<&dyn Fn(&mut Encoder)>) -> Vec<u8> {
    cbor(|e| {
        e.map(1).int(1).map(3 + usize::from(y.is_some()));
        e.int(1).int(kty).int(-1).int(crv).int(-2).bytes(x);
        if let Some(y) = y {
            e.int(-3);
            y(e);
        }
    })
}

fn refused_device_keys(city: &City, phones: &Phones) -> Vec<LiveCase> {
    let x = phones.ed25519.verifying_key().to_bytes();
    let point = phones.p256.verifying_key().to_sec1_point(false);
    let (p256_x, p256_y) = (&point.as_bytes()[1..33], &point.as_bytes()[33..]);
    let not_p256_x = (1..=255u8)
        .map(|b| [b; 32])
        .find(|x| {
            let sec1 = [&[0x02], &x[..]].concat();
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_err()
        })
        .expect("half of all x are no point's");
    let not_ed25519 = (2..=255u8)
        .map(|b| [b; 32])
        .find(|y| ed25519_dalek::VerifyingKey::from_bytes(y).is_err())
        .expect("half of all y are no point's");
    // The identity point of edwards25519, (0, 1): order 1.
    let mut identity = [0; 32];
    identity[0] = 1;
    let code = |cnf: Vec<u8>| {
        let pass = with_cnf(city, phones, cnf);
        sign_live_code(&pass, SIGNED_AT, &phones.ed25519)
    };
    let bool_y = |odd: bool| {
        move |e: &mut Encoder| {
            e.bool(odd);
        }
    };
    let odd = bool_y(true);
    let even = bool_y(false);
    vec![
        live(
            "cnf-missing",
            "not_holder_bound",
            "a live code around a pass with no cnf claim: the pass is bound to no phone, so no phone's \
             signature can hold it to its holder",
            sign_live_code(&issued(city, &claims()), SIGNED_AT, &phones.ed25519),
        ),
        live(
            "cnf-unknown-kty",
            "device_key_unknown_kty",
            "cnf's COSE_Key has kty 3 (RSA): only OKP (1) and EC2 (2) are accepted",
            code(cose_key(3, 6, &x, None)),
        ),
        live(
            "cnf-unknown-curve-okp",
            "device_key_unknown_curve",
            "an OKP key on crv 4 (X25519, a key-agreement curve): only Ed25519 (6) signs",
            code(cose_key(1, 4, &x, None)),
        ),
        live(
            "cnf-unknown-curve-ec2",
            "device_key_unknown_curve",
            "an EC2 key on crv 2 (P-384): only P-256 (1) is accepted",
            code(cose_key(2, 2, p256_x, Some(&odd))),
        ),
        live(
            "cnf-p256-not-on-curve",
            "device_key_not_on_curve",
            "a compressed P-256 key whose x is the x of no point of the curve",
            code(cose_key(2, 1, &not_p256_x, Some(&even))),
        ),
        live(
            "cnf-ed25519-not-on-curve",
            "device_key_not_on_curve",
            "an Ed25519 key whose 32 bytes decode to no point of edwards25519",
            code(cose_key(1, 6, &not_ed25519, None)),
        ),
        live(
            "cnf-ed25519-small-order",
            "device_key_small_order",
            "an Ed25519 key that is the identity point (order 1): a small-order key would verify \
             signatures made with no secret",
            code(cose_key(1, 6, &identity, None)),
        ),
        live(
            "cnf-p256-uncompressed",
            "device_key_uncompressed",
            "a P-256 key with its full y coordinate: sealpass carries compressed points only",
            code(cose_key(
                2,
                1,
                p256_x,
                Some(&|e: &mut Encoder| {
                    e.bytes(p256_y);
                }),
            )),
        ),
        live(
            "cnf-key-names-an-algorithm",
            "malformed_cnf",
            "the COSE_Key carries alg (3): the algorithm follows from kty and crv, never from a field",
            code(cbor(|e| {
                e.map(1).int(1).map(4);
                e.int(1)
                    .int(1)
                    .int(3)
                    .int(-8)
                    .int(-1)
                    .int(6)
                    .int(-2)
                    .bytes(&x);
            })),
        ),
        live(
            "cnf-without-cose-key",
            "malformed_cnf",
            "cnf holds a key thumbprint (member 3) instead of a COSE_Key (member 1)",
            code(cbor(|e| {
                e.map(1).int(3).bytes(&[0; 32]);
            })),
        ),
    ]
}

fn refused_envelopes(city: &City, phones: &Phones) -> Vec<LiveCase> {
    let ed = bound(city, &phones.ed25519);
    let signature = phones
        .ed25519
        .sign_device(&live_code_signing_input(&ed, SIGNED_AT));
    let good = LiveCodeEnvelope {
        pass: &ed,
        signed_at: SIGNED_AT,
        signature,
    }
    .to_bytes();
    let raw = |build: &dyn Fn(&mut Encoder)| text::encode_live(&cbor(|e| build(e)));
    let mut trailing = good.clone();
    trailing.push(0x00);
    vec![
        live(
            "envelope-trailing-byte",
            "cbor_trailing_bytes",
            "a genuine envelope with one byte after it: one code has one text",
            text::encode_live(&trailing),
        ),
        live(
            "envelope-signature-63-bytes",
            "bad_device_signature_length",
            "the device signature one byte short",
            raw(&|e| {
                e.array(3)
                    .bytes(&ed)
                    .uint(SIGNED_AT.0)
                    .bytes(&signature[..63]);
            }),
        ),
        live(
            "envelope-t-not-shortest",
            "cbor_non_canonical",
            "t written in 8 bytes where 4 hold it",
            raw(&|e| {
                e.array(3).bytes(&ed).raw(&[0x1b, 0, 0, 0, 0]);
                e.raw(&(SIGNED_AT.0 as u32).to_be_bytes()).bytes(&signature);
            }),
        ),
        live(
            "envelope-indefinite-array",
            "cbor_indefinite_length",
            "the envelope's array written with an indefinite length",
            raw(&|e| {
                e.raw(&[0x9f])
                    .bytes(&ed)
                    .uint(SIGNED_AT.0)
                    .bytes(&signature);
                e.raw(&[0xff]);
            }),
        ),
        live(
            "envelope-four-items",
            "malformed_live_code",
            "a fourth item after the signature",
            raw(&|e| {
                e.array(4)
                    .bytes(&ed)
                    .uint(SIGNED_AT.0)
                    .bytes(&signature)
                    .uint(0);
            }),
        ),
        live(
            "envelope-pass-inline",
            "cbor_too_deep",
            "the pass's COSE_Sign1 written inline instead of as a byte string",
            raw(&|e| {
                e.array(3).raw(&ed).uint(SIGNED_AT.0).bytes(&signature);
            }),
        ),
        live(
            "envelope-empty",
            "cbor_truncated",
            "the SP2: prefix and nothing after it",
            "SP2:".into(),
        ),
    ]
}

fn refused_passes(city: &City, phones: &Phones) -> Vec<LiveCase> {
    let ed = bound(city, &phones.ed25519);
    let bound_claims = PassClaims {
        holder: Some(phones.ed25519.device_key()),
        ..claims()
    };
    let mut flipped = ed.clone();
    let issuer_at = flipped
        .windows(9)
        .position(|w| w == b"CN-610100")
        .expect("the issuer id is in the pass");
    flipped[issuer_at + 8] ^= 0x01;
    let expired = PassClaims {
        not_before: NOW.minus(Seconds::hours(30)),
        issued_at: NOW.minus(Seconds::hours(30)),
        expires_at: NOW.minus(Seconds::hours(6)),
        ..bound_claims.clone()
    };
    let revoked = PassClaims {
        revocation_index: 7,
        ..bound_claims
    };
    vec![
        live(
            "bound-pass-shown-bare",
            "bound_pass_not_live",
            "the pass of a live code taken out and shown as a plain SP1: pass (as printed, or copied): a \
             bound pass is refused outside a live code, under every policy",
            text::encode(&ed),
        )
        .policy("outdoor"),
        live(
            "bound-pass-shown-bare-zlib",
            "bound_pass_not_live",
            "the same, zlib-compressed",
            text::encode_zlib(&ed),
        ),
        live(
            "plain-pass-where-live-code-required",
            "policy_live_code_required",
            "a plain SP1: pass at a checkpoint whose policy requires a live code",
            city.pass(&claims()),
        )
        .policy("name = office-live; colours = green; max-test-age = 48h; require-live-code = yes"),
        live(
            "bit-flipped-in-pass",
            "bad_signature",
            "one bit of the pass inside the code flipped (the issuer id ends in 1): the issuer's \
             signature fails, whatever the phone signed",
            sign_live_code(&flipped, SIGNED_AT, &phones.ed25519),
        ),
        live(
            "expired-pass-in-live-code",
            "expired",
            "a fresh live code of a pass that expired 6 h ago: the pass is judged as any pass is, first",
            sign_live_code(&issued(city, &expired), SIGNED_AT, &phones.ed25519),
        ),
        live(
            "revoked-pass-in-live-code",
            "pass_revoked",
            "a fresh live code of a pass whose index 7 is revoked (a lost phone's pass, say)",
            sign_live_code(&issued(city, &revoked), SIGNED_AT, &phones.ed25519),
        ),
        live(
            "live-code-revocation-not-checked",
            "revocation_not_checked",
            "a good live code at a checkpoint holding no status list of the issuer: could not decide",
            sign_live_code(&ed, SIGNED_AT, &phones.ed25519),
        )
        .without_status_list(),
    ]
}
