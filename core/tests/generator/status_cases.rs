//! Status-list vectors: a signed status list offered to a checkpoint that
//! holds [`TRUST_LIST`], before it is used for revocation.

use super::city::{City, RETIRED_AT, STATUS_LIST, TRUST_LIST, claims};
use super::raw::{RawSign1, cbor};
use super::{Case, Kind, hex};
use ed25519_dalek::SigningKey;
use sealpass_core::cose::{AAD_PASS, AAD_STATUS_LIST};
use sealpass_core::testkit::{ISSUER, NOW};
use sealpass_core::{Seconds, StatusBits, Timestamp, sign_status_list};

fn status_list(
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    list: &str,
) -> Case {
    Case::new(Kind::StatusList, name, expect, comment)
        .line("trust-list", TRUST_LIST)
        .line("status-list", list)
}

/// A status list signed by `key`, issued at `issued_at`, valid 24 h.
fn signed(issuer: &str, issued_at: Timestamp, key: &SigningKey) -> String {
    let bits = StatusBits::new(1024);
    hex(&sign_status_list(
        issuer,
        issued_at,
        issued_at.plus(Seconds::hours(24)),
        &bits,
        key,
    )
    .expect("in-memory keys sign"))
}

/// The status-list document, written by hand.
fn payload(bits_per_entry: u64, compressed: &[u8]) -> Vec<u8> {
    let issued_at = NOW.minus(Seconds::hours(1));
    cbor(|e| {
        e.map(5)
            .int(1)
            .text(ISSUER)
            .int(2)
            .uint(issued_at.0)
            .int(3)
            .uint(issued_at.plus(Seconds::hours(24)).0)
            .int(4)
            .uint(bits_per_entry)
            .int(5)
            .bytes(compressed);
    })
}

pub fn cases(city: &City) -> Vec<Case> {
    let key = &city.active;
    let hour_ago = NOW.minus(Seconds::hours(1));
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 128], 9);
    let signed_raw =
        |payload: &[u8], aad: &[u8]| hex(&RawSign1::signed(payload, key, aad).to_bytes());
    vec![
        status_list(
            "valid-status-list",
            "valid",
            "the issuer's current status list, signed by its active key",
            STATUS_LIST,
        ),
        status_list(
            "status-list-expired",
            "status_list_expired",
            "a status list that expired 2 h ago: revocations since then would be missed",
            &signed(ISSUER, NOW.minus(Seconds::hours(26)), key),
        ),
        status_list(
            "status-list-unknown-key",
            "unknown_issuer_key",
            "signed by a key no trust list names",
            &signed(ISSUER, hour_ago, &city.rogue),
        ),
        status_list(
            "status-list-revoked-key",
            "issuer_key_revoked",
            "signed by the issuer's revoked key: a thief could clear revocations",
            &signed(ISSUER, hour_ago, &city.revoked),
        ),
        status_list(
            "status-list-retired-key-outside-window",
            "key_not_valid_at_issuance",
            "signed 1 h ago by a key retired 2 h ago",
            &signed(ISSUER, RETIRED_AT.plus(Seconds::hours(1)), &city.retired),
        ),
        status_list(
            "status-list-issuer-mismatch",
            "issuer_mismatch",
            "a list for Guangzhou (CN-440100) signed by a Xi'an key",
            &signed("CN-440100", hour_ago, key),
        ),
        status_list(
            "status-list-with-pass-aad",
            "bad_signature",
            "a genuine status-list payload signed with the pass AAD",
            &signed_raw(&payload(1, &zlib), AAD_PASS),
        ),
        status_list(
            "pass-offered-as-status-list",
            "bad_signature",
            "a genuine pass offered as a status list: the AADs differ, so its signature cannot verify",
            &hex(&RawSign1::pass(&claims().to_cbor(), key).to_bytes()),
        ),
        status_list(
            "status-list-two-bits-per-entry",
            "unsupported_status_bits",
            "2 bits per entry, validly signed; v1 status lists use 1",
            &signed_raw(&payload(2, &zlib), AAD_STATUS_LIST),
        ),
        status_list(
            "status-list-damaged-bits",
            "malformed_status_list",
            "a validly signed list whose zlib bit array is cut short",
            &signed_raw(&payload(1, &zlib[..zlib.len() - 4]), AAD_STATUS_LIST),
        ),
        status_list(
            "status-list-issued-in-future",
            "status_list_issued_in_future",
            "issued 30 days ahead by the active key: accepted, it would make every genuine list until then \
             look like a rollback, freezing revocation",
            &signed(ISSUER, NOW.plus(Seconds::days(30)), key),
        ),
        status_list(
            "status-list-lifetime-beyond-key-limit",
            "lifetime_too_long",
            "valid a year: longer than the 2 days its key allows, as a retired key's holder would sign one",
            &hex(&sign_status_list(
                ISSUER,
                hour_ago,
                hour_ago.plus(Seconds::days(365)),
                &StatusBits::new(1024),
                key,
            )
            .expect("in-memory keys sign")),
        ),
        status_list(
            "valid-status-list-issued-within-skew",
            "valid",
            "issued 4 min ahead of this clock: within the 5 min a list may be ahead",
            &signed(ISSUER, NOW.plus(Seconds::minutes(4)), key),
        ),
    ]
}
