//! Overload protection over real loopback sockets, bounded in count and
//! time: a burst far above the concurrency limit is answered 503 with
//! Retry-After at once for the excess while every admitted request
//! succeeds; one client over its rate gets 429 and others do not; slow
//! requests time out with 503; large bodies are refused. Nothing panics.

mod public_support;
mod support;

use axum::Router;
use axum::routing::{get, post};
use public_support::http::{Reply, get_request, loopback, send};
use public_support::{PublicCity, token};
use sealpass_issuer::overload::{Limits, protect};
use sealpass_issuer::public::metrics::Metrics;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::Backend;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

fn generous(max_in_flight: usize) -> Limits {
    Limits {
        max_in_flight,
        per_client_burst: 100_000,
        per_client_rate: 100_000.0,
        ..Limits::default()
    }
}

/// The real public API, a burst of 300 pass downloads with room for 2 at
/// a time: every answer is the pass or an immediate "busy, retry".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_far_above_the_limit_is_shed_and_the_admitted_succeed() {
    let city = PublicCity::with(Backend::Sqlite, |s| s.limits = generous(2)).await;
    let expected = city.pass(&token("001")).await.json();
    let addr = serve(city.app.clone()).await;
    let bearer = token("001");
    let started = Instant::now();
    let replies = futures_util::future::join_all((0..300).map(|i| {
        let request = get_request("/api/v1/pass", Some(&bearer));
        tokio::spawn(send(addr, loopback(2 + (i % 200) as u8), request))
    }))
    .await;
    let burst = started.elapsed();
    let mut admitted = 0;
    let mut shed = 0;
    let mut slowest_shed = Duration::ZERO;
    for reply in replies {
        let reply = reply.expect("no client task panicked");
        match reply.status {
            200 => {
                let pass = reply.json();
                assert_eq!(pass["pass"], expected["pass"]);
                admitted += 1;
            }
            503 => {
                let retry: u64 = reply.headers["retry-after"].parse().unwrap();
                assert!((2..=4).contains(&retry), "Retry-After {retry}");
                let body = reply.json();
                assert_eq!(body["error"], "busy");
                assert!(
                    body["message"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("retry in {retry} s"))
                );
                shed += 1;
                slowest_shed = slowest_shed.max(reply.took);
            }
            other => panic!("unexpected status {other}: {}", reply.text()),
        }
    }
    eprintln!(
        "300 requests in {burst:?}: {admitted} admitted, {shed} shed (slowest shed answer {slowest_shed:?})"
    );
    assert!(admitted >= 2, "{admitted}");
    assert!(shed > 0, "a burst of 300 over 2 slots must shed some");
    assert!(burst < Duration::from_secs(30), "{burst:?}");
    let metrics = String::from_utf8(city.get("/metrics", &[]).await.body).unwrap();
    assert!(
        metrics.contains(&format!("sealpass_public_shed_total {shed}\n")),
        "{metrics}"
    );
    // Still serving afterwards.
    let after = send(
        addr,
        loopback(250),
        get_request("/api/v1/pass", Some(&bearer)),
    )
    .await;
    assert_eq!(after.status, 200);
}

/// With slow requests holding every slot, the excess is refused at once
/// and exactly the admitted ones complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_excess_is_answered_at_once_while_the_slots_are_busy() {
    let metrics = Metrics::new();
    let slow = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "done"
        }),
    );
    let addr = serve(protect(slow, &generous(3), metrics.clone())).await;
    let replies = futures_util::future::join_all(
        (0..40).map(|i| tokio::spawn(send(addr, loopback(2 + i), get_request("/slow", None)))),
    )
    .await;
    let replies: Vec<Reply> = replies.into_iter().map(|r| r.unwrap()).collect();
    let done: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let shed: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert_eq!(done.len(), 3, "exactly the slots");
    assert_eq!(shed.len(), 37);
    assert!(
        done.iter()
            .all(|r| r.text() == "done" && r.took >= Duration::from_millis(1500))
    );
    for reply in &shed {
        assert!(
            reply.took < Duration::from_millis(1000),
            "shed in {:?}",
            reply.took
        );
        assert!(reply.headers.contains_key("retry-after"));
    }
    assert!(metrics.render().contains("sealpass_public_shed_total 37"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_over_its_rate_gets_429_and_others_do_not() {
    let city = PublicCity::with(Backend::Sqlite, |s| {
        s.limits.per_client_burst = 5;
        s.limits.per_client_rate = 0.5;
    })
    .await;
    let addr = serve(city.app.clone()).await;
    let bearer = token("001");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let reply = send(
            addr,
            loopback(7),
            get_request("/api/v1/pass", Some(&bearer)),
        )
        .await;
        if reply.status == 429 {
            assert_eq!(reply.headers["retry-after"], "2");
            let body = reply.json();
            assert_eq!(body["error"], "rate_limited");
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    // Another client is unaffected, and so are the operators' probes.
    assert_eq!(
        send(
            addr,
            loopback(8),
            get_request("/api/v1/pass", Some(&bearer))
        )
        .await
        .status,
        200
    );
    assert_eq!(
        send(addr, loopback(7), get_request("/healthz", None))
            .await
            .status,
        200
    );
    let metrics = String::from_utf8(city.get("/metrics", &[]).await.body).unwrap();
    assert!(
        metrics.contains("sealpass_public_rate_limited_total 3"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_and_large_bodies_are_refused() {
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        max_body_bytes: 1024,
        ..generous(8)
    };
    let routes = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/echo",
            post(|body: String| async move { body.len().to_string() }),
        );
    let metrics = Metrics::new();
    let addr = serve(protect(routes, &limits, metrics.clone())).await;
    let slow = send(addr, loopback(2), get_request("/slow", None)).await;
    assert_eq!(slow.status, 503);
    assert!(slow.took < Duration::from_secs(2));
    assert!(slow.text().contains("\"timeout\""));
    let big = "x".repeat(4096);
    let post = |body: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    assert_eq!(send(addr, loopback(2), post(&big)).await.status, 413);
    let small = send(addr, loopback(2), post("hello")).await;
    assert_eq!((small.status, small.text().as_str()), (200, "5"));
    assert!(
        metrics
            .render()
            .contains("sealpass_public_timeouts_total 1")
    );
}
