//! The seam between a consensus engine and the ledger application, shaped after commonware's
//! simplex interfaces so the multi-validator engine plugs in without rewriting the node:
//!
//! - [`Automaton`]: `propose` a block on the latest finalized one, `verify` someone else's
//!   proposal (commonware `Automaton::propose` / `verify`);
//! - [`Reporter`]: a block was finalized with a certificate (commonware `Reporter`), split in
//!   two stages so that making block N durable overlaps building block N+1.
//!
//! [`SingleValidator`] is the engine for a one-validator network (`civic dev`): it proposes when
//! the application has work or the interval elapses, finalizes with its own signature (a quorum
//! of one) and reports. It guarantees a block is reported at most once per height, in height
//! order, that it never proposes on anything but the last finalized block, and that at most one
//! finalized block is waiting to be persisted: `persist` of block N completes before
//! `finalized` of block N+1 is called.

#![allow(clippy::disallowed_methods)] // the engine is the shell: it owns the clock and the thread

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use civic_ledger::{Block, Certificate};
use civic_types::SecretKey;

/// Why the application could not take part in a round. Fatal errors stop the engine.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Storage or execution failed; the node must stop rather than diverge.
    #[error("fatal: {0}")]
    Fatal(String),
}

/// The application as consensus sees it.
///
/// Implementers guarantee: `propose` returns a block whose parent is the last block passed to
/// [`Reporter::finalized`] (or genesis); `verify` is a pure function of the block and finalized
/// state; neither has side effects visible to clients until `finalized`.
pub trait Automaton: Send + Sync + 'static {
    /// Builds the next block (without certificate), or `None` when there is nothing to do.
    /// `force` asks for a block even when empty (heartbeat).
    fn propose(&self, force: bool) -> Result<Option<Block>, AppError>;
    /// Checks a block proposed by another validator on the last finalized block.
    fn verify(&self, block: &Block) -> Result<bool, AppError>;
    /// Blocks until there may be something to propose or `timeout` passes.
    fn wait_for_work(&self, timeout: Duration);
}

/// Receives finalized blocks.
///
/// Implementers guarantee: after `finalized` returns, the next `propose` builds on the block;
/// when `persist` returns `Ok`, the block is durable and only then are its transactions
/// acknowledged to clients; a block is never applied twice.
pub trait Reporter: Send + Sync + 'static {
    /// The block is final: check its certificate and make its state the base of the next
    /// proposal. Fast; called in height order.
    fn finalized(&self, block: Block) -> Result<(), AppError>;
    /// Makes the last finalized block durable and acknowledges its transactions. Slow; may run
    /// while the next block is proposed.
    fn persist(&self) -> Result<(), AppError>;
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Longest time between blocks when there are no transactions (0 = no empty blocks).
    pub empty_block_interval: Duration,
    /// Shortest time between blocks, letting transactions accumulate into a batch.
    pub min_block_interval: Duration,
}

/// The one-validator engine.
pub struct SingleValidator<A> {
    app: Arc<A>,
    key: SecretKey,
    config: Config,
    stop: Arc<AtomicBool>,
}

impl<A: Automaton + Reporter> SingleValidator<A> {
    /// An engine driving `app` with the validator key `key`.
    pub fn new(app: Arc<A>, key: SecretKey, config: Config, stop: Arc<AtomicBool>) -> Self {
        SingleValidator { app, key, config, stop }
    }

    /// Runs until `stop` is set or the application reports a fatal error. On return every
    /// finalized block has been persisted.
    pub fn run(self) -> Result<(), AppError> {
        std::thread::scope(|scope| {
            let mut persisting: Option<std::thread::ScopedJoinHandle<'_, Result<(), AppError>>> = None;
            let result = self.produce(scope, &mut persisting);
            let flushed = match persisting.take() {
                Some(h) => {
                    h.join().unwrap_or_else(|_| Err(AppError::Fatal("persisting thread panicked".into())))
                }
                None => Ok(()),
            };
            result.and(flushed)
        })
    }

    fn produce<'s>(
        &'s self,
        scope: &'s std::thread::Scope<'s, '_>,
        persisting: &mut Option<std::thread::ScopedJoinHandle<'s, Result<(), AppError>>>,
    ) -> Result<(), AppError> {
        let mut last_block = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let since = last_block.elapsed();
            if since < self.config.min_block_interval {
                std::thread::sleep(self.config.min_block_interval - since);
            }
            let force = !self.config.empty_block_interval.is_zero()
                && last_block.elapsed() >= self.config.empty_block_interval;
            match self.app.propose(force)? {
                Some(mut block) => {
                    // A quorum of one: our own signature finalizes the block.
                    block.certificate = Certificate::single(&block.header, &self.key);
                    // The previous block must be durable before the next is handed over.
                    if let Some(h) = persisting.take() {
                        h.join()
                            .unwrap_or_else(|_| Err(AppError::Fatal("persisting thread panicked".into())))?;
                    }
                    self.app.finalized(block)?;
                    let app = &self.app;
                    *persisting = Some(scope.spawn(move || app.persist()));
                    last_block = Instant::now();
                }
                None => {
                    // Surface a failed persist while idle instead of at the next block.
                    if persisting.as_ref().is_some_and(|h| h.is_finished())
                        && let Some(h) = persisting.take()
                    {
                        h.join()
                            .unwrap_or_else(|_| Err(AppError::Fatal("persisting thread panicked".into())))?;
                    }
                    let wait = if self.config.empty_block_interval.is_zero() {
                        Duration::from_millis(200)
                    } else {
                        self.config.empty_block_interval.saturating_sub(last_block.elapsed())
                    };
                    self.app.wait_for_work(wait.max(Duration::from_millis(1)));
                }
            }
        }
        tracing::info!("block production stopped");
        Ok(())
    }
}
