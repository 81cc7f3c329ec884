//! The mempool: bounded, deduplicated by hash, one queue per account ordered by nonce.
//!
//! Guarantees: never holds more than `capacity` transactions; never two transactions with the same
//! hash or the same (account, nonce); [`Mempool::take`] yields each account's transactions in
//! nonce order starting exactly at the account's expected nonce, so a block never skips a nonce.
//! Transactions whose nonce is already used are discarded.

use std::collections::{BTreeMap, BTreeSet};

use civic_ledger::SignedTx;
use civic_types::{AccountId, Hash32, Nonce};

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// The mempool is at capacity.
    #[error("the mempool is full ({0} transactions); retry later")]
    Full(usize),
    /// Same hash already pending.
    #[error("transaction {0} is already pending")]
    Duplicate(Hash32),
    /// Another pending transaction uses this nonce.
    #[error("account {account} already has a pending transaction with nonce {nonce}")]
    NonceTaken {
        /// Account.
        account: AccountId,
        /// Nonce.
        nonce: Nonce,
    },
}

/// Pending transactions.
#[derive(Debug)]
pub struct Mempool {
    capacity: usize,
    len: usize,
    hashes: BTreeSet<Hash32>,
    queues: BTreeMap<AccountId, BTreeMap<Nonce, (Hash32, SignedTx)>>,
}

impl Mempool {
    /// An empty mempool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Mempool { capacity, len: 0, hashes: BTreeSet::new(), queues: BTreeMap::new() }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash32) -> bool {
        self.hashes.contains(hash)
    }

    /// Admits a transaction whose signature and state checks the caller has done.
    pub fn insert(&mut self, hash: Hash32, tx: SignedTx) -> Result<(), AdmitError> {
        if self.hashes.contains(&hash) {
            return Err(AdmitError::Duplicate(hash));
        }
        if self.len >= self.capacity {
            return Err(AdmitError::Full(self.capacity));
        }
        let q = self.queues.entry(tx.tx.signer.clone()).or_default();
        if q.contains_key(&tx.tx.nonce) {
            return Err(AdmitError::NonceTaken { account: tx.tx.signer.clone(), nonce: tx.tx.nonce });
        }
        q.insert(tx.tx.nonce, (hash, tx));
        self.hashes.insert(hash);
        self.len += 1;
        Ok(())
    }

    /// Removes and returns up to `max` executable transactions: for each account, the run of
    /// consecutive nonces starting at `expected(account)`. Stale ones are dropped. Accounts take
    /// turns so one busy account cannot starve the others.
    pub fn take(&mut self, max: usize, mut expected: impl FnMut(&AccountId) -> Nonce) -> Vec<SignedTx> {
        let mut runs: Vec<std::vec::IntoIter<SignedTx>> = Vec::new();
        let mut empty = Vec::new();
        let mut budget = max;
        for (account, q) in self.queues.iter_mut() {
            if budget == 0 {
                break;
            }
            let mut next = expected(account);
            // Discard what can never execute.
            while let Some(entry) = q.first_entry() {
                if *entry.key() >= next {
                    break;
                }
                let (h, _) = entry.remove();
                self.hashes.remove(&h);
                self.len -= 1;
            }
            let mut run = Vec::new();
            while budget > 0 {
                let Some(entry) = q.first_entry() else { break };
                if *entry.key() != next {
                    break;
                }
                let (h, tx) = entry.remove();
                self.hashes.remove(&h);
                self.len -= 1;
                run.push(tx);
                budget -= 1;
                match next.checked_next() {
                    Some(n) => next = n,
                    None => break,
                }
            }
            if q.is_empty() {
                empty.push(account.clone());
            }
            if !run.is_empty() {
                runs.push(run.into_iter());
            }
        }
        for a in empty {
            self.queues.remove(&a);
        }
        // Interleave the accounts' runs (round robin), keeping each account's nonce order.
        let mut out = Vec::with_capacity(max - budget);
        loop {
            let mut any = false;
            for r in runs.iter_mut() {
                if let Some(tx) = r.next() {
                    out.push(tx);
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_ledger::{Call, Transaction};
    use civic_types::{ChainId, SecretKey};

    fn tx(key: &SecretKey, account: &str, nonce: u64) -> (Hash32, SignedTx) {
        let t = Transaction {
            chain_id: ChainId::new("test").unwrap(),
            signer: AccountId::new(account).unwrap(),
            nonce: Nonce::new(nonce),
            call: Call { module: "notary".into(), payload: vec![nonce as u8] },
        }
        .sign(key);
        (t.hash(), t)
    }

    #[test]
    fn takes_consecutive_nonces_and_keeps_gaps() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut m = Mempool::new(10);
        for n in [0, 1, 3] {
            let (h, t) = tx(&k, "a/x", n);
            m.insert(h, t).unwrap();
        }
        let got = m.take(10, |_| Nonce::new(0));
        assert_eq!(got.iter().map(|t| t.tx.nonce.get()).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(m.len(), 1, "nonce 3 waits for nonce 2");
        assert!(m.take(10, |_| Nonce::new(2)).is_empty());
        let (h, t) = tx(&k, "a/x", 2);
        m.insert(h, t).unwrap();
        assert_eq!(m.take(10, |_| Nonce::new(2)).len(), 2);
        assert!(m.is_empty());
    }

    #[test]
    fn bounded_and_deduplicated() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut m = Mempool::new(2);
        let (h0, t0) = tx(&k, "a/x", 0);
        m.insert(h0, t0.clone()).unwrap();
        assert_eq!(m.insert(h0, t0), Err(AdmitError::Duplicate(h0)));
        let (h1, t1) = tx(&k, "a/x", 1);
        m.insert(h1, t1).unwrap();
        let (h2, t2) = tx(&k, "a/x", 2);
        assert_eq!(m.insert(h2, t2), Err(AdmitError::Full(2)));
    }

    #[test]
    fn stale_nonces_are_dropped_and_accounts_interleave() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut m = Mempool::new(10);
        for (a, n) in [("a/x", 0), ("a/x", 1), ("a/x", 2), ("a/y", 5), ("a/y", 6)] {
            let (h, t) = tx(&k, a, n);
            m.insert(h, t).unwrap();
        }
        let got = m.take(10, |a| Nonce::new(if a.as_str() == "a/x" { 1 } else { 5 }));
        let seq: Vec<(String, u64)> =
            got.iter().map(|t| (t.tx.signer.to_string(), t.tx.nonce.get())).collect();
        assert_eq!(seq, vec![("a/x".into(), 1), ("a/y".into(), 5), ("a/x".into(), 2), ("a/y".into(), 6)]);
        assert!(m.is_empty());
    }
}
