//! The name → value table behind instance fields, class methods and module
//! members.
//!
//! Most objects have a handful of fields, and a linear scan of a few
//! pointer-sized keys beats hashing: no hash to compute, one allocation per
//! object, entries in insertion order. Past [`LINEAR_LIMIT`] entries an index
//! (a hash map from key to position) is built, so big tables stay O(1).

use crate::object::{PassThroughHasher, StrKey};
use crate::value::Value;
use hashbrown::HashMap;
use std::cell::Cell;
use std::hash::BuildHasherDefault;

/// Entries searched linearly before an index is built.
const LINEAR_LIMIT: usize = 8;

type Index = HashMap<StrKey, u32, BuildHasherDefault<PassThroughHasher>>;

#[derive(Default)]
pub struct Table {
    entries: Vec<(StrKey, Value)>,
    index: Option<Box<Index>>,
}

impl Table {
    pub fn with_capacity(capacity: usize) -> Table {
        Table {
            entries: Vec::with_capacity(capacity),
            index: None,
        }
    }

    #[inline]
    pub fn get(&self, key: &StrKey) -> Option<&Value> {
        match &self.index {
            None => self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Some(index) => index.get(key).map(|&i| &self.entries[i as usize].1),
        }
    }

    /// [`Table::get`] through an inline cache: the entry at position `hint` is tried
    /// first, and `hint` learns where `key` was found. Instances of one class usually
    /// get their fields in the same order, so one site keeps finding a name at the
    /// same position, and a hit costs one comparison instead of a scan.
    #[inline(always)]
    pub fn get_hinted(&self, key: &StrKey, hint: &Cell<u8>) -> Option<&Value> {
        if let Some((k, v)) = self.entries.get(usize::from(hint.get())) {
            if k == key {
                return Some(v);
            }
        }
        let position = self.position(key)?;
        hint.set(position as u8);
        Some(&self.entries[position].1)
    }

    /// [`Table::insert`] through an inline cache, as [`Table::get_hinted`]: replacing
    /// the value at the hinted position needs no search.
    #[inline(always)]
    pub fn insert_hinted(&mut self, key: StrKey, value: Value, hint: &Cell<u8>) -> Option<Value> {
        if let Some((k, v)) = self.entries.get_mut(usize::from(hint.get())) {
            if *k == key {
                return Some(std::mem::replace(v, value));
            }
        }
        match self.position(&key) {
            Some(position) => {
                hint.set(position as u8);
                Some(std::mem::replace(&mut self.entries[position].1, value))
            }
            None => {
                hint.set(self.entries.len() as u8);
                self.append(key, value);
                None
            }
        }
    }

    fn position(&self, key: &StrKey) -> Option<usize> {
        match &self.index {
            None => self.entries.iter().position(|(k, _)| k == key),
            Some(index) => index.get(key).map(|&i| i as usize),
        }
    }

    /// Inserts or replaces; returns the previous value, if any.
    pub fn insert(&mut self, key: StrKey, value: Value) -> Option<Value> {
        if let Some(position) = self.position(&key) {
            return Some(std::mem::replace(&mut self.entries[position].1, value));
        }
        self.append(key, value);
        None
    }

    /// Adds an entry for `key`, which the caller checked is not in the table.
    fn append(&mut self, key: StrKey, value: Value) {
        let position = self.entries.len() as u32;
        self.entries.push((key, value));
        match &mut self.index {
            Some(index) => {
                index.insert(key, position);
            }
            None if self.entries.len() > LINEAR_LIMIT => {
                let built: Index = self
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (*k, i as u32))
                    .collect();
                self.index = Some(Box::new(built));
            }
            None => {}
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&StrKey, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &StrKey> {
        self.entries.iter().map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Header, ObjKind, ObjString};

    fn key(text: &str) -> (Box<ObjString>, StrKey) {
        let mut string = Box::new(ObjString {
            header: Header::new(ObjKind::String),
            hash: crate::object::hash_str(text),
            chars: text.len(),
            text: text.into(),
        });
        let pointer = &mut *string as *mut ObjString;
        (string, StrKey(pointer))
    }

    #[test]
    fn linear_and_indexed_tables_agree() {
        let keys: Vec<_> = (0..40).map(|i| key(&format!("field{i}"))).collect();
        let mut table = Table::default();
        for (i, (_, k)) in keys.iter().enumerate() {
            assert_eq!(table.insert(*k, Value::number(i as f64)), None);
            for (j, (_, earlier)) in keys.iter().enumerate().take(i + 1) {
                assert_eq!(table.get(earlier), Some(&Value::number(j as f64)));
            }
        }
        assert_eq!(
            table.insert(keys[3].1, Value::TRUE),
            Some(Value::number(3.0))
        );
        assert_eq!(table.get(&keys[3].1), Some(&Value::TRUE));
        assert_eq!(table.len(), 40);
        let order: Vec<_> = table.keys().copied().collect();
        let expected: Vec<_> = keys.iter().map(|(_, k)| *k).collect();
        assert!(order == expected, "insertion order is kept");
    }
}
