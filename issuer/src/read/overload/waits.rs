//! How long a kept-alive connection's next request waited to be read.
//!
//! The door stamps a connection's *first* request (its first bytes);
//! a connection kept alive (a phone that refreshes on the same connection,
//! and every connection from a load balancer or reverse proxy in front of
//! the issuer) brings its later requests without the door seeing them.
//! Measured (docs/performance.md, "Pass download and overload"): an open
//! loop over 1,024 kept-alive connections at twice the capacity was never
//! shed, every answer came seconds late and most timed out. So each
//! connection's reads are watched: when the kernel says the next request
//! has arrived, the wake-up is stamped; when the server gets round to
//! reading it, the time since is how long the request waited in the
//! server's queue (its sojourn, as the door's stamp gives for a first
//! request), and [`super::QueueDelay`] judges it the same way.
//!
//! The served stream also holds the connection's place in service
//! ([`super::connections`]): between requests it says it is idle, and if
//! the door has it give its place up, or it stays idle for `idle_timeout`,
//! the read ends as if the client had closed and the server closes its
//! side, as for any kept-alive connection.

use super::connections::Place;
use super::per_client::ClientSlot;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// The waits of one connection's requests.
pub struct ReadWaits {
    epoch: Instant,
    /// The task to wake when the connection is readable.
    task: Mutex<Option<Waker>>,
    /// When the connection last became readable, microseconds since
    /// `epoch` plus one (0: not since it was last read).
    woken_at: AtomicU64,
    /// The last wait measured, microseconds plus one (0: none since taken).
    last: AtomicU64,
}

impl ReadWaits {
    pub fn new() -> Arc<ReadWaits> {
        Arc::new(ReadWaits {
            epoch: Instant::now(),
            task: Mutex::new(None),
            woken_at: AtomicU64::new(0),
            last: AtomicU64::new(0),
        })
    }

    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64 + 1
    }

    /// The wait of the request read last, once.
    pub fn take(&self) -> Option<Duration> {
        match self.last.swap(0, Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_micros(n - 1)),
        }
    }
}

impl std::fmt::Debug for ReadWaits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadWaits")
            .field("last", &self.last.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Wake for ReadWaits {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let _ =
            self.woken_at
                .compare_exchange(0, self.micros(), Ordering::Relaxed, Ordering::Relaxed);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.wake();
        }
    }
}

/// A served connection whose reads are timed ([`ReadWaits`]), closed
/// after `idle` without a request once it has answered one.
pub struct TimedStream {
    stream: TcpStream,
    waits: Arc<ReadWaits>,
    waker: Waker,
    /// Held until the connection closes (none: not counted).
    place: Option<Place>,
    /// It gave its place up: the connection ends.
    closing: bool,
    /// Zero: never closed for idleness.
    idle: Duration,
    /// The last thing done was writing (an answer): a read that waits now
    /// waits for the next request, and may time out.
    answered: bool,
    /// The idle deadline, armed while a read waits after an answer.
    idle_timer: Option<Pin<Box<Sleep>>>,
    armed: bool,
    /// The connection's place among its address's, held until it closes.
    slot: Option<ClientSlot>,
    /// How long a request head may take to arrive whole (zero: no limit).
    head_within: Duration,
    /// Where the current request head is.
    head: Head,
    /// Its deadline, armed from its first bytes until its blank line.
    head_timer: Option<Pin<Box<Sleep>>>,
}

/// Where a connection is in its request head, as far as the bytes read
/// show: the head ends at its first blank line (`\r\n\r\n`, RFC 9112).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// No byte of the next request read yet (a new connection, or one
    /// that answered).
    Awaited,
    /// Reading it; the last bytes read (up to 3, for a blank line split
    /// across reads).
    Reading { tail: [u8; 3], len: u8 },
    /// Read whole: the request is worked on (or its body read).
    Whole,
}

/// The end of a request head.
const BLANK_LINE: &[u8; 4] = b"\r\n\r\n";

impl Head {
    /// The state after `bytes` were read. Runs on every read of every
    /// connection: one SIMD search of the new bytes, plus the few bytes
    /// around the cut between reads.
    fn after(self, bytes: &[u8]) -> Head {
        let (tail, len) = match self {
            Head::Whole => return Head::Whole,
            Head::Awaited => ([0; 3], 0),
            Head::Reading { tail, len } => (tail, len),
        };
        let held = &tail[..len as usize];
        // The held bytes and up to three new ones: a blank line cut in two.
        let mut joint = [0u8; 6];
        let first = &bytes[..bytes.len().min(3)];
        joint[..held.len()].copy_from_slice(held);
        joint[held.len()..held.len() + first.len()].copy_from_slice(first);
        let joint = &joint[..held.len() + first.len()];
        if joint.windows(4).any(|w| w == BLANK_LINE)
            || memchr::memmem::find(bytes, BLANK_LINE).is_some()
        {
            return Head::Whole;
        }
        // Keep the last three bytes read, for the next read's cut.
        let mut last = [0u8; 3];
        let keep = joint.len().min(3);
        let source: &[u8] = if bytes.len() >= 3 {
            &bytes[bytes.len() - 3..]
        } else {
            &joint[joint.len() - keep..]
        };
        last[..source.len()].copy_from_slice(source);
        Head::Reading {
            tail: last,
            len: source.len() as u8,
        }
    }
}

impl TimedStream {
    pub fn new(stream: TcpStream, waits: Arc<ReadWaits>, idle: Duration) -> TimedStream {
        let waker = Waker::from(waits.clone());
        TimedStream {
            stream,
            waits,
            waker,
            place: None,
            closing: false,
            idle,
            answered: false,
            idle_timer: None,
            armed: false,
            slot: None,
            head_within: Duration::ZERO,
            head: Head::Awaited,
            head_timer: None,
        }
    }

    /// Holding `slot`, its address's place, until it closes.
    pub fn holding(mut self, slot: Option<ClientSlot>) -> TimedStream {
        self.slot = slot;
        self
    }

    /// Closed when a request head is not whole `limit` after its first
    /// bytes (zero: never): a client that sends part of a head, or trickles
    /// it, does not hold the connection for ever (issue 15, finding 5).
    pub fn head_within(mut self, limit: Duration) -> TimedStream {
        self.head_within = limit;
        self
    }

    /// Track the head through `bytes` just read; true if its deadline has
    /// passed before it was whole (the connection is to close).
    fn head_late(&mut self, bytes: &[u8], cx: &mut Context<'_>) -> bool {
        if self.head_within.is_zero() {
            return false;
        }
        if self.head == Head::Awaited && !bytes.is_empty() {
            let deadline = tokio::time::Instant::now() + self.head_within;
            match &mut self.head_timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.head_timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        self.head = self.head.after(bytes);
        self.head_overdue(cx)
    }

    /// Whether a head being read is past its deadline (registers the
    /// timer with `cx` while it is not).
    fn head_overdue(&mut self, cx: &mut Context<'_>) -> bool {
        if !matches!(self.head, Head::Reading { .. }) {
            return false;
        }
        self.head_timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready())
    }

    /// Counted in service with `place` until it closes.
    pub fn admitted(mut self, place: Place) -> TimedStream {
        self.place = Some(place);
        self
    }

    /// Whether the connection has been idle after an answer for `idle`:
    /// polled while a read waits (registers the timer with `cx`).
    fn idle_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.answered || self.idle.is_zero() {
            return false;
        }
        let deadline = tokio::time::Instant::now() + self.idle;
        let timer = self
            .idle_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.armed {
            timer.as_mut().reset(deadline);
            self.armed = true;
        }
        timer.as_mut().poll(cx).is_ready()
    }
}

impl AsyncRead for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        {
            let mut task = this.waits.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        if this.closing || this.place.as_ref().is_some_and(Place::evicted) {
            this.closing = true;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let mut ours = Context::from_waker(&this.waker);
        let result = Pin::new(&mut this.stream).poll_read(&mut ours, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.answered = false;
            this.armed = false;
            if this.head_late(&buf.filled()[before..], cx) {
                // Its head took too long (trickled): end the connection.
                buf.set_filled(before);
                this.closing = true;
                return Poll::Ready(Ok(()));
            }
            if this.place.as_ref().is_some_and(|p| !p.busy()) {
                // It gave its place up just as this request came: the
                // server sees the connection end between requests and
                // closes it; the client retries on a new connection, as
                // after any keep-alive close.
                buf.set_filled(before);
                this.closing = true;
                return Poll::Ready(Ok(()));
            }
            let woken = this.waits.woken_at.swap(0, Ordering::Relaxed);
            if woken != 0 {
                let wait = this.waits.micros().saturating_sub(woken);
                this.waits.last.store(wait + 1, Ordering::Relaxed);
            }
        } else if result.is_pending() && this.waiting_for_next(cx) {
            // Idle since its last answer: end it as if the client had.
            this.closing = true;
            return Poll::Ready(Ok(()));
        } else if result.is_pending() && this.head_overdue(cx) {
            // Part of a head, and the rest has not come in time.
            this.closing = true;
            return Poll::Ready(Ok(()));
        }
        result
    }
}

impl TimedStream {
    /// After an answer, waiting for the next request: idle for the door
    /// (woken through the read's waker should it give its place up) and
    /// for the idle timeout (registered with `cx`); true once that has
    /// passed. Called when a read waits and when an answer was flushed
    /// (the server may not read again before the next request arrives).
    fn waiting_for_next(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.answered {
            return false;
        }
        if let Some(place) = &self.place {
            place.idle(&self.waker);
        }
        self.idle_too_long(cx)
    }

    fn wrote(&mut self) {
        self.answered = true;
        self.armed = false;
        // The next bytes read begin the next request's head.
        self.head = Head::Awaited;
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.wrote();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        if matches!(result, Poll::Ready(Ok(()))) && this.waiting_for_next(cx) {
            // Wake the read, which ends the connection.
            cx.waker().wake_by_ref();
        }
        result
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_head_ends_at_its_blank_line_however_the_bytes_are_cut() {
        let head = b"GET / HTTP/1.1\r\nhost: a\r\n\r\n";
        for cut in 0..head.len() {
            let state = Head::Awaited.after(&head[..cut]);
            assert_ne!(state, Head::Whole, "cut at {cut}");
            assert_eq!(state.after(&head[cut..]), Head::Whole, "cut at {cut}");
        }
        let byte_by_byte = head.iter().fold(Head::Awaited, |h, b| h.after(&[*b]));
        assert_eq!(byte_by_byte, Head::Whole);
        assert_ne!(Head::Awaited.after(b"GET / HTTP/1.1\r\n\r"), Head::Whole);
        assert_eq!(Head::Whole.after(b"body"), Head::Whole);
    }

    #[test]
    fn a_head_cut_in_three_anywhere_is_whole_exactly_when_its_bytes_hold_a_blank_line() {
        let samples: [&[u8]; 5] = [
            b"GET /api/v1/pass HTTP/1.1\r\nauthorization: Bearer x\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\r\n\nx",
            b"\r\n\r\n",
            b"\r\r\n\n\r\n\r",
            b"GET / HTTP/1.1\r\nhost: a\r\n\rX\n",
        ];
        for bytes in samples {
            let expected = bytes.windows(4).any(|w| w == BLANK_LINE);
            for i in 0..=bytes.len() {
                for j in i..=bytes.len() {
                    let state = Head::Awaited
                        .after(&bytes[..i])
                        .after(&bytes[i..j])
                        .after(&bytes[j..]);
                    assert_eq!(state == Head::Whole, expected, "{bytes:?} cut at {i}, {j}");
                }
            }
        }
    }

    // Two workers: one parks on the I/O driver and stamps the wake-up
    // while the test's thread is busy.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_waits_to_be_read_is_timed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let waits = ReadWaits::new();
        let mut served = TimedStream::new(server, waits.clone(), Duration::ZERO);
        let mut buffer = [0u8; 64];
        // Waiting for the request: the read is pending, then woken.
        let reader = tokio::spawn(async move {
            let n = served.read(&mut buffer).await.unwrap();
            (n, served)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let (n, mut served) = reader.await.unwrap();
        assert_eq!(n, 18);
        let first = waits.take().expect("a wait was measured");
        assert!(first < Duration::from_secs(1), "{first:?}");
        assert_eq!(waits.take(), None, "taken once");
        // A request that arrives while the server is busy elsewhere waits
        // until it is read, and that wait is what is measured.
        let pending = futures_util::FutureExt::now_or_never(served.read(&mut buffer));
        assert!(pending.is_none(), "nothing to read yet");
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        std::thread::sleep(Duration::from_millis(30)); // the server is busy
        let n = served.read(&mut buffer).await.unwrap();
        assert_eq!(n, 18);
        let second = waits.take().expect("a wait was measured");
        assert!(second >= Duration::from_millis(25), "{second:?}");
    }
}
