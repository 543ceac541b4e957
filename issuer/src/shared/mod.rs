//! What both sides of the issuer need, below both of them: the clock, the
//! metrics registry and the error body of an HTTP answer. It names neither
//! side (tests/layers.rs).

pub mod clock;
pub mod errors;
pub mod metrics;

/// splitmix64's finalizer: a bijection that spreads nearby inputs.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
