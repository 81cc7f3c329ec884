//! The runtime: the state machine with every application module registered. Every place that
//! builds an executor (the node, tools, the CLI encoding calls) goes through here, so all of them
//! agree on the set of modules.

use civic_ledger::Executor;
use civic_types::ChainId;

/// The executor of `chain_id` with the built-in and application modules.
pub fn executor(chain_id: ChainId) -> Executor {
    let mut e = Executor::new(chain_id.clone());
    e.register(Box::new(civic_identity::Identity::new(chain_id)));
    e.register(Box::new(civic_licenses::Licenses));
    e.register(Box::new(civic_supervision::module::Supervision));
    e
}
