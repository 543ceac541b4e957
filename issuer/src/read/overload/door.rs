//! The door: connections are accepted by a thread of their own, so that a
//! saturated server still takes every connection at once and can say
//! "busy" at once.
//!
//! Measured on the rush (docs/performance.md): when the async runtime is
//! saturated, its accept loop runs late, the kernel's listen backlog
//! overflows, and the kernel drops new connections' SYNs; phones retry
//! the handshake after 1 s, then 3 s: seconds of silence before any
//! application code runs. So a dedicated thread with its own small runtime
//! accepts, waits for each connection's first bytes, and stamps it with
//! that moment (its first request measures its wait from it:
//! [`super::QueueDelay`]; a browser's connection opened ahead of need
//! waits at the door, not in the server's queue). While the
//! connections in service are at their cap ([`super::InService`]) or the
//! hand-over queue to the serving runtime is full, the door answers the
//! connection itself with `503 busy` and a `Retry-After` (after reading
//! the request, so the answer is not lost to a reset) and closes it;
//! otherwise it hands the connection over with its place in service.
//! Refusals at the door count as shed requests. (It used to stay closed
//! for a while after each request shed for queue delay too; with a share
//! of the late requests refused instead, that closed the door to every
//! phone on a fresh connection, and the rush was served several times
//! slower: "Public API under overload" in the git history of docs/performance.md.)

use super::connections::{Admission, Place};
use super::per_client::{ClientSlot, PerClient};
use super::waits::{ReadWaits, TimedStream};
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Connections accepted but not yet taken by the serving runtime.
const HANDOVER: usize = 1024;
/// Connections the kernel may hold before the door accepts them (capped
/// by `net.core.somaxconn`).
const BACKLOG: u32 = 4096;

/// Listen on `addr` with a long backlog, so that a burst of phones
/// connecting at once is not dropped by the kernel before the door sees it
/// (the usual 1,024 overflowed in the rush measurement).
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}
/// How long a refused connection may take to send its request.
const READ_REQUEST: Duration = Duration::from_millis(500);

/// How the door treats connections before and while they are served.
#[derive(Debug, Clone)]
pub struct DoorLimits {
    /// A kept-alive connection idle this long after an answer is closed
    /// (zero: never).
    pub idle: Duration,
    /// A new connection silent this long is closed.
    pub first_request: Duration,
    /// A request head not whole this long after its first bytes closes
    /// the connection (zero: never).
    pub header_read: Duration,
    /// Connections open at once per client address (0: no cap).
    pub per_client: usize,
}

impl DoorLimits {
    /// Kept-alive connections closed after `idle`, the other limits at
    /// their defaults but no cap per address.
    pub fn idle(idle: Duration) -> DoorLimits {
        let defaults = super::Limits::default();
        DoorLimits {
            idle,
            first_request: defaults.first_request_timeout,
            header_read: defaults.header_read_timeout,
            per_client: 0,
        }
    }
}

/// A connection as the door accepted it.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub addr: SocketAddr,
    pub at: Instant,
    /// How long its later requests waited to be read.
    pub waits: Arc<ReadWaits>,
}

/// What the router learns of a connection (`ConnectInfo<ClientAddr>`): the
/// client's address, when the door accepted it, and whether its first
/// request is still to come.
#[derive(Debug, Clone)]
pub struct ClientAddr {
    pub addr: SocketAddr,
    pub accepted: Instant,
    pub first_request: Arc<AtomicBool>,
    /// How long its requests after the first waited to be read.
    pub waits: Arc<ReadWaits>,
}

impl Connected<IncomingStream<'_, Door>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, Door>) -> Self {
        let accepted = stream.remote_addr();
        ClientAddr {
            addr: accepted.addr,
            accepted: accepted.at,
            first_request: Arc::new(AtomicBool::new(true)),
            waits: accepted.waits.clone(),
        }
    }
}

/// A connection handed to the serving runtime, with its place in service.
struct Handed {
    stream: std::net::TcpStream,
    accepted: Accepted,
    place: Place,
    slot: Option<ClientSlot>,
}

/// The serving side of the door: an axum [`Listener`].
pub struct Door {
    handed: mpsc::Receiver<Handed>,
    local: SocketAddr,
    idle: Duration,
    header_read: Duration,
}

impl Door {
    /// Open the door on `listener`: `admission` holds the places in
    /// service (`max_connections`) and the refusals (their jittered
    /// `Retry-After`); a kept-alive connection idle for `idle` after an
    /// answer is closed (zero: never).
    pub fn open(
        listener: tokio::net::TcpListener,
        admission: Arc<Admission>,
        idle: Duration,
    ) -> std::io::Result<Door> {
        Door::open_with(listener, admission, DoorLimits::idle(idle))
    }

    /// Open the door with all its limits: as [`Door::open`], and a new
    /// connection silent for `first_request` is closed, a request head not
    /// whole `header_read` after its first bytes closes its connection,
    /// and an address holding `per_client` connections has the next one
    /// closed at once.
    pub fn open_with(
        listener: tokio::net::TcpListener,
        admission: Arc<Admission>,
        limits: DoorLimits,
    ) -> std::io::Result<Door> {
        let local = listener.local_addr()?;
        let listener = listener.into_std()?;
        let (handover, handed) = mpsc::channel(HANDOVER);
        let gate = Arc::new(Gate {
            handover,
            admission,
            per_client: (limits.per_client > 0).then(|| PerClient::new(limits.per_client)),
            first_request: limits.first_request,
        });
        std::thread::Builder::new()
            .name("sealpass-door".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        tracing::error!(error = %e, "the door cannot start");
                        return;
                    }
                };
                runtime.block_on(door(listener, gate));
            })?;
        Ok(Door {
            handed,
            local,
            idle: limits.idle,
            header_read: limits.header_read,
        })
    }
}

async fn door(listener: std::net::TcpListener, gate: Arc<Gate>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "the door cannot listen");
            return;
        }
    };
    loop {
        // The server stopped accepting (a graceful shutdown dropped the
        // Door): close the listening socket at once, so that new
        // connections are refused and a load balancer sends them elsewhere,
        // instead of being taken into the kernel's backlog and dropped.
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = gate.handover.closed() => return,
        };
        let (stream, addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if gate.handover.is_closed() {
            return;
        }
        let slot = match &gate.per_client {
            None => None,
            Some(table) => match table.enter(addr.ip()) {
                Some(slot) => Some(slot),
                None => {
                    // Over the address's cap: closed at once, unread.
                    gate.admission.metrics.refused_per_client();
                    drop(stream);
                    continue;
                }
            },
        };
        tokio::spawn(gate.clone().admit(stream, addr, slot));
    }
}

/// What the door decides with.
struct Gate {
    handover: mpsc::Sender<Handed>,
    admission: Arc<Admission>,
    /// Connections per client address (none: no cap).
    per_client: Option<Arc<PerClient>>,
    /// How long a new connection may stay silent before it is closed.
    first_request: Duration,
}

impl Gate {
    /// Wait for the connection's first bytes (browsers open connections
    /// ahead of need: their wait is not ours), then hand it over, stamped
    /// with that moment, or refuse it.
    async fn admit(self: Arc<Self>, stream: TcpStream, addr: SocketAddr, slot: Option<ClientSlot>) {
        // Peek, not `readable()`: tokio reports a newly registered socket
        // readable at once, so a silent connection was handed over at once
        // and then held by the server for ever (issue 15, finding 5).
        let mut first = [0u8; 1];
        match tokio::time::timeout(self.first_request, stream.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => {}
            // Silent too long, closed by the client, or failed: close.
            _ => return,
        }
        let Some(place) = self.admission.in_service.enter() else {
            self.admission.metrics.shed_at_cap();
            self.refuse(stream).await;
            return;
        };
        let _ = stream.set_nodelay(true);
        let Ok(std_stream) = stream.into_std() else {
            return;
        };
        let handed = Handed {
            stream: std_stream,
            accepted: Accepted {
                addr,
                at: Instant::now(),
                waits: ReadWaits::new(),
            },
            place,
            slot,
        };
        if let Err(mpsc::error::TrySendError::Full(handed)) = self.handover.try_send(handed) {
            drop(handed.place);
            if let Ok(stream) = TcpStream::from_std(handed.stream) {
                self.admission.metrics.shed_for_delay();
                self.refuse(stream).await;
            }
        }
    }

    async fn refuse(&self, stream: TcpStream) {
        refuse(stream, self.admission.busy_answer()).await;
    }
}

/// Read the request head (briefly), answer busy, close gently.
async fn refuse(mut stream: TcpStream, answer: &[u8]) {
    let mut buffer = [0u8; 4096];
    let mut seen = 0usize;
    let _ = tokio::time::timeout(READ_REQUEST, async {
        loop {
            match stream.read(&mut buffer[seen.min(4092)..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen = (seen + n).min(4096);
                    if buffer[..seen].windows(4).any(|w| w == b"\r\n\r\n") || seen >= 4092 {
                        break;
                    }
                }
            }
        }
    })
    .await;
    if stream.write_all(answer).await.is_ok() {
        let _ = stream.shutdown().await;
        // Let the client read the answer before the socket closes.
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while let Ok(n) = stream.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}

impl Listener for Door {
    type Io = TimedStream;
    type Addr = Accepted;

    async fn accept(&mut self) -> (TimedStream, Accepted) {
        loop {
            let Some(handed) = self.handed.recv().await else {
                // The door thread ended: accept nothing more.
                std::future::pending::<()>().await;
                unreachable!()
            };
            if let Ok(stream) = TcpStream::from_std(handed.stream) {
                let addr = handed.accepted;
                let stream = TimedStream::new(stream, addr.waits.clone(), self.idle)
                    .admitted(handed.place)
                    .holding(handed.slot)
                    .head_within(self.header_read);
                return (stream, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Accepted> {
        Ok(Accepted {
            addr: self.local,
            at: Instant::now(),
            waits: ReadWaits::new(),
        })
    }
}
