//! docs/format.md's worked example is the code's output, byte for byte.

use sealpass_core::testkit::{City, NOW, sample_claims};
use sealpass_core::{sign_pass, text};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/format.md"))
        .expect("docs/format.md")
}

/// The hex digits of the annotated block, comments and layout removed.
fn annotated_hex(doc: &str) -> String {
    let start = doc
        .find("<!-- worked-example:begin -->")
        .expect("begin marker");
    let end = doc.find("<!-- worked-example:end -->").expect("end marker");
    doc[start..end]
        .lines()
        .filter(|line| !line.starts_with("<!--") && !line.starts_with("```"))
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|code| code.split_whitespace())
        .collect()
}

#[test]
fn worked_example_matches_the_encoder() {
    let text = sign_pass(&sample_claims(NOW), &City::new().active).unwrap();
    let doc = doc();
    assert!(
        doc.contains(&text),
        "docs/format.md does not show the current pass text:\n{text}"
    );
    let cose: String = text::decode(&text)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(annotated_hex(&doc), cose);
}
