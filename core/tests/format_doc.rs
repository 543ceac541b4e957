//! docs/format.md's worked examples are the code's output, byte for byte.

use sealpass_core::live::{DeviceSigner, live_code_signing_input, sign_live_code};
use sealpass_core::testkit::{City, NOW, device_key, p256_device_key, sample_claims};
use sealpass_core::{PassClaims, Seconds, cbor, sign_pass, text};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/format.md"))
        .expect("docs/format.md")
}

/// The hex digits of the annotated block between `<!-- {name}:begin -->`
/// and `<!-- {name}:end -->`, comments and layout removed.
fn annotated_hex(doc: &str, name: &str) -> String {
    let start = doc
        .find(&format!("<!-- {name}:begin -->"))
        .unwrap_or_else(|| panic!("{name}: begin marker"));
    let end = doc
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("{name}: end marker"));
    doc[start..end]
        .lines()
        .filter(|line| !line.starts_with("<!--") && !line.starts_with("```"))
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|code| code.split_whitespace())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn worked_example_matches_the_encoder() {
    let text = sign_pass(&sample_claims(NOW), &City::new().active).unwrap();
    let doc = doc();
    assert!(
        doc.contains(&text),
        "docs/format.md does not show the current pass text:\n{text}"
    );
    assert_eq!(
        annotated_hex(&doc, "worked-example"),
        hex(&text::decode(&text).unwrap())
    );
}

#[test]
fn live_code_example_matches_the_encoder() {
    let phone = device_key("holder's phone, Ed25519");
    let claims = PassClaims {
        holder: Some(phone.device_key()),
        ..sample_claims(NOW)
    };
    let pass = text::decode(&sign_pass(&claims, &City::new().active).unwrap()).unwrap();
    let signed_at = NOW.plus(Seconds(7));
    let code = sign_live_code(&pass, signed_at, &phone);
    let text::Scanned::LiveCode(envelope) = text::decode_scanned(&code).unwrap() else {
        panic!("an SP2: text");
    };
    let doc = doc();
    assert_eq!(annotated_hex(&doc, "live-code-example"), hex(&envelope));
    assert_eq!(
        annotated_hex(&doc, "live-code-signing-input"),
        hex(&live_code_signing_input(&pass, signed_at))
    );
    let mut cnf = cbor::Encoder::default();
    p256_device_key("holder's phone, P-256")
        .device_key()
        .encode_cnf(&mut cnf);
    assert_eq!(
        annotated_hex(&doc, "cnf-p256-example"),
        hex(&cnf.into_bytes())
    );
}
