//! A server nobody scrapes does not grow without bound: the samples of the
//! public API's histograms are folded into them every second, not only
//! when `/metrics` is read. (Before, a server under the overload harness
//! that was scraped only at the end kept growing with every round.)
//!
//! Its own test binary, for the allocator that counts live bytes.

use sealpass_issuer::shared::metrics::Metrics;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// `n` passes served: two histogram samples each, as the pass route records.
fn serve(metrics: &Metrics, n: usize) {
    for _ in 0..n {
        metrics.request("pass", 200, Duration::from_micros(900));
        metrics.pass_served(60, false);
    }
}

/// Lets the clock run `by` and the runtime's tasks (the upkeep among them) run.
async fn time_passes(by: Duration) {
    tokio::time::advance(by).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn histogram_samples_do_not_pile_up_between_scrapes() {
    let metrics = Metrics::new();
    serve(&metrics, 10_000);
    time_passes(Duration::from_secs(60)).await;
    let before = live_bytes();

    // A minute of a busy server (1,000,000 passes, 2 samples of 8 bytes
    // each: 16 MB if they were all kept), with nobody scraping.
    for _ in 0..20 {
        serve(&metrics, 50_000);
        time_passes(Duration::from_secs(3)).await;
    }
    time_passes(Duration::from_secs(10)).await;
    let grown = live_bytes() - before;
    assert!(
        grown < 4 << 20,
        "{grown} bytes more are held after 1,000,000 passes served with nobody scraping"
    );

    // And what was folded in is still counted.
    let text = metrics.render();
    let count = text
        .lines()
        .find(|l| l.starts_with("sealpass_public_pass_age_seconds_count"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert_eq!(count, Some(1_010_000), "{text}");
}
