//! The device gateway's network listeners, in front of a node's
//! [`Supervisor`](civic_node::supervision::Supervisor).
//!
//! - [`osmand`]: HTTP, as the Traccar Client app and other OsmAnd-protocol senders speak it
//!   (default port 5055): GET or POST, query or form parameters, or the JSON body of newer
//!   clients. `200` once the position is durably stored; `400` with a reason for an unknown
//!   device or a malformed report; `503` when the gateway is overloaded.
//! - [`watch`]: TCP, the `[MM*ID*LEN*CONTENT]` protocol of wristbands (default port 5093).
//!   Heartbeats and alarms are answered after the report is stored; a malformed frame is logged
//!   and counted and the connection goes on; a frame from an unknown device closes the
//!   connection. When the node's worker falls behind, a connection waits for room before it
//!   reads on (TCP backpressure): positions are slowed down, never dropped.
//!
//! Listeners are bound with a deep accept backlog ([`bind`]), so devices reconnecting together
//! are not pushed into SYN retries.
//!
//! Guarantees: every connection holds bounded buffers (one incomplete frame, one request body of
//! at most 16 KiB), idles out after [`Limits::idle`], and the number of concurrent watch
//! connections is capped by [`Limits::connections`]; nothing a device sends can panic the node.

pub mod osmand;
pub mod watch;

use std::net::SocketAddr;
use std::time::Duration;

/// Pending connections the kernel holds for a listener before it drops handshakes. Devices
/// reconnect together after a network outage or a node restart; the usual default (1024) drops
/// many of them into multi-second SYN retries.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds a device listener with [`LISTEN_BACKLOG`] (the kernel caps it at `somaxconn`).
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Connection limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Concurrent TCP connections (watch).
    pub connections: usize,
    /// A connection with no complete message for this long is closed.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { connections: 20_000, idle: Duration::from_secs(600) }
    }
}
