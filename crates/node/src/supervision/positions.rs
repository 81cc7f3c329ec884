//! The off-chain position time series in the node's private store, and its batches.
//!
//! Layout (private keys, never part of a block):
//! - `sv/i/<seq:u64 BE>` → the [`Position`]'s canonical bytes (the Merkle leaf);
//! - `sv/d/<device>/<fix time:u64 BE><seq:u64 BE>` → empty: the per-device time index;
//! - `sv/b/<batch:u64 BE>` → [`Batch`]: a closed batch, the sequence range it covers and its
//!   root;
//! - `sv/next` → [`Cursor`]: the next sequence number and batch number.
//!
//! Guarantees: a group of positions is written in one atomic, durable `private_put` together
//! with the cursor, so after a crash every acknowledged position is present and sequence numbers
//! are never reused; a batch is a contiguous sequence range, so its leaves can always be
//! re-read from `sv/i/` to rebuild proofs; retention deletes whole positions (both keys) in
//! sequence order and batches that only held expired positions.

use civic_store::{Store, StoreError};
use civic_supervision::position::Position;
use civic_types::{AccountId, Hash32, UnixMillis};
use serde::{Deserialize, Serialize};

const POS: &[u8] = b"sv/i/";
const DEV: &[u8] = b"sv/d/";
const BATCH: &[u8] = b"sv/b/";
const CURSOR: &[u8] = b"sv/next";
/// Page size of range reads.
const PAGE: usize = 4096;

/// Where the series stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Sequence number of the next position.
    pub next_seq: u64,
    /// Number of the next batch; the open batch starts after the last closed one.
    pub next_batch: u64,
    /// First sequence number of the open batch.
    pub batch_start: u64,
}

/// A closed batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Batch number.
    pub batch: u64,
    /// First sequence number.
    pub first_seq: u64,
    /// Number of positions.
    pub count: u64,
    /// RFC 6962 root of their leaves.
    pub root: Hash32,
    /// Earliest receive time.
    pub from: UnixMillis,
    /// Latest receive time.
    pub to: UnixMillis,
    /// The gateway account that anchors it (none when the node held no usable gateway key).
    pub gateway: Option<AccountId>,
}

fn pos_key(seq: u64) -> Vec<u8> {
    [POS, &seq.to_be_bytes()].concat()
}

fn dev_prefix(device: &str) -> Vec<u8> {
    [DEV, device.as_bytes(), b"/"].concat()
}

fn dev_key(device: &str, fix_ms: u64, seq: u64) -> Vec<u8> {
    [dev_prefix(device).as_slice(), &fix_ms.to_be_bytes(), &seq.to_be_bytes()].concat()
}

fn batch_key(batch: u64) -> Vec<u8> {
    [BATCH, &batch.to_be_bytes()].concat()
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("supervision position store: {what}"))
}

fn be_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

/// The position series of one node.
pub struct Positions<'s> {
    store: &'s dyn Store,
}

impl<'s> Positions<'s> {
    /// Over a store.
    pub fn new(store: &'s dyn Store) -> Self {
        Positions { store }
    }

    /// The cursor (default on an empty store).
    pub fn cursor(&self) -> Result<Cursor, StoreError> {
        match self.store.private_get(CURSOR)? {
            None => Ok(Cursor::default()),
            Some(b) => civic_types::decode(&b, 1024).map_err(|_| corrupt("cursor")),
        }
    }

    /// Durably appends positions (whose `seq`s must continue the cursor), each with its
    /// canonical bytes ([`Position::to_bytes`], already computed for its leaf hash), and the
    /// new cursor, in one write.
    pub fn append(&self, positions: Vec<(Position, Vec<u8>)>, cursor: &Cursor) -> Result<(), StoreError> {
        let mut entries = Vec::with_capacity(positions.len() * 2 + 1);
        for (p, bytes) in positions {
            debug_assert_eq!(bytes, p.to_bytes());
            entries.push((dev_key(&p.device, p.fix_time.get(), p.seq), Some(Vec::new())));
            entries.push((pos_key(p.seq), Some(bytes)));
        }
        entries.push((CURSOR.to_vec(), Some(civic_types::encode(cursor))));
        self.store.private_put(entries)
    }

    /// Durably records a closed batch and the cursor that opens the next one.
    pub fn close_batch(&self, batch: &Batch, cursor: &Cursor) -> Result<(), StoreError> {
        self.store.private_put(vec![
            (batch_key(batch.batch), Some(civic_types::encode(batch))),
            (CURSOR.to_vec(), Some(civic_types::encode(cursor))),
        ])
    }

    /// A position by sequence number.
    pub fn get(&self, seq: u64) -> Result<Option<Position>, StoreError> {
        match self.store.private_get(&pos_key(seq))? {
            None => Ok(None),
            Some(b) => Position::from_bytes(&b).map(Some).map_err(|_| corrupt("position")),
        }
    }

    /// The positions with sequence numbers `first .. first + count`, in order (fewer if some
    /// were deleted by retention).
    pub fn range(&self, first: u64, count: u64) -> Result<Vec<Position>, StoreError> {
        let end = first.saturating_add(count);
        let mut out = Vec::new();
        let mut after = first.checked_sub(1).map(pos_key);
        while (out.len() as u64) < count {
            let page = self.store.private_range(POS, after.as_deref(), PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (k, v) in &page {
                let seq = be_u64(&k[POS.len()..]).ok_or_else(|| corrupt("position key"))?;
                if seq >= end {
                    return Ok(out);
                }
                out.push(Position::from_bytes(v).map_err(|_| corrupt("position"))?);
            }
            if page.len() < PAGE {
                break;
            }
        }
        Ok(out)
    }

    /// Up to `limit` positions of `device` with fix time in `[from, to)`, oldest first.
    pub fn by_device(
        &self,
        device: &str,
        from: UnixMillis,
        to: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Position>, StoreError> {
        let prefix = dev_prefix(device);
        let mut after = from.get().checked_sub(1).map(|t| dev_key(device, t, u64::MAX));
        let mut out = Vec::new();
        while out.len() < limit {
            let page =
                self.store.private_range(&prefix, after.as_deref(), PAGE.min(limit - out.len() + 1))?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (k, _) in &page {
                let rest = &k[prefix.len()..];
                let (t, s) =
                    (be_u64(rest.get(..8).unwrap_or_default()), be_u64(rest.get(8..).unwrap_or_default()));
                let (Some(t), Some(seq)) = (t, s) else { return Err(corrupt("device index key")) };
                if t >= to.get() || out.len() >= limit {
                    return Ok(out);
                }
                if let Some(p) = self.get(seq)? {
                    out.push(p);
                }
            }
            if page.len() < PAGE.min(limit + 1) {
                break;
            }
        }
        Ok(out)
    }

    /// A closed batch.
    pub fn batch(&self, batch: u64) -> Result<Option<Batch>, StoreError> {
        match self.store.private_get(&batch_key(batch))? {
            None => Ok(None),
            Some(b) => civic_types::decode(&b, 1024).map(Some).map_err(|_| corrupt("batch")),
        }
    }

    /// The closed batch holding `seq`, searched from the newest batch down (batches are
    /// contiguous and ascending).
    pub fn batch_of(&self, seq: u64) -> Result<Option<Batch>, StoreError> {
        let cursor = self.cursor()?;
        if seq >= cursor.batch_start {
            return Ok(None);
        }
        // Binary search over batch numbers: first_seq ascends with the batch number.
        let (mut lo, mut hi) = (0u64, cursor.next_batch);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.batch(mid)? {
                // Pruned by retention: everything at or below it is older.
                None => lo = mid + 1,
                Some(b) if seq < b.first_seq => hi = mid,
                Some(b) if seq >= b.first_seq + b.count => lo = mid + 1,
                Some(b) => return Ok(Some(b)),
            }
        }
        Ok(None)
    }

    /// Deletes positions received before `cutoff` (in sequence order, stopping at the first
    /// younger one) and the batches that ended before it; returns how many positions went.
    pub fn prune(&self, cutoff: UnixMillis, max: usize) -> Result<usize, StoreError> {
        let page = self.store.private_range(POS, None, max.min(PAGE))?;
        let mut deletes = Vec::new();
        let mut n = 0;
        for (k, v) in &page {
            let p = Position::from_bytes(v).map_err(|_| corrupt("position"))?;
            if p.received >= cutoff {
                break;
            }
            deletes.push((k.clone(), None));
            deletes.push((dev_key(&p.device, p.fix_time.get(), p.seq), None));
            n += 1;
        }
        for (k, v) in self.store.private_range(BATCH, None, PAGE)? {
            let b: Batch = civic_types::decode(&v, 1024).map_err(|_| corrupt("batch"))?;
            if b.to >= cutoff {
                break;
            }
            deletes.push((k, None));
        }
        if !deletes.is_empty() {
            self.store.private_put(deletes)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use civic_store::MemoryStore;
    use civic_supervision::module::Protocol;

    use super::*;

    fn pos(seq: u64, device: &str, fix: u64, received: u64) -> Position {
        Position {
            seq,
            device: device.into(),
            protocol: Protocol::Osmand,
            case_id: "C".into(),
            fix_time: UnixMillis::new(fix),
            received: UnixMillis::new(received),
            lat_e7: 1,
            lon_e7: 2,
            valid: true,
            speed_dkmh: None,
            course_deg: None,
            altitude_m: None,
            accuracy_m: None,
            battery_pct: None,
            alarms: vec![],
        }
    }

    #[test]
    fn series_appends_queries_batches_and_prunes() {
        let store = MemoryStore::default();
        let s = Positions::new(&store);
        assert_eq!(s.cursor().unwrap(), Cursor::default());
        let ps =
            [pos(0, "a", 100, 1000), pos(1, "b", 150, 1001), pos(2, "a", 50, 1002), pos(3, "ab", 120, 1003)];
        let encoded = ps.iter().map(|p| (p.clone(), p.to_bytes())).collect();
        s.append(encoded, &Cursor { next_seq: 4, next_batch: 0, batch_start: 0 }).unwrap();
        assert_eq!(s.cursor().unwrap().next_seq, 4);
        assert_eq!(s.get(2).unwrap().unwrap(), ps[2]);
        // By device, by fix time, not confused by a device whose id extends another's.
        let a: Vec<u64> = s
            .by_device("a", UnixMillis::new(0), UnixMillis::new(1000), 10)
            .unwrap()
            .iter()
            .map(|p| p.seq)
            .collect();
        assert_eq!(a, vec![2, 0]);
        let a: Vec<u64> = s
            .by_device("a", UnixMillis::new(60), UnixMillis::new(1000), 10)
            .unwrap()
            .iter()
            .map(|p| p.seq)
            .collect();
        assert_eq!(a, vec![0]);
        assert_eq!(s.by_device("a", UnixMillis::new(0), UnixMillis::new(100), 10).unwrap().len(), 1);
        assert_eq!(s.by_device("a", UnixMillis::new(0), UnixMillis::new(1000), 1).unwrap().len(), 1);
        assert_eq!(s.range(1, 2).unwrap(), ps[1..3].to_vec());
        let b = Batch {
            batch: 0,
            first_seq: 0,
            count: 4,
            root: Hash32([1; 32]),
            from: UnixMillis::new(1000),
            to: UnixMillis::new(1003),
            gateway: None,
        };
        s.close_batch(&b, &Cursor { next_seq: 4, next_batch: 1, batch_start: 4 }).unwrap();
        assert_eq!(s.batch_of(3).unwrap(), Some(b.clone()));
        assert_eq!(s.batch_of(4).unwrap(), None);
        assert_eq!(s.prune(UnixMillis::new(1002), 100).unwrap(), 2);
        assert_eq!(s.get(1).unwrap(), None);
        assert!(s.get(2).unwrap().is_some());
        assert_eq!(s.by_device("a", UnixMillis::new(0), UnixMillis::new(1000), 10).unwrap().len(), 1);
        assert_eq!(s.batch(0).unwrap(), Some(b));
        assert_eq!(s.prune(UnixMillis::new(5000), 100).unwrap(), 2);
        assert_eq!(s.batch(0).unwrap(), None);
    }
}
