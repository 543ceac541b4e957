//! Connections per client address, counted from accept to close (issue
//! 15, finding 5): thousands of connections from one address that each
//! sent part of a request head stayed open, each holding memory and a file
//! descriptor, and the per-client rate limit, which counts requests, never
//! saw them (`scripts/slow-clients`; docs/performance.md, "Slow clients"). The door refuses a connection from an address that
//! already holds [`super::Limits::max_connections_per_client`] open ones,
//! by closing it at once (no answer: whoever opens that many at once is
//! not waiting for one).
//!
//! An IPv6 client owns a /64 and is counted as one, as by the rate limit.

use super::rate::bucket_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The open connections of each client address, and the cap.
#[derive(Debug)]
pub struct PerClient {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    /// At most `cap` connections per address (`cap` at least 1).
    pub fn new(cap: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            cap: cap.max(1),
            open: Mutex::default(),
        })
    }

    /// A place for one more connection from `ip`, given back when the slot
    /// is dropped; none while the address holds the cap.
    pub fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let key = bucket_key(ip);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            table: self.clone(),
            key,
        })
    }

    /// Connections open from `ip` now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&bucket_key(ip)).copied().unwrap_or(0)
    }
}

/// One connection's place among its address's, given back on drop.
#[derive(Debug)]
pub struct ClientSlot {
    table: Arc<PerClient>,
    key: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_the_cap_and_gets_places_back() {
        let table = PerClient::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = table.enter(a).unwrap();
        let _second = table.enter(a).unwrap();
        assert!(table.enter(a).is_none());
        assert!(table.enter(b).is_some(), "another address is apart");
        drop(first);
        assert!(table.enter(a).is_some());
        // One IPv6 /64 is one client.
        let x: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let y: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let _x = table.enter(x).unwrap();
        let _y = table.enter(y).unwrap();
        assert!(table.enter("2001:db8:1:2::7".parse().unwrap()).is_none());
        assert_eq!(table.open(x), 2);
    }
}
