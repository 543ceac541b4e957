//! Live codes (issue 18) at the command line: `verify`, `scan` of a
//! screenshot and `listen` accept a live code from the bound phone, say
//! how the pass is tied to its holder, warn of the same code scanned again
//! in one run, and refuse a screenshot past its minute, the bound pass
//! shown bare, and a code from another phone.

mod support;

use sealpass_core::live::{self, DeviceSigner};
use sealpass_core::testkit::{device_key, p256_device_key};
use sealpass_core::{Seconds, text};
use support::images::{png, render};
use support::{City, NOW, Station};

fn synced(city: &City) -> Station {
    let station = Station::new();
    station.store(&city.trust_list(1), Some(&city.current_status_list()));
    station
}

/// The COSE bytes of a pass bound to `phone`, as the issuer signs it.
fn bound_pass(city: &City, phone: &impl DeviceSigner) -> Vec<u8> {
    let mut claims = city.claims();
    claims.holder = Some(phone.device_key());
    text::decode(&city.pass(&claims)).unwrap()
}

#[test]
fn a_live_code_from_the_bound_phone_is_valid_and_says_so() {
    let city = City::new();
    let station = synced(&city);
    let phone = device_key("citizen's phone");
    let code = live::sign_live_code(&bound_pass(&city, &phone), NOW.minus(Seconds(4)), &phone);

    let shown = station.cmd(&["verify", &code]).run();
    assert_eq!(shown.code, 0, "{}{}", shown.stdout, shown.stderr);
    assert!(
        shown
            .stdout
            .contains("  holder   live code from the holder's phone, signed 4 s ago\n"),
        "{}",
        shown.stdout
    );
    let json = station.cmd(&["--json", "verify", &code]).run().json_one();
    assert_eq!(json["holder_bound"], true);
    assert_eq!(json["live_code_signed_at"], NOW.0 - 4);
    assert_eq!(json["live_code_age_seconds"], 4);

    // A plain pass where the policy allows paper: valid, not bound.
    let plain = station
        .cmd(&["--json", "verify", &city.named("valid")])
        .run()
        .json_one();
    assert_eq!(plain["holder_bound"], false);
}

#[test]
fn a_screenshot_is_valid_within_its_minute_and_refused_after_it() {
    let city = City::new();
    let station = synced(&city);
    let phone = p256_device_key("citizen's older phone");
    let code = live::sign_live_code(&bound_pass(&city, &phone), NOW, &phone);
    let screenshot = station.folder("photos").join("live-code.png");
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    std::fs::write(&screenshot, png(&render(&code, 3))).unwrap();
    let path = screenshot.display().to_string();

    let now = station.cmd(&["--json", "scan", &path]).run();
    assert_eq!(now.code, 0, "{}{}", now.stdout, now.stderr);
    assert_eq!(now.json_one()["holder_bound"], true);

    // The same picture 61 s later: too old, whatever the clock skew allowed.
    let later = station
        .cmd(&["--clock-skew", "1h", "--json", "scan", &path])
        .now(NOW.0 + 61)
        .run();
    assert_eq!(later.code, 1, "{}{}", later.stdout, later.stderr);
    let verdict = later.json_one();
    assert_eq!(verdict["code"], "live_code_too_old");
    assert_eq!(verdict["phase"], "holder");
    let text = station.cmd(&["scan", &path]).now(NOW.0 + 61).run();
    assert!(
        text.stdout.contains("code too old: signed 61 s ago"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_copy_or_another_phone_is_refused_and_a_rescan_is_warned_of() {
    let city = City::new();
    let station = synced(&city);
    let phone = device_key("citizen's phone");
    let issued = bound_pass(&city, &phone);
    let code = live::sign_live_code(&issued, NOW.minus(Seconds(2)), &phone);

    let bare = station
        .cmd(&["--json", "verify", &text::encode(&issued)])
        .run();
    assert_eq!(bare.code, 1);
    assert_eq!(bare.json_one()["code"], "bound_pass_not_live");
    let other = live::sign_live_code(&issued, NOW, &device_key("a stranger's phone"));
    let refused = station.cmd(&["--json", "verify", &other]).run().json_one();
    assert_eq!(refused["code"], "wrong_device");

    // A USB scanner reads the same code twice: accepted both times, the
    // second with a warning to look at the person.
    let lines = format!("{code}\n{code}\n");
    let listen = station.cmd(&["listen"]).stdin(lines).run();
    assert_eq!(listen.code, 0, "{}{}", listen.stdout, listen.stderr);
    assert_eq!(
        listen.stdout.matches("VALID · GREEN").count(),
        2,
        "{}",
        listen.stdout
    );
    assert_eq!(
        listen
            .stdout
            .matches("ALREADY SCANNED 0 s ago here: look at the person")
            .count(),
        1,
        "{}",
        listen.stdout
    );
}
