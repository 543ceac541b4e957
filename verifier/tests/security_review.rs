//! The security review's findings that live at the checkpoint, each through
//! the real binary: revocation fails closed, lists from the future are
//! refused, stored lists are checked against the pinned roots and never
//! roll back, and the clock skew is bounded (docs/trust.md, "Threat model").

mod support;

use sealpass_core::testkit::REVOKED_INDEX;
use sealpass_core::{PassClaims, RootKey, RootSet, Seconds, TrustList};
use support::server::Server;
use support::{City, NOW, Station};

/// A server with the city's trust list and, if given, its status list;
/// without one, `status/CN-610100.cbor` answers 404 (as an attacker on the
/// path would).
fn serve(trust_list: &[u8], status_list: Option<&[u8]>) -> (Server, String) {
    let server = Server::start();
    server.put("/sealpass/trust-list.cbor", trust_list);
    if let Some(status_list) = status_list {
        server.put("/sealpass/status/CN-610100.cbor", status_list);
    }
    let from = format!("{}/sealpass", server.url());
    (server, from)
}

fn roots_file(city: &City, station: &Station) -> String {
    let path = station.folder("ceremony").join("roots.cbor");
    std::fs::write(&path, city.roots_file()).unwrap();
    path.display().to_string()
}

fn revoked_pass(city: &City) -> String {
    city.pass(&PassClaims {
        revocation_index: REVOKED_INDEX,
        ..city.claims()
    })
}

/// Finding 1: with the status list answering 404 at sync, a revoked pass
/// was VALID (exit 0) and `status` said ready.
#[test]
fn a_revoked_pass_is_never_valid_when_the_status_list_answers_404() {
    let city = City::new();
    let station = Station::new();
    let (_server, from) = serve(&city.trust_list(1), None);
    let roots = roots_file(&city, &station);
    let sync = station
        .cmd(&["--json", "sync", "--from", &from, "--roots", &roots])
        .run();
    assert_eq!(sync.code, 2, "{}", sync.stdout);
    assert_eq!(sync.json()[1]["code"], "not_found");

    for pass in [revoked_pass(&city), city.valid_pass()] {
        let verdict = station.cmd(&["--json", "verify", &pass]).run();
        assert_eq!(verdict.code, 2, "{}", verdict.stdout);
        assert_eq!(verdict.codes(), ["revocation_not_checked"]);
        assert_eq!(verdict.json_one()["verdict"], "undecided");
    }
    let people = station.cmd(&["verify", &revoked_pass(&city)]).run();
    assert!(
        people.stdout.starts_with("CANNOT DECIDE"),
        "{}",
        people.stdout
    );
    assert!(
        people.stdout.contains("could not check revocation"),
        "{}",
        people.stdout
    );
    assert!(
        people
            .stderr
            .contains("no status list of issuer CN-610100 is held"),
        "{}",
        people.stderr
    );

    let status = station.cmd(&["--json", "status"]).run();
    assert_eq!(status.code, 2);
    let status = status.json_one();
    assert_eq!(status["ready"], false);
    assert_eq!(status["code"], "revocation_not_checked");
    assert_eq!(status["status_lists"][0]["state"], "missing");

    // Only a policy that says so by its loud name admits unchecked passes.
    let lax = station.folder("policy").join("lax.policy");
    std::fs::write(
        &lax,
        "colours = green\ndanger-accept-unchecked-revocation = yes\n",
    )
    .unwrap();
    let lax = lax.display().to_string();
    let admitted = station
        .cmd(&["--policy", &lax, "verify", &city.valid_pass()])
        .run();
    assert_eq!(admitted.code, 0, "{}", admitted.stdout);
    assert!(
        admitted.stdout.contains("revocation NOT checked"),
        "{}",
        admitted.stdout
    );
    assert_eq!(
        station.cmd(&["--policy", &lax, "status"]).run().code,
        0,
        "a policy that accepts unchecked revocation is ready without status lists"
    );
}

/// Finding 3: a status list issued in the future was accepted, and every
/// genuine list after it was then refused as a rollback.
#[test]
fn a_status_list_from_the_future_is_refused_and_freezes_nothing() {
    let city = City::new();
    let station = Station::new();
    let future = city.status_list(NOW.plus(Seconds::days(30)), &[]);
    let (server, from) = serve(&city.trust_list(1), Some(&future));
    let roots = roots_file(&city, &station);
    let sync = station
        .cmd(&["--json", "sync", "--from", &from, "--roots", &roots])
        .run();
    assert_eq!(sync.code, 1, "{}", sync.stdout);
    assert_eq!(sync.json()[1]["code"], "status_list_issued_in_future");

    server.put(
        "/sealpass/status/CN-610100.cbor",
        &city.status_list(NOW.minus(Seconds::hours(1)), &[]),
    );
    let sync = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(sync.code, 0, "{}", sync.stdout);
    assert_eq!(sync.json()[1]["result"], "accepted");
    let verdict = station
        .cmd(&["--json", "verify", &revoked_pass(&city)])
        .run();
    assert_eq!(verdict.codes(), ["pass_revoked"]);
}

/// Finding 6: a stored list was checked only against its own roots, so a
/// list self-signed by other roots, written into the state directory, was
/// trusted.
#[test]
fn a_stored_trust_list_is_checked_against_the_pinned_roots() {
    let city = City::new();
    let station = Station::new();
    let (_server, from) = serve(&city.trust_list(1), Some(&city.current_status_list()));
    let roots = roots_file(&city, &station);
    assert_eq!(
        station
            .cmd(&["sync", "--from", &from, "--roots", &roots])
            .run()
            .code,
        0
    );
    let impostors = city.impostors();
    let forged = TrustList {
        sequence: 9,
        roots: RootSet {
            threshold: 2,
            keys: impostors
                .iter()
                .enumerate()
                .map(|(i, k)| RootKey {
                    custodian: format!("impostor {i}"),
                    public_key: k.verifying_key().to_bytes(),
                })
                .collect(),
        },
        ..city.list(9)
    };
    let forged = sealpass_core::testkit::sign_list(&forged, &impostors[..2]);
    std::fs::write(station.state().join("trust-list.cbor"), forged).unwrap();
    let verdict = station.cmd(&["--json", "verify", &city.valid_pass()]).run();
    assert_eq!(verdict.code, 2);
    assert_eq!(verdict.codes(), ["trust_list_damaged"]);
}

/// Finding 6: a damaged stored list made `sync` bootstrap again, which took
/// a lower sequence: a rollback. Going back needs an explicit re-pin.
#[test]
fn a_damaged_stored_list_does_not_open_the_way_back_to_an_older_one() {
    let city = City::new();
    let station = Station::new();
    let (server, from) = serve(&city.trust_list(2), Some(&city.current_status_list()));
    let roots = roots_file(&city, &station);
    let first = station
        .cmd(&["sync", "--from", &from, "--roots", &roots])
        .run();
    assert_eq!(first.code, 0, "{}", first.stdout);
    assert_eq!(
        std::fs::read_to_string(station.state().join("highest-sequence")).unwrap(),
        "2\n"
    );

    let stored = station.state().join("trust-list.cbor");
    let mut damaged = std::fs::read(&stored).unwrap();
    damaged[40] ^= 1;
    std::fs::write(&stored, damaged).unwrap();
    server.put("/sealpass/trust-list.cbor", &city.trust_list(1));
    let back = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(back.code, 1, "{}{}", back.stdout, back.stderr);
    assert_eq!(back.json()[0]["code"], "rollback");
    assert!(
        back.stderr.contains("never below the highest sequence"),
        "{}",
        back.stderr
    );

    // The custodians' word, given explicitly, is the only way back.
    let repinned = station
        .cmd(&[
            "--json", "sync", "--from", &from, "--roots", &roots, "--re-pin",
        ])
        .run();
    assert_eq!(repinned.code, 0, "{}", repinned.stdout);
    assert_eq!(repinned.json()[0]["sequence"], 1);
    assert_eq!(
        std::fs::read_to_string(station.state().join("highest-sequence")).unwrap(),
        "1\n"
    );
}

/// Finding 8: `--clock-skew 100000d` made expired passes valid.
#[test]
fn a_clock_skew_beyond_an_hour_is_refused() {
    let city = City::new();
    let station = Station::new();
    let huge = station
        .cmd(&["--clock-skew", "100000d", "verify", &city.valid_pass()])
        .run();
    assert_eq!(huge.code, 2);
    assert!(
        huge.stderr
            .contains("more than the 1 h a checkpoint may tolerate"),
        "{}",
        huge.stderr
    );
    let hour = station
        .cmd(&["--json", "--clock-skew", "1h", "verify", &city.valid_pass()])
        .run();
    assert_eq!(hour.codes(), ["no_trust_list"], "the skew was accepted");
}
