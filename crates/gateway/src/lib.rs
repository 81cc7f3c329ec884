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
//!   connection.
//!
//! Guarantees: every connection holds bounded buffers (one incomplete frame, one request body of
//! at most 16 KiB), idles out after [`Limits::idle`], and the number of concurrent watch
//! connections is capped by [`Limits::connections`]; nothing a device sends can panic the node.

pub mod osmand;
pub mod watch;

use std::time::Duration;

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
