//! The insertion-ordered hash map behind Lox maps.
//!
//! Entries live in a vector in insertion order (removal leaves a tombstone that
//! iteration skips and compaction drops); a `hashbrown::HashTable` of entry
//! indices finds them. Iteration order is therefore insertion order on every host,
//! and hashing uses no random seed.
//!
//! Keys: numbers by value (`-0` and `0` are one key; NaN is one key), strings by
//! content (they are interned, so by pointer), `true`, `false`, `nil`, and every
//! other object by identity.

use crate::value::Value;
use hashbrown::HashTable;

#[derive(Default)]
pub struct ValueMap {
    entries: Vec<(Value, Value)>,
    index: HashTable<u32>,
    live: usize,
}

/// The key a value is stored under: numbers normalised so equal numbers share
/// one key, everything else by its bits (identity, or interned content).
#[inline]
fn normalise(key: Value) -> Value {
    if key.is_number() {
        let n = key.as_number();
        if n == 0.0 {
            return Value::number(0.0);
        }
        return Value::number(n);
    }
    key
}

#[inline]
fn hash(key: Value) -> u64 {
    // A fixed 64-bit mixer (from SplitMix64): deterministic on every host.
    let mut x = key.bits();
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl ValueMap {
    pub fn new() -> ValueMap {
        ValueMap::default()
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn find(&self, key: Value) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash(key), |&i| entries[i as usize].0 == key)
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: Value) -> Option<Value> {
        let key = normalise(key);
        self.find(key).map(|i| self.entries[i].1)
    }

    pub fn contains(&self, key: Value) -> bool {
        self.find(normalise(key)).is_some()
    }

    /// Inserts or replaces; returns true when the key is new.
    pub fn insert(&mut self, key: Value, value: Value) -> bool {
        let key = normalise(key);
        if let Some(i) = self.find(key) {
            self.entries[i].1 = value;
            return false;
        }
        let position = self.entries.len() as u32;
        self.entries.push((key, value));
        let entries = &self.entries;
        self.index
            .insert_unique(hash(key), position, |&i| hash(entries[i as usize].0));
        self.live += 1;
        true
    }

    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: Value) -> Option<Value> {
        let key = normalise(key);
        let position = self.find(key)?;
        let entries = &self.entries;
        if let Ok(entry) = self
            .index
            .find_entry(hash(key), |&i| entries[i as usize].0 == key)
        {
            entry.remove();
        }
        let value = self.entries[position].1;
        self.entries[position] = (Value::EMPTY, Value::NIL);
        self.live -= 1;
        if self.entries.len() > 16 && self.live * 2 < self.entries.len() {
            self.compact();
        }
        Some(value)
    }

    /// Drops tombstones and rebuilds the index.
    fn compact(&mut self) {
        self.entries.retain(|(key, _)| *key != Value::EMPTY);
        self.index.clear();
        for (position, (key, _)) in self.entries.iter().enumerate() {
            let entries = &self.entries;
            self.index.insert_unique(hash(*key), position as u32, |&i| {
                hash(entries[i as usize].0)
            });
        }
    }

    /// Bytes the map's storage is accounted for in the heap's budget.
    pub fn accounted_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Value, Value)>() + self.index.capacity() * 8
    }

    /// Live entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.entries
            .iter()
            .copied()
            .filter(|(key, _)| *key != Value::EMPTY)
    }

    /// The first live entry at or after `position`, with the position after it;
    /// used by `for … in` so iteration survives insertions during the loop.
    pub fn entry_from(&self, position: usize) -> Option<(usize, Value)> {
        self.entries
            .iter()
            .enumerate()
            .skip(position)
            .find(|(_, (key, _))| *key != Value::EMPTY)
            .map(|(i, (key, _))| (i + 1, *key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_across_removals() {
        let mut map = ValueMap::new();
        for i in 0..100 {
            map.insert(Value::number(f64::from(i)), Value::number(f64::from(i * 2)));
        }
        for i in (0..100).step_by(3) {
            assert_eq!(
                map.remove(Value::number(f64::from(i))),
                Some(Value::number(f64::from(i * 2)))
            );
        }
        let keys: Vec<f64> = map.iter().map(|(k, _)| k.as_number()).collect();
        let expected: Vec<f64> = (0..100).filter(|i| i % 3 != 0).map(f64::from).collect();
        assert_eq!(keys, expected);
        assert_eq!(map.len(), expected.len());
        assert!(map.insert(Value::number(0.0), Value::TRUE));
        assert_eq!(map.iter().last().map(|(k, _)| k.as_number()), Some(0.0));
    }

    #[test]
    fn zero_and_negative_zero_are_one_key_and_nan_is_findable() {
        let mut map = ValueMap::new();
        map.insert(Value::number(0.0), Value::TRUE);
        assert_eq!(map.get(Value::number(-0.0)), Some(Value::TRUE));
        map.insert(Value::number(f64::NAN), Value::FALSE);
        assert_eq!(map.get(Value::number(f64::NAN)), Some(Value::FALSE));
        assert!(!map.insert(Value::number(-0.0), Value::NIL));
        assert_eq!(map.len(), 2);
    }
}
