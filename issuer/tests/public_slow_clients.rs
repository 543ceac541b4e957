//! Slow clients (issue 15, finding 5), over real sockets: the real public
//! app behind its door on 127.0.0.1, served as `public` serves it, and raw
//! TCP connections that send part of a request head, or nothing, or too
//! many from one address. The server closes each within its timeout and
//! keeps serving passes meanwhile.

mod public_support;
mod support;

use public_support::*;
use sealpass_issuer::read::overload::ClientAddr;
use sealpass_issuer::read::public::{PublicState, app};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serve `state` as `public` does: the door, then the app.
async fn serve(state: PublicState) -> SocketAddr {
    let listener =
        sealpass_issuer::read::overload::door::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let door = state.open_door(listener).unwrap();
    let addr = axum::serve::Listener::local_addr(&door).unwrap().addr;
    let service = app(state).into_make_service_with_connect_info::<ClientAddr>();
    tokio::spawn(async move { axum::serve(door, service).await.unwrap() });
    addr
}

/// Wait until the server closes `stream` (EOF or reset); how long it took,
/// or `None` if it was still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut buffer),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// A pass downloaded over a fresh connection: its status code.
async fn pass_status(addr: SocketAddr) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/pass HTTP/1.1\r\nhost: sealpass\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        token("001")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_closed_within_the_header_timeout() {
    let harness = PublicHarness::with(Backend::Sqlite, |s| {
        s.limits.header_read_timeout = Duration::from_millis(800);
        s.limits.max_connections_per_client = 0;
    })
    .await;
    let addr = serve(harness.state.clone()).await;
    let mut partial = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /api/v1/pass HTTP/1.1\r\nhost: sealpass\r\nx-slow: ")
            .await
            .unwrap();
        partial.push(stream);
    }
    // One that trickles a byte every 200 ms, never finishing its head.
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    trickle.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let trickler = tokio::spawn(async move {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if trickle.write_all(b"x").await.is_err() {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    });
    // Passes are served meanwhile.
    assert_eq!(pass_status(addr).await, 200);
    for stream in &mut partial {
        let closed = closed_within(stream, Duration::from_secs(4)).await;
        assert!(
            closed.is_some(),
            "a partial head was still open after 4 s (timeout 0.8 s)"
        );
    }
    let trickled = trickler.await.unwrap();
    assert!(
        trickled.is_some_and(|t| t < Duration::from_secs(4)),
        "a trickled head was not closed: {trickled:?}"
    );
    assert_eq!(pass_status(addr).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_within_the_first_request_timeout() {
    let harness = PublicHarness::with(Backend::Sqlite, |s| {
        s.limits.first_request_timeout = Duration::from_millis(800);
        s.limits.max_connections_per_client = 0;
    })
    .await;
    let addr = serve(harness.state.clone()).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    assert_eq!(pass_status(addr).await, 200);
    for stream in &mut silent {
        let closed = closed_within(stream, Duration::from_secs(4)).await;
        assert!(
            closed.is_some(),
            "a silent connection was still open after 4 s (timeout 0.8 s)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_may_hold_only_so_many_connections() {
    let harness = PublicHarness::with(Backend::Sqlite, |s| {
        s.limits.max_connections_per_client = 8;
    })
    .await;
    let addr = serve(harness.state.clone()).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: s")
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The ninth from the same address is closed at once.
    let mut ninth = TcpStream::connect(addr).await.unwrap();
    let closed = closed_within(&mut ninth, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "a ninth connection was kept open");
    assert_eq!(pass_status(addr).await, 0, "no place for a pass either");
    // Once they close, the address gets its places back.
    drop(held);
    let mut status = 0;
    for _ in 0..50 {
        status = pass_status(addr).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);

    // Behind a trusted proxy the cap is off: every connection is the
    // proxy's.
    let proxied = PublicHarness::with(Backend::Sqlite, |s| {
        s.limits.max_connections_per_client = 8;
        s.limits.client_ip_header = Some("x-forwarded-for".into());
    })
    .await;
    let addr = serve(proxied.state.clone()).await;
    let mut held = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: s")
            .await
            .unwrap();
        held.push(stream);
    }
    assert_eq!(pass_status(addr).await, 200);
}
