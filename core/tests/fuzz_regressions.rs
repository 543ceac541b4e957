//! Inputs found while fuzzing sealpass-core (fuzz/, docs/fuzzing.md), one
//! file each under tests/fuzz-regressions/, named for what they are. Each
//! test says what went wrong and checks it no longer does.

use sealpass_core::testkit::{City, NOW};
use sealpass_core::{SignedTrustList, StatusList, TrustedList, cbor, cose};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

fn input(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fuzz-regressions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `prefix` (a COSE tag), then eight array headers (0x99 + 2-byte length),
/// each claiming about as many elements as the whole input has bytes, then
/// zeros: the shape of the `*-nested-array-headers.bin` inputs.
/// The testkit trust list's payload with a different set of signatures,
/// found by the `trust_list` target (2026-12-07): rule T0 answers
/// `Unchanged` for the same payload whatever the signatures around it
/// (vector `trust-update/valid-same-content-more-signatures`), and the
/// target wrongly asserted the bytes were identical. The core was right;
/// this keeps the answer and the reason for it.
#[test]
fn the_same_payload_with_other_signatures_is_unchanged_not_a_rollback() {
    let city = City::new();
    let candidate = input("trust-list-same-payload-other-signatures.bin");
    assert_ne!(candidate, city.trusted().bytes());
    let offered = SignedTrustList::from_bytes(&candidate).unwrap();
    let held = SignedTrustList::from_bytes(city.trusted().bytes()).unwrap();
    assert_eq!(offered.payload(), held.payload());
    assert!(matches!(
        city.trusted().update(&candidate, NOW),
        Ok(sealpass_core::TrustUpdate::Unchanged)
    ));
}

fn assert_nested_array_headers(bytes: &[u8], prefix: &[u8]) {
    assert_eq!(bytes.len(), 4096);
    assert!(bytes.starts_with(prefix));
    let claimed = (bytes.len() - 96) as u16;
    for level in bytes[prefix.len()..].chunks(3).take(8) {
        assert_eq!(level[0], 0x99);
        assert_eq!(u16::from_be_bytes([level[1], level[2]]), claimed);
    }
    assert!(bytes[prefix.len() + 8 * 3..].iter().all(|&b| b == 0));
}

/// Memory decoding may take for `input_len` bytes: one `Item` (32 bytes)
/// per input byte, twice over for a growing `Vec`. Not per nesting level.
fn allowed(input_len: usize) -> usize {
    2 * 32 * input_len
}

// Huge allocation (found reviewing the cbor target; confirmed by measuring):
// each nested array header reserved room for as many elements as it claimed,
// bounded only by the bytes left, so every level reserved for the whole input
// again. A status list at its 16 MiB cap reserved 3.5 GiB before its signature
// was looked at (a trust list at 1 MiB: 223 MiB); on wasm32 that aborts.
// These 4 KiB inputs reserved 0.9 MiB each; now decoding reserves at most
// `cbor::MAX_PREALLOCATED` elements ahead of reading them.
#[test]
fn status_list_nested_array_headers_reserve_no_memory_per_level() {
    let bytes = input("status-list-nested-array-headers.bin");
    assert_nested_array_headers(&bytes, &[0xd2]);
    let city = City::new();
    let (result, peak) = peak_during(|| StatusList::verify(&bytes, city.trusted(), NOW));
    assert_eq!(
        result.unwrap_err().to_string(),
        "the status list is damaged: not valid CBOR: CBOR nesting deeper than 8 levels"
    );
    assert!(
        peak <= allowed(bytes.len()),
        "reserved {peak} bytes for a {}-byte input",
        bytes.len()
    );
    let (result, peak) = peak_during(|| cose::parse_sign1(&bytes).map(|_| ()));
    assert_eq!(
        result,
        Err(cose::CoseError::Cbor(cbor::CborError::TooDeep(
            cose::MAX_COSE_DEPTH
        )))
    );
    assert!(
        peak <= allowed(bytes.len()),
        "reserved {peak} bytes for a {}-byte input",
        bytes.len()
    );
}

#[test]
fn trust_list_nested_array_headers_reserve_no_memory_per_level() {
    let bytes = input("trust-list-nested-array-headers.bin");
    assert_nested_array_headers(&bytes, &[0xd8, 0x62]);
    let city = City::new();
    let (result, peak) = peak_during(|| SignedTrustList::from_bytes(&bytes).map(|_| ()));
    assert!(result.is_err());
    assert!(
        peak <= allowed(bytes.len()),
        "reserved {peak} bytes for a {}-byte input",
        bytes.len()
    );
    let (result, peak) =
        peak_during(|| TrustedList::bootstrap(&city.roots, &bytes, NOW).map(|_| ()));
    assert_eq!(result.unwrap_err().code(), "malformed_trust_list");
    assert!(
        peak <= allowed(bytes.len()),
        "reserved {peak} bytes for a {}-byte input",
        bytes.len()
    );
}

// Memory amplification (found reviewing the fix above): with room reserved
// only as items are read, an 8 MiB status list whose ignored unprotected
// header holds 8 million small integers still made 8 million 32-byte items,
// 256 MiB, before its signature was looked at. Now a document holds at most
// `cbor::MAX_ITEMS` items, so the memory decoding takes is bounded by a
// constant, whatever the input's size.
#[test]
fn a_huge_unprotected_header_takes_bounded_memory() {
    let count: u32 = 8 << 20;
    let mut bytes = vec![0xd2, 0x84, 0x40, 0xa1, 0x01, 0x9a];
    bytes.extend(count.to_be_bytes());
    bytes.extend(std::iter::repeat_n(0x00, count as usize));
    bytes.extend([0x40, 0x58, 0x40]);
    bytes.extend([0; 64]);
    let city = City::new();
    let (result, peak) =
        peak_during(|| StatusList::verify(&bytes, city.trusted(), NOW).map(|_| ()));
    assert_eq!(
        result.unwrap_err().to_string(),
        "the status list is damaged: not valid CBOR: more than 65536 CBOR items"
    );
    assert!(
        peak <= 4 << 20,
        "held {peak} bytes for a {}-byte input",
        bytes.len()
    );
}

/// Counts the bytes each thread holds, so a test can see the most memory a
/// call held at once (tests run on threads of their own).
struct PerThreadPeak;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(delta: isize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

/// The result of `f` and the most bytes it held at once beyond what was held before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    let result = f();
    (result, (PEAK.with(Cell::get) - before) as usize)
}

unsafe impl GlobalAlloc for PerThreadPeak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: PerThreadPeak = PerThreadPeak;
