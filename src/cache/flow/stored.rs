//! An entry read from the store and written to it: a damaged one deleted, and each written
//! with how long it is of use, for a store that forgets (`Cache::set_for`).

use std::time::{Duration, SystemTime};

use crate::cache::entry::Entry;
use crate::cache::policy;
use crate::cache::storage::Cache;
use crate::logs;

/// The entry stored under `key`; a damaged one is a miss, and is deleted.
pub(super) fn load(cache: &dyn Cache, key: &str) -> Option<Entry> {
    let bytes = cache.get(key)?;
    let entry = Entry::from_bytes(&bytes);
    if entry.is_none() {
        if !Entry::is_older_format(&bytes) {
            logs::warning!("cache: the entry for {key} is damaged; deleting it");
        }
        cache.delete(key);
    }
    entry
}

/// Stores `entry` under `key`, with how long it is of use, for a store that forgets: the
/// client's `stale_if_error` makes that longer.
pub(super) fn store(cache: &dyn Cache, key: &str, entry: &Entry, stale_if_error: Option<Duration>) {
    let keep = match policy::lasts_for_ever(&entry.response) {
        true => None,
        false => policy::useful_for(
            &entry.response,
            &entry.fetched,
            SystemTime::now(),
            stale_if_error,
        ),
    };
    if let Err(e) = cache.set_for(key, &entry.to_bytes(), keep) {
        logs::warning!("cache: could not store {key}: {e}");
    }
}
