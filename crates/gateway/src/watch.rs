//! The watch-protocol TCP listener.

use std::sync::Arc;

use civic_devices::watch::{self, FrameReader};
use civic_node::supervision::{IngestError, Supervisor};
use civic_supervision::module::Protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::Limits;

/// Accepts connections until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    supervisor: Arc<Supervisor>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "watch listener: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "watch listener: connection limit reached, refusing");
            drop(stream);
            continue;
        };
        let sup = supervisor.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, &sup, limits).await {
                tracing::debug!(%peer, error = %e, "watch connection ended");
            }
            drop(permit);
        });
    }
}

/// Why a connection was closed.
#[derive(Debug)]
enum Closed {
    Io(std::io::Error),
    Idle,
    Refused(IngestError),
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Closed::Io(e) => write!(f, "{e}"),
            Closed::Idle => f.write_str("idle timeout"),
            Closed::Refused(e) => write!(f, "refused: {e}"),
        }
    }
}

async fn connection(mut stream: TcpStream, sup: &Supervisor, limits: Limits) -> Result<(), Closed> {
    let _ = stream.set_nodelay(true);
    let mut reader = FrameReader::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match tokio::time::timeout(limits.idle, stream.read(&mut buf)).await {
            Err(_) => return Err(Closed::Idle),
            Ok(Err(e)) => return Err(Closed::Io(e)),
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(n)) => n,
        };
        reader.push(&buf[..n]);
        // Queue every report of this read first, so they share one durable write.
        let mut waiting = Vec::new();
        while let Some(frame) = reader.next_frame() {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    sup.malformed();
                    tracing::debug!(error = %e, "malformed watch frame");
                    continue;
                }
            };
            let reply = watch::reply(&frame);
            match watch::decode(&frame) {
                // Waits for room when the worker is behind: this connection stops reading and
                // TCP slows the device down; no position is dropped for overload.
                Ok(Some(report)) => match sup.enqueue_waiting(report, Protocol::Watch).await {
                    Ok(stored) => waiting.push((Some(stored), reply)),
                    Err(e @ (IngestError::UnknownDevice(_) | IngestError::WrongProtocol { .. })) => {
                        tracing::info!(device = %frame.device, error = %e, "watch frame from a device this network does not know; closing");
                        return Err(Closed::Refused(e));
                    }
                    Err(e) => {
                        tracing::debug!(device = %frame.device, error = %e, "watch report refused");
                    }
                },
                Ok(None) => waiting.push((None, reply)),
                Err(e) => {
                    sup.malformed();
                    tracing::debug!(device = %frame.device, error = %e, "undecodable watch frame");
                }
            }
        }
        let mut out = Vec::new();
        for (stored, reply) in waiting {
            let ok = match stored {
                Some(s) => s.await.is_ok(),
                None => true,
            };
            if let (true, Some(r)) = (ok, reply) {
                out.extend_from_slice(&r);
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await.map_err(Closed::Io)?;
        }
    }
}
