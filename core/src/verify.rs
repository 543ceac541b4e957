//! Signing a pass, and deciding on one at a checkpoint.

use crate::claims::{HealthStatus, PassClaims};
use crate::cose::{self, AAD_PASS, Sign1};
use crate::ed25519;
use crate::error::{
    DecodeError, Event, HolderError, PolicyError, RevocationError, SignatureError, TrustError,
    ValidityError, VerifyError,
};
use crate::live::{
    self, AlreadyScanned, HolderBinding, LiveCodeEnvelope, LiveCodeProof, LiveCodeWindow,
    ReplayKey, ReplayMemory,
};
use crate::policy::CheckpointPolicy;
use crate::signer::{Kid, Signer, SignerError};
use crate::status::StatusList;
use crate::text::{self, Scanned};
use crate::time::{Seconds, Timestamp};
use crate::trust::{IssuerKey, KeyStatus, TrustedList};

/// Clock difference tolerated between issuer and checkpoint by default.
pub const DEFAULT_CLOCK_SKEW: Seconds = Seconds::minutes(5);
/// The most clock difference a checkpoint may tolerate: a larger skew would
/// make expired passes valid again ([`Verifier::with_clock_skew`] caps at it).
pub const MAX_CLOCK_SKEW: Seconds = Seconds::hours(1);

/// Sign claims into the `SP1:` text of a QR code.
pub fn sign_pass(claims: &PassClaims, signer: &dyn Signer) -> Result<String, SignerError> {
    Ok(text::encode(&cose::sign1(
        &claims.to_cbor(),
        AAD_PASS,
        signer,
    )?))
}

/// Sign many claims at once: the texts [`sign_pass`] makes, in order, with
/// the signatures made together by [`Signer::sign_batch`] (the bulk
/// signer's path; about an eighth faster with an
/// [`ExpandedKey`](crate::ExpandedKey)).
pub fn sign_passes(claims: &[PassClaims], signer: &dyn Signer) -> Result<Vec<String>, SignerError> {
    Ok(sign_passes_cose(claims, signer)?
        .iter()
        .map(|cose| text::encode(cose))
        .collect())
}

/// [`sign_passes`] without the text encoding: each pass as its COSE_Sign1
/// bytes, which [`text::encode`] turns into the text (for a store that
/// keeps the smaller bytes and encodes when it serves).
pub fn sign_passes_cose(
    claims: &[PassClaims],
    signer: &dyn Signer,
) -> Result<Vec<Vec<u8>>, SignerError> {
    let protected = cose::encode_protected(crate::signer::ALG_ED25519, signer.kid());
    let payloads: Vec<Vec<u8>> = claims.iter().map(PassClaims::to_cbor).collect();
    let structures: Vec<Vec<u8>> = payloads
        .iter()
        .map(|payload| cose::sig_structure1(&protected, AAD_PASS, payload))
        .collect();
    let messages: Vec<&[u8]> = structures.iter().map(Vec::as_slice).collect();
    let signatures = signer.sign_batch(&messages)?;
    if signatures.len() != payloads.len() {
        return Err(SignerError(format!(
            "the key made {} signatures for {} passes",
            signatures.len(),
            payloads.len()
        )));
    }
    Ok(payloads
        .iter()
        .zip(&signatures)
        .map(|(payload, signature)| cose::encode_sign1(&protected, payload, signature))
        .collect())
}

/// A pass that passed every check. Only [`Verifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPass {
    claims: PassClaims,
    kid: Kid,
    revocation_checked: bool,
    holder: HolderBinding,
    already_scanned: Option<AlreadyScanned>,
}

impl VerifiedPass {
    pub fn claims(&self) -> &PassClaims {
        &self.claims
    }

    pub fn health(&self) -> &HealthStatus {
        &self.claims.health
    }

    /// The issuer key that signed it.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// Whether a status list of its issuer was consulted.
    pub fn revocation_checked(&self) -> bool {
        self.revocation_checked
    }

    /// How much longer the pass is valid at `now`.
    pub fn valid_for(&self, now: Timestamp) -> Seconds {
        self.claims.expires_at.since(now)
    }

    /// How the pass was tied to the person showing it: a live code from
    /// the bound phone, or not at all (a plain pass: compare the masked id
    /// with an identity card).
    pub fn holder(&self) -> HolderBinding {
        self.holder
    }

    /// A live code this checkpoint's replay memory had accepted before,
    /// inside its window ([`Verifier::verify_remembering`]): a warning
    /// that asks the worker to look, not a refusal.
    pub fn already_scanned(&self) -> Option<AlreadyScanned> {
        self.already_scanned
    }
}

/// How a pass reached the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// `SP1:`, on its own.
    Bare,
    /// Inside an `SP2:` live code.
    Live,
}

/// Everything a checkpoint decides with: trust, revocations, its policy,
/// the clock skew it tolerates and its live-code window. Time is passed to
/// each decision.
#[derive(Debug, Clone)]
pub struct Verifier<'a> {
    trust: &'a TrustedList,
    status_lists: &'a [StatusList],
    policy: &'a CheckpointPolicy,
    clock_skew: Seconds,
    live_window: LiveCodeWindow,
}

impl<'a> Verifier<'a> {
    pub fn new(trust: &'a TrustedList, policy: &'a CheckpointPolicy) -> Self {
        Verifier {
            trust,
            status_lists: &[],
            policy,
            clock_skew: DEFAULT_CLOCK_SKEW,
            live_window: LiveCodeWindow::DEFAULT,
        }
    }

    /// Status lists to check revocation against, one per issuer.
    pub fn with_status_lists(mut self, status_lists: &'a [StatusList]) -> Self {
        self.status_lists = status_lists;
        self
    }

    /// The clock difference tolerated, at most [`MAX_CLOCK_SKEW`]. It
    /// applies to a pass's own times, never to a live code's window.
    pub fn with_clock_skew(mut self, clock_skew: Seconds) -> Self {
        self.clock_skew = clock_skew.min(MAX_CLOCK_SKEW);
        self
    }

    /// A live-code window narrower than the default 60 s back and 30 s
    /// ahead; a wider one is narrowed to the default.
    pub fn with_live_window(mut self, max_age: Seconds, max_ahead: Seconds) -> Self {
        self.live_window = LiveCodeWindow::DEFAULT.narrowed_to(max_age, max_ahead);
        self
    }

    /// The live-code window this checkpoint applies.
    pub fn live_window(&self) -> LiveCodeWindow {
        self.live_window
    }

    /// Decide on a scanned text at `now`: a pass (`SP1:`) or a live code
    /// (`SP2:`). A pass goes through decode, signature, trust, validity,
    /// revocation and policy, in that order; the first failure is the
    /// answer. A live code's pass goes through the same, then the device
    /// signature with the key the pass is bound to, then the window
    /// ([`LiveCodeWindow`]).
    ///
    /// Revocation fails closed: without a status list of the pass's issuer
    /// the answer is [`RevocationError::NotChecked`] (could not decide),
    /// unless the policy says `danger-accept-unchecked-revocation`.
    ///
    /// A bound pass outside a live code is refused
    /// ([`HolderError::BoundPassShownBare`]), and a live code around an
    /// unbound pass too ([`HolderError::NotHolderBound`]), under every policy.
    pub fn verify(&self, text: &str, now: Timestamp) -> Result<VerifiedPass, VerifyError> {
        match text::decode_scanned(text).map_err(DecodeError::Text)? {
            Scanned::Pass(cose) => self.verify_issued(&cose, Shown::Bare, now),
            Scanned::LiveCode(envelope) => self.verify_live(&envelope, now),
        }
    }

    /// [`Verifier::verify`], and an accepted live code noted in `memory`:
    /// one this checkpoint accepted before, inside its window, comes back
    /// accepted with [`VerifiedPass::already_scanned`] set.
    pub fn verify_remembering(
        &self,
        text: &str,
        now: Timestamp,
        memory: &mut ReplayMemory,
    ) -> Result<VerifiedPass, VerifyError> {
        let mut pass = self.verify(text, now)?;
        if let HolderBinding::Live(proof) = pass.holder {
            pass.already_scanned = memory.remember(proof.replay_key(), self.live_window, now);
        }
        Ok(pass)
    }

    fn verify_live(&self, envelope: &[u8], now: Timestamp) -> Result<VerifiedPass, VerifyError> {
        let code = LiveCodeEnvelope::parse(envelope).map_err(DecodeError::LiveCode)?;
        let mut pass = self.verify_issued(code.pass, Shown::Live, now)?;
        let device = pass.claims.holder.ok_or(HolderError::NotHolderBound)?;
        let hash = live::pass_hash(code.pass);
        live::check_device_signature(&device, &hash, code.signed_at, &code.signature)?;
        self.live_window.check(code.signed_at, now)?;
        pass.holder = HolderBinding::Live(LiveCodeProof {
            device: device.key_type(),
            key: ReplayKey {
                signed_at: code.signed_at,
                pass_hash: hash,
            },
        });
        Ok(pass)
    }

    /// Everything a pass gets, shown bare or inside a live code.
    fn verify_issued(
        &self,
        cose: &[u8],
        shown: Shown,
        now: Timestamp,
    ) -> Result<VerifiedPass, VerifyError> {
        let sign1 = cose::parse_sign1(cose).map_err(DecodeError::Cose)?;
        let key = trusted_signature(self.trust, &sign1, AAD_PASS, now)?;
        let claims = PassClaims::from_cbor(sign1.payload).map_err(DecodeError::Claims)?;
        match (shown, claims.holder.is_some()) {
            (Shown::Bare, true) => return Err(HolderError::BoundPassShownBare.into()),
            (Shown::Live, false) => return Err(HolderError::NotHolderBound.into()),
            _ => {}
        }
        key.admits(&claims.issuer, claims.issued_at)?;
        key.bounds(claims.issued_at, claims.expires_at)?;
        self.check_validity(&claims, now)?;
        let status_list = self
            .status_lists
            .iter()
            .find(|list| list.issuer() == claims.issuer);
        match status_list {
            Some(list) => list.check(claims.revocation_index, now)?,
            None if self.policy.danger_accept_unchecked_revocation => {}
            None => {
                return Err(RevocationError::NotChecked {
                    issuer: claims.issuer,
                }
                .into());
            }
        }
        if shown == Shown::Bare && self.policy.require_live_code {
            return Err(PolicyError::LiveCodeRequired.into());
        }
        self.policy.check(&claims.health, now)?;
        Ok(VerifiedPass {
            claims,
            kid: sign1.protected.kid,
            revocation_checked: status_list.is_some(),
            holder: HolderBinding::NotBound,
            already_scanned: None,
        })
    }

    fn check_validity(&self, claims: &PassClaims, now: Timestamp) -> Result<(), ValidityError> {
        if claims.issued_at > now.plus(self.clock_skew) {
            return Err(ValidityError::IssuedInFuture {
                issued_at: claims.issued_at,
                now,
            });
        }
        if claims.not_before > now.plus(self.clock_skew) {
            return Err(ValidityError::NotYetValid {
                not_before: claims.not_before,
                now,
            });
        }
        if now.minus(self.clock_skew) >= claims.expires_at {
            return Err(ValidityError::Expired {
                expired_at: claims.expires_at,
                now,
            });
        }
        self.check_event_times(&claims.health, now)
    }

    /// A test taken, or a dose given, after `now` (beyond the skew) is not
    /// a record: left alone it would keep a test "0 s old" for as long as
    /// its date lies ahead. A dose's calendar date gets a day more, since
    /// its day began earlier east of UTC.
    fn check_event_times(
        &self,
        health: &HealthStatus,
        now: Timestamp,
    ) -> Result<(), ValidityError> {
        let latest = now.plus(self.clock_skew);
        if let Some(test) = health.last_test.filter(|test| test.taken_at > latest) {
            return Err(ValidityError::EventInFuture {
                event: Event::Test,
                at: test.taken_at,
                now,
            });
        }
        if let Some(day) = health.vaccination.last_dose {
            let given = Timestamp(u64::from(day.0) * 86_400);
            if given > latest.plus(Seconds::days(1)) {
                return Err(ValidityError::EventInFuture {
                    event: Event::LastDose,
                    at: given,
                    now,
                });
            }
        }
        Ok(())
    }
}

/// An issuer key whose signature over a document verified.
pub(crate) struct TrustedKey<'a> {
    key: &'a IssuerKey,
}

impl TrustedKey<'_> {
    /// The key may vouch for `issuer` at `issued_at`: it belongs to that
    /// issuer and the document was signed inside the key's window.
    pub fn admits(&self, issuer: &str, issued_at: Timestamp) -> Result<(), TrustError> {
        if issuer != self.key.issuer {
            return Err(TrustError::IssuerMismatch {
                claimed: issuer.to_owned(),
                key_issuer: self.key.issuer.clone(),
            });
        }
        if issued_at < self.key.not_before || issued_at > self.key.not_after {
            return Err(TrustError::KeyNotValidAtIssuance {
                issued_at,
                not_before: self.key.not_before,
                not_after: self.key.not_after,
            });
        }
        Ok(())
    }

    /// What the key signed lives no longer than the key's maximum pass
    /// lifetime. With `issued_at` inside the key's window ([`Self::admits`])
    /// nothing it signed outlives `not_after` by more than that lifetime: a
    /// retired key's holder who backdates `iat` into the window cannot mint
    /// a long-lived pass (docs/trust.md, "Pass lifetime").
    pub fn bounds(&self, issued_at: Timestamp, expires_at: Timestamp) -> Result<(), TrustError> {
        let max = self.key.pass_lifetime_limit();
        let lifetime = expires_at.since(issued_at);
        if lifetime > max {
            return Err(TrustError::LifetimeTooLong { lifetime, max });
        }
        Ok(())
    }
}

/// The checks shared by passes and status lists: a current trust list names
/// the key by kid, the key is not revoked, the header's algorithm is the one
/// the list binds to the key, and the signature verifies (`verify_strict`,
/// over the bytes as received).
pub(crate) fn trusted_signature<'a>(
    trust: &'a TrustedList,
    sign1: &Sign1<'_>,
    aad: &[u8],
    now: Timestamp,
) -> Result<TrustedKey<'a>, KeyCheckError> {
    let expires_at = trust.list().expires_at;
    if now >= expires_at {
        return Err(TrustError::TrustListExpired {
            expired_at: expires_at,
            now,
        }
        .into());
    }
    let kid = sign1.protected.kid;
    let (key, resolved) = trust.resolve(kid).ok_or(TrustError::UnknownKey(kid))?;
    if key.status == KeyStatus::Revoked {
        return Err(TrustError::KeyRevoked(kid).into());
    }
    if sign1.protected.alg != key.alg {
        return Err(SignatureError::AlgorithmMismatch {
            header: sign1.protected.alg,
            key: key.alg,
        }
        .into());
    }
    let message = cose::sig_structure1(sign1.protected.bytes, aad, sign1.payload);
    if !ed25519::verify_with_key(&resolved.verifying_key, &message, &sign1.signature) {
        return Err(SignatureError::Invalid.into());
    }
    Ok(TrustedKey { key })
}

/// A trust or signature failure, before it is placed in a document's error.
#[derive(Debug)]
pub(crate) enum KeyCheckError {
    Trust(TrustError),
    Signature(SignatureError),
}

impl From<TrustError> for KeyCheckError {
    fn from(e: TrustError) -> Self {
        KeyCheckError::Trust(e)
    }
}

impl From<SignatureError> for KeyCheckError {
    fn from(e: SignatureError) -> Self {
        KeyCheckError::Signature(e)
    }
}

impl From<KeyCheckError> for VerifyError {
    fn from(e: KeyCheckError) -> Self {
        match e {
            KeyCheckError::Trust(e) => VerifyError::Trust(e),
            KeyCheckError::Signature(e) => VerifyError::Signature(e),
        }
    }
}

impl From<KeyCheckError> for crate::status::StatusListError {
    fn from(e: KeyCheckError) -> Self {
        match e {
            KeyCheckError::Trust(e) => Self::Trust(e),
            KeyCheckError::Signature(e) => Self::Signature(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{City, NOW};

    /// Finding 8 of the security review: a clock skew of 100000 days made
    /// an expired pass valid again.
    #[test]
    fn a_huge_clock_skew_is_capped_and_cannot_revive_an_expired_pass() {
        let city = City::new();
        let policy = CheckpointPolicy::default();
        let lists = city.held_status_lists();
        let text = sign_pass(&city.claims(), &city.active).unwrap();
        let two_days_later = NOW.plus(Seconds::days(2));
        let verifier = Verifier::new(city.trusted(), &policy)
            .with_status_lists(&lists)
            .with_clock_skew(Seconds::days(100_000));
        assert_eq!(verifier.clock_skew, MAX_CLOCK_SKEW);
        assert_eq!(
            verifier.verify(&text, two_days_later).unwrap_err().code(),
            "expired"
        );
    }

    /// Finding 1: without its issuer's status list a pass is undecided, and
    /// admitted unchecked only under a policy that says so by name.
    #[test]
    fn revocation_fails_closed_unless_the_policy_says_otherwise() {
        let city = City::new();
        let text = sign_pass(&city.claims(), &city.active).unwrap();
        let strict = CheckpointPolicy::default();
        let error = Verifier::new(city.trusted(), &strict)
            .verify(&text, NOW)
            .unwrap_err();
        assert!(error.is_undecided());
        assert_eq!(error.code(), "revocation_not_checked");
        let lax = CheckpointPolicy {
            danger_accept_unchecked_revocation: true,
            ..CheckpointPolicy::default()
        };
        let pass = Verifier::new(city.trusted(), &lax)
            .verify(&text, NOW)
            .unwrap();
        assert!(!pass.revocation_checked());
        let lists = city.held_status_lists();
        let pass = Verifier::new(city.trusted(), &strict)
            .with_status_lists(&lists)
            .verify(&text, NOW)
            .unwrap();
        assert!(pass.revocation_checked());
    }
}
