//! Holder-bound live codes (docs/format.md, "Live codes"; docs/trust.md,
//! "Live codes").
//!
//! A **bound pass** carries its holder's device key in the confirmation
//! claim ([`DeviceKey`]). It is never accepted on its own: only inside a
//! **live code**, `SP2:` + Base45 of the pass as issued, a time `t` and the
//! device's signature over both ([`LiveCodeEnvelope`]), which the holder's
//! phone makes afresh every few seconds. A checkpoint accepts a live code
//! when the pass is accepted as any pass is, the device signature is the
//! bound key's, and `t` lies inside its [`LiveCodeWindow`]: at most 60 s
//! old and at most 30 s ahead of its clock. [`crate::Verifier::verify`]
//! does all of it; [`crate::Verifier::verify_remembering`] also notes the
//! code in a [`ReplayMemory`] and warns of a code seen before.
//!
//! ```
//! use sealpass_core::live::{self, ReplayMemory};
//! use sealpass_core::testkit::{City, NOW, device_key, p256_device_key};
//! use sealpass_core::{CheckpointPolicy, HolderBinding, Seconds, Verifier, text};
//!
//! let city = City::new();
//! let phone = device_key("my phone"); // in a browser: a WebCrypto key
//! let mut claims = city.claims();
//! claims.holder = Some(live::DeviceSigner::device_key(&phone));
//! let issued = text::decode(&city.pass(&claims)).unwrap(); // the COSE bytes
//!
//! // The phone signs a code...
//! let code = live::sign_live_code(&issued, NOW, &phone);
//! assert!(code.starts_with("SP2:") && code.len() <= 483);
//!
//! // ...and a checkpoint decides on it ten seconds later.
//! let lists = city.held_status_lists();
//! let policy = CheckpointPolicy::builtin("office").unwrap();
//! let checkpoint = Verifier::new(city.trusted(), &policy).with_status_lists(&lists);
//! let mut memory = ReplayMemory::default();
//! let pass = checkpoint.verify_remembering(&code, NOW.plus(Seconds(10)), &mut memory).unwrap();
//! assert!(matches!(pass.holder(), HolderBinding::Live(_)));
//! assert_eq!(pass.already_scanned(), None);
//!
//! // The same code again: accepted, with a warning for the worker.
//! let again = checkpoint.verify_remembering(&code, NOW.plus(Seconds(25)), &mut memory).unwrap();
//! assert_eq!(again.already_scanned().unwrap().to_string(), "already scanned 15 s ago here");
//!
//! // A screenshot a minute later is too old; the pass alone is no pass.
//! let late = checkpoint.verify(&code, NOW.plus(Seconds(61))).unwrap_err();
//! assert_eq!(late.code(), "live_code_too_old");
//! let bare = checkpoint.verify(&text::encode(&issued), NOW).unwrap_err();
//! assert_eq!(bare.code(), "bound_pass_not_live");
//!
//! // Another phone cannot make a code of this pass.
//! let other = live::sign_live_code(&issued, NOW, &p256_device_key("another phone"));
//! assert_eq!(checkpoint.verify(&other, NOW).unwrap_err().code(), "wrong_device");
//! ```
//!
//! A browser signs with WebCrypto instead: it signs
//! [`live_code_signing_input`] and hands the raw signature (64 bytes; for
//! P-256 `r || s` as WebCrypto returns it) to [`assemble_live_code`].
//!
//! # Who calls what
//!
//! - **The issuer** binds a pass by setting [`crate::PassClaims::holder`]
//!   to the phone's key, made with [`DeviceKey::ed25519`] (the 32 raw bytes
//!   WebCrypto exports) or [`DeviceKey::p256_sec1`] (WebCrypto's 65-byte raw
//!   export, or 33 compressed bytes), and signs it with
//!   [`crate::sign_pass`] as any pass. Its `SP1:` text is what the phone
//!   keeps (a checkpoint refuses it on its own); [`crate::text::decode`]
//!   gives the bytes a live code carries. Proof of possession, one device
//!   per subject and revoking a replaced phone's pass are the issuer's.
//! - **The citizen page** signs [`live_code_signing_input`]`(pass, t)` every
//!   few seconds and shows [`assemble_live_code`]'s text as a QR code.
//! - **A checkpoint** calls [`crate::Verifier::verify`] for every scanned
//!   text, `SP1:` or `SP2:`, or [`crate::Verifier::verify_remembering`] with
//!   its own [`ReplayMemory`]. An accepted pass says how it was tied to its
//!   holder ([`crate::VerifiedPass::holder`]: a plain pass is
//!   [`HolderBinding::NotBound`], so the worker compares the masked id with
//!   an identity card) and whether it was [`crate::VerifiedPass::already_scanned`]
//!   here. Refusals particular to live codes are [`crate::HolderError`]s
//!   (phase `holder`), and `policy_live_code_required` where a policy
//!   admits live codes only; none of them is "could not decide".

mod device_key;
mod envelope;
mod replay;
mod signing;

pub use device_key::{
    CLAIM_CNF, CNF_COSE_KEY, CRV_ED25519, CRV_P256, DeviceKey, DeviceKeyError, DeviceKeyType,
    DeviceSignatureError, KTY_EC2, KTY_OKP,
};
pub use envelope::{
    LIVE_CODE_CONTEXT, LiveCodeEnvelope, LiveCodeError, live_code_signing_input, pass_hash,
};
pub use replay::{AlreadyScanned, ReplayKey, ReplayMemory};
pub use signing::{DeviceSigner, assemble_live_code, normalize_p256_signature, sign_live_code};

pub(crate) use envelope::signing_input_for_hash;

use crate::error::HolderError;
use crate::time::{Seconds, Timestamp};

/// How far a live code's `t` may lie from a checkpoint's clock. A
/// checkpoint may narrow it ([`LiveCodeWindow::narrowed_to`]), never
/// widen it, and its tolerated clock skew for passes does not touch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCodeWindow {
    /// Oldest a code may be: refused when `now - t` exceeds it.
    pub max_age: Seconds,
    /// Furthest ahead a phone's clock may be: refused when `t - now` exceeds it.
    pub max_ahead: Seconds,
}

impl LiveCodeWindow {
    /// 60 s old, 30 s ahead.
    pub const DEFAULT: LiveCodeWindow = LiveCodeWindow {
        max_age: Seconds(60),
        max_ahead: Seconds(30),
    };

    /// This window, narrowed to at most `max_age` and `max_ahead`.
    pub fn narrowed_to(self, max_age: Seconds, max_ahead: Seconds) -> LiveCodeWindow {
        LiveCodeWindow {
            max_age: self.max_age.min(max_age),
            max_ahead: self.max_ahead.min(max_ahead),
        }
    }

    /// Whether a code signed at `signed_at` may be accepted at `now`.
    pub fn check(&self, signed_at: Timestamp, now: Timestamp) -> Result<(), HolderError> {
        let age = now.since(signed_at);
        if age > self.max_age {
            return Err(HolderError::CodeTooOld {
                age,
                max: self.max_age,
            });
        }
        let ahead = signed_at.since(now);
        if ahead > self.max_ahead {
            return Err(HolderError::PhoneClockAhead {
                ahead,
                max: self.max_ahead,
            });
        }
        Ok(())
    }
}

impl Default for LiveCodeWindow {
    fn default() -> Self {
        LiveCodeWindow::DEFAULT
    }
}

/// How an accepted pass was tied to the person showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderBinding {
    /// A plain `SP1:` pass (printed, or a copy): anyone holding it can show
    /// it. Ask for an identity card and compare the masked id.
    NotBound,
    /// A live code, signed by the phone the pass is bound to.
    Live(LiveCodeProof),
}

impl HolderBinding {
    pub fn is_holder_bound(&self) -> bool {
        matches!(self, HolderBinding::Live(_))
    }
}

/// What an accepted live code showed beyond its pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCodeProof {
    pub(crate) device: DeviceKeyType,
    pub(crate) key: ReplayKey,
}

impl LiveCodeProof {
    /// The kind of key the phone signed with.
    pub fn device(&self) -> DeviceKeyType {
        self.device
    }

    /// `t`: when the phone signed the code, by its clock.
    pub fn signed_at(&self) -> Timestamp {
        self.key.signed_at
    }

    /// What a [`ReplayMemory`] remembers the code by.
    pub fn replay_key(&self) -> ReplayKey {
        self.key
    }
}

/// Check a live code's device signature with the key its pass is bound to.
pub(crate) fn check_device_signature(
    device: &DeviceKey,
    pass_hash: &[u8; 32],
    signed_at: Timestamp,
    signature: &[u8; 64],
) -> Result<(), HolderError> {
    let message = signing_input_for_hash(pass_hash, signed_at);
    device
        .check_signature(&message, signature)
        .map_err(|e| match e {
            DeviceSignatureError::Invalid => HolderError::WrongDevice,
            DeviceSignatureError::HighS => HolderError::DeviceSignatureHighS,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_60_s_back_and_30_s_ahead_inclusive() {
        let now = Timestamp(1_795_218_000);
        let window = LiveCodeWindow::default();
        assert_eq!(window.check(now.minus(Seconds(60)), now), Ok(()));
        assert_eq!(
            window.check(now.minus(Seconds(61)), now),
            Err(HolderError::CodeTooOld {
                age: Seconds(61),
                max: Seconds(60)
            })
        );
        assert_eq!(window.check(now.plus(Seconds(30)), now), Ok(()));
        assert_eq!(
            window.check(now.plus(Seconds(31)), now),
            Err(HolderError::PhoneClockAhead {
                ahead: Seconds(31),
                max: Seconds(30)
            })
        );
        assert_eq!(
            window
                .check(Timestamp(u64::MAX), Timestamp(0))
                .unwrap_err()
                .to_string(),
            HolderError::PhoneClockAhead {
                ahead: Seconds(u64::MAX),
                max: Seconds(30)
            }
            .to_string()
        );
        let narrow = window.narrowed_to(Seconds(20), Seconds(3600));
        assert_eq!(narrow.max_age, Seconds(20));
        assert_eq!(narrow.max_ahead, Seconds(30));
    }
}
