//! Built-in modules: membership and governance (who may do what), and notary (document
//! anchoring). Application modules live in their own crates and register with the executor.

pub mod membership;
pub mod notary;
