//! The passes of the test city: every kind a checkpoint meets, by name.

use super::{City, INDEX, REVOKED_INDEX, sample_claims, tamper_signature};
use crate::claims::{Colour, PassClaims, TestRecord, TestResult};
use crate::time::Seconds;
use crate::verify::sign_pass;
use ed25519_dalek::SigningKey;

impl City {
    pub fn pass(&self, claims: &PassClaims) -> String {
        sign_pass(claims, &self.active).expect("in-memory keys sign")
    }

    pub fn valid_pass(&self) -> String {
        self.pass(&self.claims())
    }

    /// Every kind of pass a checkpoint meets, by name: `valid`, `yellow`,
    /// `expired` (3 h 12 min ago), `not-yet-valid`, `revoked`,
    /// `unknown-key`, `revoked-key`, `bad-signature`, `old-test` (61 h).
    pub fn passes(&self) -> Vec<(&'static str, String)> {
        let now = self.now;
        let mut passes = vec![("valid", self.valid_pass())];
        let mut yellow = self.claims();
        yellow.health.colour = Colour::Yellow;
        passes.push(("yellow", self.pass(&yellow)));
        let expired = PassClaims {
            revocation_index: INDEX,
            ..sample_claims(now.minus(Seconds::minutes(27 * 60 + 12)))
        };
        passes.push(("expired", self.pass(&expired)));
        let mut early = self.claims();
        early.not_before = now.plus(Seconds::hours(2));
        passes.push(("not-yet-valid", self.pass(&early)));
        let mut revoked = self.claims();
        revoked.revocation_index = REVOKED_INDEX;
        passes.push(("revoked", self.pass(&revoked)));
        let sign = |key: &SigningKey| sign_pass(&self.claims(), key).expect("in-memory keys sign");
        passes.push(("unknown-key", sign(&self.rogue)));
        passes.push(("revoked-key", sign(&self.revoked)));
        passes.push(("bad-signature", tamper_signature(&self.valid_pass())));
        let mut old_test = self.claims();
        old_test.health.last_test = Some(TestRecord {
            taken_at: now.minus(Seconds::hours(61)),
            result: TestResult::Negative,
        });
        passes.push(("old-test", self.pass(&old_test)));
        passes
    }

    /// One of [`City::passes`], by name.
    pub fn named(&self, name: &str) -> String {
        self.passes()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the test city has no pass named {name}"))
            .1
    }
}
