//! What sealpass does, in one run: a test city's custodians sign a trust
//! list, the issuer signs a pass, and a checkpoint decides on it offline at
//! the morning rush, a day later, and after the pass is revoked.
//!
//!     cargo run -p sealpass-core --example demo
//!
//! Every key here is a public test key (testkit): never use them for real.

use sealpass_core::testkit::{City, NOW};
use sealpass_core::{
    CheckpointPolicy, Seconds, StatusBits, StatusList, Timestamp, Verifier, sign_pass,
    sign_status_list,
};

fn main() {
    let city = City::new();
    let list = city.trusted().list();
    println!(
        "trust list #{}: {} of {} custodians must sign; {} issuer key(s); expires {}",
        list.sequence,
        list.roots.threshold,
        list.roots.keys.len(),
        list.issuer_keys.len(),
        list.expires_at
    );

    let claims = city.claims();
    let pass = sign_pass(&claims, &city.active).expect("test keys sign");
    println!(
        "\npass ({} characters, shown as a QR code):\n{pass}\n",
        pass.len()
    );

    let office = CheckpointPolicy::builtin("office").expect("built in");
    let checkpoint = Verifier::new(city.trusted(), &office);
    decide(&checkpoint, &pass, NOW, "07:40, office door");
    decide(
        &checkpoint,
        &pass,
        NOW.plus(Seconds::hours(26)),
        "a day later",
    );

    let mut revoked = StatusBits::new(2_000_000);
    revoked.revoke(claims.revocation_index);
    let status = sign_status_list(
        &claims.issuer,
        NOW,
        NOW.plus(Seconds::hours(6)),
        &revoked,
        &city.active,
    )
    .expect("test keys sign");
    let status = [StatusList::verify(&status, city.trusted(), NOW).expect("a valid status list")];
    decide(
        &checkpoint.with_status_lists(&status),
        &pass,
        NOW,
        "after revocation",
    );
}

fn decide(checkpoint: &Verifier<'_>, pass: &str, now: Timestamp, when: &str) {
    match checkpoint.verify(pass, now) {
        Ok(verified) => println!(
            "{when:>18}: VALID {} — {} {} — valid for {}",
            verified.health().colour.name().to_uppercase(),
            verified.health().masked_name,
            verified.health().masked_id,
            verified.valid_for(now)
        ),
        Err(reason) => println!("{when:>18}: NOT VALID — {reason}"),
    }
}
