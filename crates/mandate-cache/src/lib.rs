//! The one bounded cache type of Mandate, and a registry that reports every cache's hit
//! rate to `/metrics`.
//!
//! A [`BoundedCache`] never holds more than its capacity. When it is full an insert evicts
//! one entry, chosen by S3-FIFO ([`quick_cache`]): a new entry first waits in a small
//! probation queue and is evicted from there unless it was read again, so a burst of
//! one-off keys (a scan, a storm of new tasks) does not push the working set out, and the
//! cache never empties itself under load.
//!
//! Each cache counts its hits, misses and evictions with one relaxed atomic increment, on
//! its own counters: nothing reaches the global `metrics` recorder on the lookup path.
//! [`snapshot`] reads the counters of every live cache when `/metrics` is scraped, summed
//! per cache name (each task's memos share one name). A cache leaves the registry when it
//! is dropped; its counts stay in its name's totals, so the exported counters never go
//! backwards.

#![forbid(unsafe_code)]

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

type Map<K, V> = Cache<K, V, UnitWeighter, DefaultHashBuilder, Evictions<K, V>>;

/// A concurrent cache of at most `capacity` entries that evicts one entry at a time and
/// counts its hits and misses. Clones share the same entries and counters.
///
/// Values are cloned out on every hit: store `Arc`s or small `Copy` values.
pub struct BoundedCache<K, V> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    map: Map<K, V>,
    counters: Arc<Counters>,
    name: &'static str,
    id: u64,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

/// Counts evictions; evicted entries are dropped after the shard lock is released (a value
/// can be a whole task's state), like quick_cache's default lifecycle does.
struct Evictions<K, V> {
    counters: Arc<Counters>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for Evictions<K, V> {
    fn clone(&self) -> Self {
        Self {
            counters: self.counters.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V> Lifecycle<K, V> for Evictions<K, V> {
    type RequestState = [Option<(K, V)>; 2];

    fn on_evict(&self, state: &mut Self::RequestState, key: K, val: V) {
        self.counters.evictions.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = state.iter_mut().find(|s| s.is_none()) {
            *slot = Some((key, val));
        }
    }
}

impl<K, V> BoundedCache<K, V>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// An empty cache registered under `name` (the `cache` label in `/metrics`). The
    /// capacity is split over shards, each rounded up, so [`capacity`](Self::capacity) can
    /// be a few entries more than asked for.
    pub fn new(name: &'static str, capacity: usize) -> Self {
        Self::build(name, capacity, None)
    }

    /// A cache one task uses, of which there are as many as live tasks: two shards
    /// instead of four per core. A task's own requests barely contend, and a cache
    /// sharded for the whole machine would make each task's memory grow with the
    /// number of cores.
    pub fn per_task(name: &'static str, capacity: usize) -> Self {
        Self::build(name, capacity, Some(2))
    }

    fn build(name: &'static str, capacity: usize, shards: Option<usize>) -> Self {
        let counters = Arc::new(Counters::default());
        let lifecycle = Evictions {
            counters: counters.clone(),
            types: PhantomData,
        };
        let weight = u64::try_from(capacity).unwrap_or(u64::MAX);
        let mut options = quick_cache::OptionsBuilder::new();
        options
            .estimated_items_capacity(capacity)
            .weight_capacity(weight);
        if let Some(n) = shards {
            options.shards(n);
        }
        let map = match options.build() {
            Ok(o) => Map::with_options(o, UnitWeighter, DefaultHashBuilder::default(), lifecycle),
            // Only a missing weight capacity fails, and it is always set above.
            Err(_) => Map::with(
                capacity,
                weight,
                UnitWeighter,
                DefaultHashBuilder::default(),
                lifecycle,
            ),
        };
        let inner = Arc::new(Inner {
            capacity: usize::try_from(map.capacity()).unwrap_or(usize::MAX),
            map,
            counters,
            name,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        });
        let handle: Weak<dyn Entries> = Arc::downgrade(&inner) as Weak<dyn Entries>;
        registry().register(
            name,
            inner.id,
            Live {
                counters: inner.counters.clone(),
                capacity: inner.capacity,
                cache: handle,
            },
        );
        Self { inner }
    }
}

impl<K, V> BoundedCache<K, V>
where
    K: Eq + Hash,
    V: Clone,
{
    /// The value cached for `key`, counted as a hit or a miss.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.inner.map.get(key);
        let counter = if found.is_some() {
            &self.inner.counters.hits
        } else {
            &self.inner.counters.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Caches `value` under `key`, replacing an older value; evicts an entry if full.
    pub fn insert(&self, key: K, value: V) {
        self.inner.map.insert(key, value);
    }

    /// Forgets `key`, returning its value if it was cached.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.map.remove(key).map(|(_, v)| v)
    }

    /// Forgets every entry. Only for benchmarks and tests that measure without the cache:
    /// a full cache makes room by itself.
    pub fn clear(&self) {
        self.inner.map.clear();
    }

    /// The number of entries cached.
    pub fn len(&self) -> usize {
        self.inner.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.map.is_empty()
    }

    /// This cache's own counters (not summed with other caches of the same name).
    pub fn stats(&self) -> CacheStats {
        let mut s = CacheStats::empty(self.inner.name);
        s.caches = 1;
        s.add(&self.inner.counters);
        s.entries = self.len();
        s.capacity = self.inner.capacity;
        s
    }
}

impl<K, V> BoundedCache<K, V> {
    /// The most entries this cache holds.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The name it reports under.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }
}

impl<K, V> Clone for BoundedCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> fmt::Debug for BoundedCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedCache")
            .field("name", &self.inner.name)
            .field("capacity", &self.inner.capacity)
            .finish_non_exhaustive()
    }
}

impl<K, V> Drop for Inner<K, V> {
    fn drop(&mut self) {
        registry().retire(self.name, self.id);
    }
}

/// What the registry needs from a live cache of any key and value type.
trait Entries: Send + Sync {
    fn entries(&self) -> usize;
}

impl<K, V> Entries for Inner<K, V>
where
    K: Eq + Hash + Send + Sync,
    V: Clone + Send + Sync,
{
    fn entries(&self) -> usize {
        self.map.len()
    }
}

/// The counters of every cache of one name, summed; what `/metrics` exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    pub name: &'static str,
    /// How many caches of this name are alive (one per task for per-task memos).
    pub caches: usize,
    /// Lookups that found a value, since the process started.
    pub hits: u64,
    /// Lookups that found nothing, since the process started.
    pub misses: u64,
    /// Entries pushed out to make room, since the process started.
    pub evictions: u64,
    /// Entries held now.
    pub entries: usize,
    /// The most entries the live caches can hold.
    pub capacity: usize,
}

impl CacheStats {
    fn empty(name: &'static str) -> Self {
        Self {
            name,
            caches: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
            entries: 0,
            capacity: 0,
        }
    }

    fn add(&mut self, c: &Counters) {
        self.hits += c.hits.load(Ordering::Relaxed);
        self.misses += c.misses.load(Ordering::Relaxed);
        self.evictions += c.evictions.load(Ordering::Relaxed);
    }
}

/// Every cache name seen in this process, with its live caches' counters and the totals
/// of its dropped ones, sorted by name.
pub fn snapshot() -> Vec<CacheStats> {
    let mut out = Vec::new();
    let mut alive: Vec<(usize, Arc<dyn Entries>)> = Vec::new();
    {
        let reg = registry();
        for named in &reg.names {
            let mut s = CacheStats::empty(named.name);
            s.add(&named.retired);
            s.caches = named.live.len();
            for live in named.live.values() {
                s.add(&live.counters);
                s.capacity += live.capacity;
                if let Some(cache) = live.cache.upgrade() {
                    alive.push((out.len(), cache));
                }
            }
            out.push(s);
        }
    }
    // Outside the registry lock: counting entries takes the caches' shard locks, and
    // dropping the last handle to a cache takes the registry lock.
    for (i, cache) in alive {
        if let Some(s) = out.get_mut(i) {
            s.entries += cache.entries();
        }
    }
    out.sort_by_key(|s| s.name);
    out
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static REGISTRY: Mutex<Registry> = Mutex::new(Registry { names: Vec::new() });

/// The registry is never left half-updated (nothing in it panics), so a poisoned lock
/// is still good.
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Registry {
    names: Vec<Named>,
}

struct Named {
    name: &'static str,
    /// The counts of this name's dropped caches.
    retired: Counters,
    live: HashMap<u64, Live>,
}

struct Live {
    counters: Arc<Counters>,
    capacity: usize,
    cache: Weak<dyn Entries>,
}

impl Registry {
    fn register(&mut self, name: &'static str, id: u64, live: Live) {
        let named = match self.names.iter().position(|n| n.name == name) {
            Some(i) => &mut self.names[i],
            None => {
                self.names.push(Named {
                    name,
                    retired: Counters::default(),
                    live: HashMap::new(),
                });
                let last = self.names.len() - 1;
                &mut self.names[last]
            }
        };
        named.live.insert(id, live);
    }

    fn retire(&mut self, name: &'static str, id: u64) {
        let Some(named) = self.names.iter_mut().find(|n| n.name == name) else {
            return;
        };
        if let Some(live) = named.live.remove(&id) {
            let r = &named.retired;
            let c = &live.counters;
            for (total, part) in [
                (&r.hits, &c.hits),
                (&r.misses, &c.misses),
                (&r.evictions, &c.evictions),
            ] {
                total.fetch_add(part.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Option<CacheStats> {
        snapshot().into_iter().find(|s| s.name == name)
    }

    #[test]
    fn a_full_cache_evicts_one_entry_at_a_time_and_never_empties() {
        let c = BoundedCache::<u64, u64>::new("test.bounded", 256);
        let cap = c.capacity();
        assert!((256..256 + 64).contains(&cap), "{cap}");
        for i in 0..10_000 {
            c.insert(i, i);
            assert!(
                c.len() <= cap,
                "{} entries over a capacity of {cap}",
                c.len()
            );
        }
        assert!(c.len() >= cap * 3 / 4, "only {} of {cap} kept", c.len());
        assert_eq!(c.get(&9_999), Some(9_999), "the newest entry is kept");
        let s = c.stats();
        assert_eq!(s.evictions, 10_000 - c.len() as u64);
    }

    #[test]
    fn a_scan_of_one_off_keys_does_not_push_out_the_working_set() {
        let c = BoundedCache::<String, u32>::new("test.scan", 1024);
        for i in 0..64 {
            c.insert(format!("hot{i}"), i);
        }
        for _ in 0..3 {
            for i in 0..64 {
                assert_eq!(c.get(format!("hot{i}").as_str()), Some(i));
            }
        }
        for i in 0..20_000 {
            c.insert(format!("once{i}"), i);
        }
        for i in 0..64 {
            assert_eq!(c.get(format!("hot{i}").as_str()), Some(i), "hot{i} evicted");
        }
    }

    #[test]
    fn hits_and_misses_are_counted() {
        let c = BoundedCache::<String, u32>::new("test.counts", 16);
        assert_eq!(c.get("a"), None);
        c.insert("a".to_owned(), 1);
        assert_eq!(c.get("a"), Some(1));
        assert_eq!(c.get("a"), Some(1));
        assert_eq!(c.remove("a"), Some(1));
        assert_eq!(c.get("a"), None);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (2, 2, 0));
    }

    #[test]
    fn clones_share_entries_and_counters() {
        let a = BoundedCache::<u8, u8>::new("test.clone", 16);
        let b = a.clone();
        a.insert(1, 2);
        assert_eq!(b.get(&1), Some(2));
        assert_eq!(a.stats().hits, 1);
        drop(a);
        assert_eq!(named("test.clone").map(|s| s.caches), Some(1));
    }

    #[test]
    fn caches_of_one_name_are_summed_and_leave_the_registry_when_dropped() {
        let name = "test.registry";
        let a = BoundedCache::<u32, u32>::new(name, 64);
        let b = BoundedCache::<u32, u32>::new(name, 64);
        a.insert(1, 1);
        b.insert(1, 1);
        b.insert(2, 2);
        assert_eq!(a.get(&1), Some(1));
        assert_eq!(b.get(&3), None);
        let s = named(name).expect("registered");
        assert_eq!((s.caches, s.entries, s.hits, s.misses), (2, 3, 1, 1));
        assert_eq!(s.capacity, a.capacity() + b.capacity());

        drop(a);
        let s = named(name).expect("registered");
        assert_eq!((s.caches, s.entries, s.capacity), (1, 2, b.capacity()));
        assert_eq!(
            (s.hits, s.misses),
            (1, 1),
            "a dropped cache's counts are kept"
        );

        drop(b);
        let s = named(name).expect("the name stays");
        assert_eq!((s.caches, s.entries, s.capacity), (0, 0, 0));
        assert_eq!((s.hits, s.misses), (1, 1));
    }

    #[test]
    fn the_registry_does_not_grow_with_caches_made_and_dropped() {
        let name = "test.churn";
        for _ in 0..1000 {
            let c = BoundedCache::<u32, u32>::new(name, 8);
            assert_eq!(c.get(&0), None);
        }
        let s = named(name).expect("registered");
        assert_eq!((s.caches, s.misses), (0, 1000));
        let reg = registry();
        let n = reg.names.iter().find(|n| n.name == name).expect("named");
        assert!(n.live.is_empty());
    }

    #[test]
    fn values_evicted_or_cleared_are_dropped() {
        let c = BoundedCache::<u32, Arc<()>>::new("test.drops", 32);
        let v = Arc::new(());
        for i in 0..1000 {
            c.insert(i, v.clone());
        }
        assert_eq!(Arc::strong_count(&v), 1 + c.len());
        c.clear();
        assert!(c.is_empty());
        assert_eq!(Arc::strong_count(&v), 1);
    }
}
