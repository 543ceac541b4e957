//! `cbor::decode` with a small nesting limit (4, as claims and headers use).
//! The profile admits one encoding per value, so whatever decodes must
//! encode back to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::cbor::{self, Item};

fuzz_target!(|data: &[u8]| {
    match cbor::decode(data, 4) {
        Ok(item) => {
            let mut out = Vec::with_capacity(data.len());
            encode(&item, &mut out);
            assert_eq!(out, data, "decode then encode is not the identity");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

fn head(major: u8, value: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend([major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(value.to_be_bytes());
        }
    }
}

fn encode(item: &Item<'_>, out: &mut Vec<u8>) {
    match item {
        Item::Unsigned(n) => head(0, *n, out),
        Item::Negative(n) => head(1, *n, out),
        Item::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Item::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend_from_slice(t.as_bytes());
        }
        Item::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|i| encode(i, out));
        }
        Item::Map(entries) => {
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        Item::Tag(tag, inner) => {
            head(6, *tag, out);
            encode(inner, out);
        }
        Item::Bool(false) => out.push(0xf4),
        Item::Bool(true) => out.push(0xf5),
        Item::Null => out.push(0xf6),
    }
}
