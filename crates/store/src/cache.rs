//! Read-mostly records kept in memory.
//!
//! Every signed declaration is checked against its session, the market's
//! parameters, the member and the unit: four reads of records that change a
//! few times a day, on a path that runs thousands of times a second. An
//! entity that declares [`Entity::CACHED`] is answered by [`Store::get`]
//! from memory when this process read it less than [`CACHE_TTL`] ago.
//!
//! What keeps it right:
//! - a write through this store (a new version in `append`, a companion
//!   written by the writer) forgets the record once its transaction
//!   committed, so this process never reads its own write stale;
//! - a read that raced with a write does not keep what it read: entries are
//!   kept only if no cached record was forgotten since the read began (a
//!   generation counter);
//! - a write by another process (a replica on the same PostgreSQL database,
//!   a command on the same SQLite file) is seen within [`CACHE_TTL`];
//! - the session a declaration is validated against is checked again, by
//!   version, inside the transaction that stores it (store `writer`), so a
//!   gate closed on another replica is never missed.
//!
//! [`Store::get`]: crate::Store::get

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{Entity, Record};

/// How long a record read from the database is answered from memory.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// Most records held; past this the cache starts again empty.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    read_at: Instant,
    record: Box<dyn Any + Send + Sync>,
}

/// The cache one store and its clones share.
#[derive(Default)]
pub(crate) struct RecordCache {
    entries: Mutex<HashMap<(&'static str, String), Entry>>,
    /// Bumped by every forget: a read that began before it keeps nothing.
    generation: AtomicU64,
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCache")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RecordCache {
    /// The generation to hand to [`RecordCache::keep`] after a read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The record of `T` with `id`, read less than [`CACHE_TTL`] ago.
    pub fn get<T: Entity>(&self, id: &str, now: Instant) -> Option<Record<T>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&(T::TABLE, id.to_owned()))?;
        if now.duration_since(entry.read_at) >= CACHE_TTL {
            return None;
        }
        entry.record.downcast_ref::<Record<T>>().cloned()
    }

    /// Keeps `record`, read at `read_at` by a read that began at
    /// `generation`, unless a record was forgotten meanwhile.
    pub fn keep<T: Entity>(&self, record: &Record<T>, generation: u64, read_at: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            (T::TABLE, record.id.clone()),
            Entry {
                read_at,
                record: Box::new(record.clone()),
            },
        );
    }

    /// Forgets the record `id` of `table` (after a write of it committed).
    pub fn forget(&self, table: &'static str, id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&(table, id.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use voltex_model::{MarketKind, MarketSession, TradingDay};

    fn session() -> Record<MarketSession> {
        let s = MarketSession::new(
            MarketKind::DayAheadEnergy,
            TradingDay::from_ymd_opt(2026, 7, 1).unwrap(),
        );
        Record {
            id: s.id.clone(),
            version: 1,
            recorded_at: Utc::now(),
            value: s,
        }
    }

    #[test]
    fn a_record_is_answered_until_it_is_forgotten_or_older_than_the_ttl() {
        let cache = RecordCache::default();
        let r = session();
        let t0 = Instant::now();
        cache.keep(&r, cache.generation(), t0);
        assert_eq!(cache.get::<MarketSession>(&r.id, t0), Some(r.clone()));
        assert_eq!(cache.get::<MarketSession>(&r.id, t0 + CACHE_TTL), None);
        cache.forget("sessions", &r.id);
        assert_eq!(cache.get::<MarketSession>(&r.id, t0), None);
    }

    #[test]
    fn a_read_that_raced_with_a_write_keeps_nothing() {
        let cache = RecordCache::default();
        let r = session();
        let before_read = cache.generation();
        // A write of any cached record commits while the read is under way.
        cache.forget("sessions", &r.id);
        cache.keep(&r, before_read, Instant::now());
        assert_eq!(cache.get::<MarketSession>(&r.id, Instant::now()), None);
    }
}
