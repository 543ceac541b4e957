//! One scanned text, a pass or a live code, decided against the lists
//! held: the same call for the command line and the web verifier.

use crate::lists::Lists;
use crate::verdict::Verdict;
use sealpass_core::{CheckpointPolicy, ReplayMemory, Seconds, Timestamp, Verifier};

impl Lists {
    /// The verdict on `text` (`SP1:` or `SP2:`) at `now`, under `policy`,
    /// tolerating `clock_skew` on a pass's own times (never on a live
    /// code's window). `memory` is this checkpoint's: a live code it
    /// accepted before, inside its window, is accepted again with a
    /// warning ([`crate::PassSummary::already_scanned_line`]).
    pub fn decide(
        &self,
        policy: &CheckpointPolicy,
        clock_skew: Seconds,
        memory: &mut ReplayMemory,
        text: &str,
        now: Timestamp,
    ) -> Verdict {
        let Some(trust) = &self.trust else {
            return Verdict::setup(
                "no_trust_list",
                "no trust list is held yet: sync before checking passes".to_owned(),
            );
        };
        let result = Verifier::new(trust, policy)
            .with_status_lists(self.status_lists())
            .with_clock_skew(clock_skew)
            .verify_remembering(text, now, memory);
        Verdict::from_result(result, text, policy, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outcome;
    use sealpass_core::live::{self, DeviceSigner};
    use sealpass_core::testkit::{City, NOW, device_key};
    use sealpass_core::{HolderBinding, text};

    /// Lists holding the city's trust list and status list.
    fn synced(city: &City) -> Lists {
        let mut lists = Lists::default();
        lists.pin_roots(&city.roots.to_cbor()).unwrap();
        lists.offer_trust_list("trust-list.cbor", city.signed_first_list(), NOW);
        let status = city.large_status_list(&[]);
        lists.offer_status_list("CN-610100", "status/CN-610100.cbor", &status, NOW);
        lists
    }

    #[test]
    fn a_live_code_is_accepted_once_and_then_warned_of_a_plain_pass_is_not_bound() {
        let city = City::new();
        let lists = synced(&city);
        let policy = CheckpointPolicy::builtin("office").unwrap();
        let mut memory = ReplayMemory::default();
        let skew = Seconds::minutes(5);

        let plain = lists.decide(&policy, skew, &mut memory, &city.pass(&city.claims()), NOW);
        assert_eq!(plain.outcome, Outcome::Valid, "{plain:?}");
        let summary = plain.pass.unwrap();
        assert_eq!(summary.holder, HolderBinding::NotBound);
        assert!(summary.holder_line().starts_with("NOT BOUND"));

        let phone = device_key("a phone");
        let mut claims = city.claims();
        claims.holder = Some(DeviceSigner::device_key(&phone));
        let issued = text::decode(&city.pass(&claims)).unwrap();
        let code = live::sign_live_code(&issued, NOW, &phone);
        let first = lists.decide(&policy, skew, &mut memory, &code, NOW.plus(Seconds(4)));
        let summary = first.pass.as_ref().expect("accepted");
        assert!(summary.holder.is_holder_bound());
        assert_eq!(
            summary.holder_line(),
            "live code from the holder's phone, signed 4 s ago"
        );
        assert_eq!(summary.already_scanned_line(), None);
        let json: serde_json::Value = serde_json::from_str(&first.to_json(
            crate::Source {
                name: "camera",
                line: None,
                symbol: None,
            },
            "office",
        ))
        .unwrap();
        assert_eq!(json["holder_bound"], true);
        assert_eq!(json["live_code_signed_at"], NOW.0);
        assert_eq!(json["live_code_age_seconds"], 4);
        assert_eq!(json["already_scanned_seconds_ago"], serde_json::Value::Null);

        let again = lists.decide(&policy, skew, &mut memory, &code, NOW.plus(Seconds(16)));
        assert_eq!(again.outcome, Outcome::Valid);
        assert_eq!(
            again.pass.unwrap().already_scanned_line().unwrap(),
            "ALREADY SCANNED 12 s ago here: look at the person"
        );

        // The checkpoint's five minutes of tolerated skew do not widen the
        // live code's minute.
        let late = lists.decide(&policy, skew, &mut memory, &code, NOW.plus(Seconds(61)));
        assert_eq!(late.outcome, Outcome::NotValid);
        assert_eq!(late.reason.unwrap().code, "live_code_too_old");
        let bare = lists.decide(&policy, skew, &mut memory, &text::encode(&issued), NOW);
        assert_eq!(bare.reason.unwrap().code, "bound_pass_not_live");
        let nothing = Lists::default().decide(&policy, skew, &mut memory, &code, NOW);
        assert_eq!(nothing.reason.unwrap().code, "no_trust_list");
    }
}
