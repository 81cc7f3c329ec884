//! The seam between a consensus engine and the ledger application, shaped after commonware's
//! simplex interfaces so the multi-validator engine plugs in without rewriting the node:
//!
//! - [`Automaton`]: `propose` a block on the latest finalized one, `verify` someone else's
//!   proposal (commonware `Automaton::propose` / `verify`);
//! - [`Reporter`]: a block was finalized with a certificate (commonware `Reporter`).
//!
//! [`SingleValidator`] is the engine for a one-validator network (`civic dev`): it proposes when
//! the application has work or the interval elapses, finalizes with its own signature (a quorum
//! of one) and reports. It guarantees a block is reported at most once per height, in height
//! order, and that it never proposes on anything but the last finalized block.

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
/// Implementers guarantee: when `finalized` returns `Ok`, the block is durable; a block is never
/// applied twice.
pub trait Reporter: Send + Sync + 'static {
    /// The block is final; persist and apply it.
    fn finalized(&self, block: Block) -> Result<(), AppError>;
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

    /// Runs until `stop` is set or the application reports a fatal error.
    pub fn run(self) -> Result<(), AppError> {
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
                    self.app.finalized(block)?;
                    last_block = Instant::now();
                }
                None => {
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
