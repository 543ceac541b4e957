//! One HTTP/1.1 exchange on a keep-alive connection, read just enough to
//! classify the answer.

use crate::{BUSY, ERROR, NOT_MODIFIED, OK, OTHER, RATE_LIMITED};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// What an exchange ended with.
enum Outcome {
    Answered {
        status: u16,
        close: bool,
        /// The answer's `Retry-After`, in whole seconds.
        retry_after: Option<u64>,
    },
    /// The connection failed; `reused`: it had carried a request before
    /// and nothing of this answer arrived (the server closed it while
    /// idle), so the request may be sent again on a new one.
    Failed { reused: bool },
}

async fn exchange(connection: &mut Connection, request: &[u8], reused: bool) -> Outcome {
    let failed = Outcome::Failed { reused };
    if connection.stream.write_all(request).await.is_err() {
        return failed;
    }
    let buffer = &mut connection.buffer;
    buffer.clear();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > 64 * 1024 {
            return Outcome::Failed { reused: false };
        }
        match connection.stream.read_buf(buffer).await {
            Ok(0) | Err(_) if buffer.is_empty() => return failed,
            Ok(0) | Err(_) => return Outcome::Failed { reused: false },
            Ok(_) => {}
        }
    };
    let head = &buffer[..head_end];
    let status: u16 = std::str::from_utf8(head.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = None;
    let mut close = false;
    let mut retry_after = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line).to_ascii_lowercase();
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if let Some(v) = line.strip_prefix("connection:") {
            close = v.trim() == "close";
        } else if let Some(v) = line.strip_prefix("retry-after:") {
            retry_after = v.trim().parse::<u64>().ok();
        }
    }
    let length = match length {
        Some(length) => length,
        None if status == 304 || status == 204 => 0,
        None => {
            // Delimited by the end of the connection.
            let _ = connection.stream.read_to_end(buffer).await;
            return Outcome::Answered {
                status,
                close: true,
                retry_after,
            };
        }
    };
    while buffer.len() < head_end + length {
        match connection.stream.read_buf(buffer).await {
            Ok(0) | Err(_) => return Outcome::Failed { reused: false },
            Ok(_) => {}
        }
    }
    Outcome::Answered {
        status,
        close,
        retry_after,
    }
}

async fn connect(addr: SocketAddr) -> Option<Connection> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    Some(Connection {
        stream,
        buffer: Vec::with_capacity(4096),
    })
}

/// What one request came to: its class, and the `Retry-After` of a
/// refusal (503 or 429).
pub struct Sent {
    pub class: usize,
    pub retry_after: Option<Duration>,
}

impl From<usize> for Sent {
    fn from(class: usize) -> Sent {
        Sent {
            class,
            retry_after: None,
        }
    }
}

/// One request on `slot`'s connection (opened if needed).
pub async fn send(slot: &mut Option<Connection>, addr: SocketAddr, request: &[u8]) -> Sent {
    for _attempt in 0..2 {
        let reused = slot.is_some();
        if slot.is_none() {
            *slot = connect(addr).await;
        }
        let Some(connection) = slot.as_mut() else {
            return ERROR.into();
        };
        match exchange(connection, request, reused).await {
            Outcome::Answered {
                status,
                close,
                retry_after,
            } => {
                if close {
                    *slot = None;
                }
                let class = match status {
                    200 => OK,
                    304 => NOT_MODIFIED,
                    429 => RATE_LIMITED,
                    503 => BUSY,
                    _ => OTHER,
                };
                let refused = class == RATE_LIMITED || class == BUSY;
                return Sent {
                    class,
                    retry_after: retry_after.filter(|_| refused).map(Duration::from_secs),
                };
            }
            Outcome::Failed { reused } => {
                *slot = None;
                if !reused {
                    return ERROR.into();
                }
            }
        }
    }
    ERROR.into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A server that answers every request on a connection with `answer`.
    pub(crate) async fn answering(answer: &'static str) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buffer).await {
                        if n == 0 || stream.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_refusal_carries_its_retry_after_and_a_pass_does_not() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let busy = answering(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 3\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
        )
        .await;
        let mut slot = None;
        let sent = send(&mut slot, busy, request).await;
        assert_eq!(sent.class, BUSY);
        assert_eq!(sent.retry_after, Some(Duration::from_secs(3)));
        assert!(slot.is_none(), "closed as the server said");
        let served =
            answering("HTTP/1.1 200 OK\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\npass").await;
        let sent = send(&mut slot, served, request).await;
        assert_eq!(sent.class, OK);
        assert_eq!(sent.retry_after, None, "only a refusal is waited out");
        assert!(slot.is_some(), "kept alive");
        let sent = send(&mut slot, served, request).await;
        assert_eq!(sent.class, OK, "and used again");
    }
}
