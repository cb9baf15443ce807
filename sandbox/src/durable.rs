//! The rollup's durable storage as the WASM PVM keeps it: a tree of named
//! steps whose nodes may hold a value, with the PVM's key syntax, read-only
//! area and error semantics.
//!
//! Nodes are shared between copies (`Arc`), so `store_copy` and `store_move`
//! of a whole subtree cost one pointer, as they do in Octez's Irmin tree, and
//! the change set of a level is found by walking only the nodes the level
//! replaced. Each node caches its Merkle hash.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use tezos_crypto_rs::blake2b;

use crate::host::HostError;

/// Longest key the PVM accepts: 250 bytes less the implicit `/durable`
/// prefix and `/@` value suffix.
pub const MAX_KEY_LENGTH: usize = 250 - "/durable".len() - "/@".len();

/// Most bytes one `store_read` or `store_write` moves.
pub const MAX_IO_SIZE: usize = 2048;

/// Largest value the PVM stores: its size must fit an `i32`.
pub const MAX_VALUE_SIZE: usize = i32::MAX as usize;

/// A parsed durable-storage key: its steps, and whether the kernel may
/// change it (keys under `/readonly` and the root are the PVM's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    steps: Vec<String>,
    readonly: bool,
}

impl Key {
    /// Parses `bytes` as the PVM does: at most [`MAX_KEY_LENGTH`] bytes, a
    /// leading `/`, non-empty steps of `[A-Za-z0-9._-]`.
    pub fn parse(bytes: &[u8]) -> Result<Self, HostError> {
        if bytes.len() > MAX_KEY_LENGTH {
            return Err(HostError::StoreKeyTooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| HostError::StoreInvalidKey)?;
        // The empty key names the root, as `String.split` makes it in Octez.
        if text.is_empty() {
            return Ok(Key {
                steps: Vec::new(),
                readonly: true,
            });
        }
        let rest = text.strip_prefix('/').ok_or(HostError::StoreInvalidKey)?;
        let mut steps = Vec::new();
        for step in rest.split('/') {
            let valid = !step.is_empty()
                && step
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !valid {
                return Err(HostError::StoreInvalidKey);
            }
            steps.push(step.to_owned());
        }
        let readonly = steps.first().is_some_and(|s| s == "readonly");
        Ok(Key { steps, readonly })
    }

    /// One of the PVM's own constant keys, `/a/b`, taken as written.
    pub(crate) fn constant(path: &str) -> Self {
        let steps: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let readonly = steps.first().is_none_or(|s| s == "readonly");
        Key { steps, readonly }
    }

    /// Parses a key given as text, as the RPC receives it.
    pub fn parse_str(text: &str) -> Result<Self, HostError> {
        Self::parse(text.as_bytes())
    }

    /// Whether the kernel may not change the key.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// The key's steps.
    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    /// The key as text, `/a/b`.
    pub fn path(&self) -> String {
        self.steps.iter().fold(String::new(), |mut s, step| {
            s.push('/');
            s.push_str(step);
            s
        })
    }
}

/// A node of the tree: an optional value and named children.
#[derive(Debug, Default)]
struct Node {
    value: Option<Arc<Vec<u8>>>,
    children: BTreeMap<String, Arc<Node>>,
    hash: OnceLock<[u8; 32]>,
}

impl Clone for Node {
    fn clone(&self) -> Self {
        // A clone is about to change, so its cached hash is not carried over.
        Node {
            value: self.value.clone(),
            children: self.children.clone(),
            hash: OnceLock::new(),
        }
    }
}

impl Node {
    fn is_empty(&self) -> bool {
        self.value.is_none() && self.children.is_empty()
    }

    fn hash(&self) -> [u8; 32] {
        *self.hash.get_or_init(|| self.compute_hash())
    }

    /// The hash of the value and of each child's name and hash.
    fn compute_hash(&self) -> [u8; 32] {
        let mut bytes = Vec::with_capacity(34 + self.children.len() * 48);
        match &self.value {
            Some(v) => {
                bytes.push(1);
                bytes.extend_from_slice(&digest(v));
            }
            None => bytes.push(0),
        }
        for (name, child) in &self.children {
            bytes.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(&child.hash());
        }
        digest(&bytes)
    }
}

/// blake2b-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(d) = blake2b::digest_256(bytes) {
        out.iter_mut().zip(d).for_each(|(o, b)| *o = b);
    }
    out
}

/// One value's change between two trees: its key and its new value, or
/// `None` where the value was removed.
pub type Change = (String, Option<Arc<Vec<u8>>>);

/// The durable storage.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    root: Arc<Node>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    fn node(&self, steps: &[String]) -> Option<&Arc<Node>> {
        let mut node = &self.root;
        for step in steps {
            node = node.children.get(step)?;
        }
        Some(node)
    }

    /// The node at `steps`, created on the way if missing and made unique.
    fn node_mut(&mut self, steps: &[String]) -> &mut Node {
        let mut node = Arc::make_mut(&mut self.root);
        for step in steps {
            node.hash = OnceLock::new();
            let child = node.children.entry(step.clone()).or_default();
            node = Arc::make_mut(child);
        }
        node.hash = OnceLock::new();
        node
    }

    /// Replaces the subtree at `steps` (the root if empty) with `new`, or
    /// removes it; empty nodes left on the way are pruned, as Irmin does.
    fn set_subtree(&mut self, steps: &[String], new: Option<Arc<Node>>) {
        fn go(node: &mut Arc<Node>, steps: &[String], new: Option<Arc<Node>>) {
            let Some((first, rest)) = steps.split_first() else {
                return;
            };
            if rest.is_empty() {
                let n = Arc::make_mut(node);
                n.hash = OnceLock::new();
                match new {
                    Some(sub) if !sub.is_empty() => {
                        n.children.insert(first.clone(), sub);
                    }
                    _ => {
                        n.children.remove(first);
                    }
                }
                return;
            }
            if new.is_none() && !node.children.contains_key(first) {
                return;
            }
            let n = Arc::make_mut(node);
            n.hash = OnceLock::new();
            let child = n.children.entry(first.clone()).or_default();
            go(child, rest, new);
            if child.is_empty() {
                n.children.remove(first);
            }
        }
        if steps.is_empty() {
            self.root = new.unwrap_or_default();
        } else {
            go(&mut self.root, steps, new);
        }
    }

    /// The value at `key`.
    pub fn value(&self, key: &Key) -> Option<&Arc<Vec<u8>>> {
        self.node(&key.steps)?.value.as_ref()
    }

    /// Whether `key` holds a value, a subtree, both or nothing, as the
    /// `store_has` codes 0 to 3.
    pub fn has(&self, key: &Key) -> i32 {
        match self.node(&key.steps) {
            None => tezos_smart_rollup_core::VALUE_TYPE_NONE,
            Some(n) => match (n.value.is_some(), !n.children.is_empty()) {
                (false, false) => tezos_smart_rollup_core::VALUE_TYPE_NONE,
                (true, false) => tezos_smart_rollup_core::VALUE_TYPE_VALUE,
                (false, true) => tezos_smart_rollup_core::VALUE_TYPE_SUBTREE,
                (true, true) => tezos_smart_rollup_core::VALUE_TYPE_VALUE_WITH_SUBTREE,
            },
        }
    }

    /// The number of entries under `key`, its own value counting as one, as
    /// the PVM counts them; 0 for a missing key.
    pub fn count_subtrees(&self, key: &Key) -> usize {
        self.node(&key.steps)
            .map_or(0, |n| n.children.len() + usize::from(n.value.is_some()))
    }

    /// The names under `key` as the PVM lists them, its own value as `""`,
    /// in the order of the stored names.
    pub fn list(&self, key: &Key) -> Vec<String> {
        let Some(node) = self.node(&key.steps) else {
            return Vec::new();
        };
        let mut names: Vec<String> = node.children.keys().cloned().collect();
        if node.value.is_some() {
            // The PVM stores a value under the step `@`, listed as "".
            let at = names.partition_point(|n| n.as_str() < "@");
            names.insert(at, String::new());
        }
        names
    }

    /// The size of the value at `key`.
    pub fn value_size(&self, key: &Key) -> Result<usize, HostError> {
        self.value(key)
            .map(|v| v.len())
            .ok_or(HostError::StoreNotAValue)
    }

    /// Up to `max_bytes` (at most [`MAX_IO_SIZE`]) of the value at `key`
    /// from `offset`.
    pub fn read(&self, key: &Key, offset: u64, max_bytes: u64) -> Result<&[u8], HostError> {
        if max_bytes > MAX_IO_SIZE as u64 {
            return Err(HostError::InputOutputTooLarge);
        }
        let value = self.value(key).ok_or(HostError::StoreNotAValue)?;
        let start = usize::try_from(offset).map_err(|_| HostError::StoreInvalidAccess)?;
        if start >= value.len() {
            return Err(HostError::StoreInvalidAccess);
        }
        let end = start
            .saturating_add(usize::try_from(max_bytes).unwrap_or(MAX_IO_SIZE))
            .min(value.len());
        value.get(start..end).ok_or(HostError::StoreInvalidAccess)
    }

    /// Writes `bytes` into the value at `key` from `offset`, growing it as
    /// needed; a missing value starts empty. `edit_readonly` lets the PVM
    /// itself write its own keys.
    pub fn write(
        &mut self,
        key: &Key,
        offset: u64,
        bytes: &[u8],
        edit_readonly: bool,
    ) -> Result<(), HostError> {
        let current = self.value(key).map_or(0, |v| v.len());
        if current
            .checked_add(bytes.len())
            .is_none_or(|n| n > MAX_VALUE_SIZE)
        {
            return Err(HostError::StoreValueSizeExceeded);
        }
        if key.readonly && !edit_readonly {
            return Err(HostError::StoreReadonlyValue);
        }
        if bytes.len() > MAX_IO_SIZE {
            return Err(HostError::InputOutputTooLarge);
        }
        let start = usize::try_from(offset).map_err(|_| HostError::StoreInvalidAccess)?;
        if start > current {
            return Err(HostError::StoreInvalidAccess);
        }
        let node = self.node_mut(&key.steps);
        let value = Arc::make_mut(node.value.get_or_insert_with(Default::default));
        let end = start + bytes.len();
        if end > value.len() {
            value.resize(end, 0);
        }
        if let Some(dst) = value.get_mut(start..end) {
            dst.copy_from_slice(bytes);
        }
        Ok(())
    }

    /// Replaces the value at `key` whole, for the PVM's own bookkeeping.
    pub fn set(&mut self, key: &Key, value: Vec<u8>) {
        self.node_mut(&key.steps).value = Some(Arc::new(value));
    }

    /// Removes `key` and everything under it.
    pub fn delete(&mut self, key: &Key, edit_readonly: bool) -> Result<(), HostError> {
        if key.readonly && !edit_readonly {
            return Err(HostError::StoreReadonlyValue);
        }
        self.set_subtree(&key.steps, None);
        Ok(())
    }

    /// Removes the value at `key`, keeping what is under it.
    pub fn delete_value(&mut self, key: &Key, edit_readonly: bool) -> Result<(), HostError> {
        if key.readonly && !edit_readonly {
            return Err(HostError::StoreReadonlyValue);
        }
        let Some(node) = self.node(&key.steps) else {
            return Ok(());
        };
        if node.value.is_none() {
            return Ok(());
        }
        let mut replacement = Node::clone(node);
        replacement.value = None;
        self.set_subtree(&key.steps, Some(Arc::new(replacement)));
        Ok(())
    }

    /// Copies the subtree at `from` over `to`.
    pub fn copy(&mut self, from: &Key, to: &Key) -> Result<(), HostError> {
        if to.readonly {
            return Err(HostError::StoreReadonlyValue);
        }
        let subtree = self.node(&from.steps).cloned();
        match subtree {
            Some(n) if !n.is_empty() => {
                self.set_subtree(&to.steps, Some(n));
                Ok(())
            }
            _ => Err(HostError::StoreNotANode),
        }
    }

    /// Moves the subtree at `from` over `to`.
    pub fn move_tree(&mut self, from: &Key, to: &Key) -> Result<(), HostError> {
        if from.readonly || to.readonly {
            return Err(HostError::StoreReadonlyValue);
        }
        let subtree = self.node(&from.steps).cloned();
        match subtree {
            Some(n) if !n.is_empty() => {
                self.set_subtree(&from.steps, None);
                self.set_subtree(&to.steps, Some(n));
                Ok(())
            }
            _ => Err(HostError::StoreNotANode),
        }
    }

    /// The Merkle hash of the whole tree.
    pub fn root_hash(&self) -> [u8; 32] {
        self.root.hash()
    }

    /// The Merkle hash of the tree without the value at `steps`: the state
    /// hash leaves out the kernel's code, which the native mode has not.
    pub fn hash_without(&self, steps: &[&str]) -> [u8; 32] {
        /// The node's hash without the value at `steps`, or `None` if the
        /// node holds nothing else.
        fn go(node: &Node, steps: &[&str]) -> Option<[u8; 32]> {
            let Some((first, rest)) = steps.split_first() else {
                // The node itself is the value's: only its value goes.
                let mut n = Node::clone(node);
                n.value = None;
                return (!n.is_empty()).then(|| n.hash());
            };
            let Some(child) = node.children.get(*first) else {
                return Some(node.hash());
            };
            let inner = go(child, rest);
            if inner == Some(child.hash()) {
                return Some(node.hash());
            }
            let mut n = Node::clone(node);
            match inner {
                Some(h) => {
                    n.children.insert(
                        (*first).to_owned(),
                        Arc::new(Node {
                            value: child.value.clone(),
                            children: child.children.clone(),
                            hash: OnceLock::from(h),
                        }),
                    );
                }
                None => {
                    n.children.remove(*first);
                }
            }
            (!n.is_empty()).then(|| n.hash())
        }
        go(&self.root, steps).unwrap_or_else(|| Node::default().hash())
    }

    /// Every value in the tree, with its key, in key order.
    pub fn values(&self) -> Vec<(String, Arc<Vec<u8>>)> {
        let mut out = Vec::new();
        collect(&self.root, &mut String::new(), &mut out);
        out
    }

    /// The values that differ from `old` to `self`, in key order.
    pub fn changes_since(&self, old: &Tree) -> Vec<Change> {
        let mut out = Vec::new();
        diff(
            Some(&old.root),
            Some(&self.root),
            &mut String::new(),
            &mut out,
        );
        out
    }

    /// Sets `key` (a path as text) to `value`, or removes the value; used to
    /// rebuild a tree from stored rows.
    pub fn apply(&mut self, path: &str, value: Option<Arc<Vec<u8>>>) -> Result<(), HostError> {
        let key = Key::parse_str(path)?;
        match value {
            Some(v) => self.node_mut(&key.steps).value = Some(v),
            None => self.delete_value(&key, true)?,
        }
        Ok(())
    }
}

fn collect(node: &Node, path: &mut String, out: &mut Vec<(String, Arc<Vec<u8>>)>) {
    if let Some(v) = &node.value {
        out.push((path.clone(), v.clone()));
    }
    for (name, child) in &node.children {
        let len = path.len();
        path.push('/');
        path.push_str(name);
        collect(child, path, out);
        path.truncate(len);
    }
}

fn diff(
    old: Option<&Arc<Node>>,
    new: Option<&Arc<Node>>,
    path: &mut String,
    out: &mut Vec<Change>,
) {
    if let (Some(a), Some(b)) = (old, new) {
        if Arc::ptr_eq(a, b) {
            return;
        }
    }
    let old_value = old.and_then(|n| n.value.as_ref());
    let new_value = new.and_then(|n| n.value.as_ref());
    match (old_value, new_value) {
        (Some(a), Some(b)) if Arc::ptr_eq(a, b) || a == b => {}
        (None, None) => {}
        (_, b) => out.push((path.clone(), b.cloned())),
    }
    let empty = BTreeMap::new();
    let old_children = old.map_or(&empty, |n| &n.children);
    let new_children = new.map_or(&empty, |n| &n.children);
    let mut names: Vec<&String> = old_children.keys().chain(new_children.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let len = path.len();
        path.push('/');
        path.push_str(name);
        diff(old_children.get(name), new_children.get(name), path, out);
        path.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse_str(s).unwrap()
    }

    #[test]
    fn keys_follow_the_pvm_syntax() {
        assert!(Key::parse_str("/a/b-c/d_e.f/0").is_ok());
        assert_eq!(Key::parse_str("a/b"), Err(HostError::StoreInvalidKey));
        assert_eq!(Key::parse_str("/a//b"), Err(HostError::StoreInvalidKey));
        assert_eq!(Key::parse_str("/a/"), Err(HostError::StoreInvalidKey));
        assert_eq!(Key::parse_str("/a b"), Err(HostError::StoreInvalidKey));
        assert_eq!(Key::parse_str("/"), Err(HostError::StoreInvalidKey));
        let long = format!("/{}", "a".repeat(MAX_KEY_LENGTH));
        assert_eq!(Key::parse_str(&long), Err(HostError::StoreKeyTooLarge));
        let longest = format!("/{}", "a".repeat(MAX_KEY_LENGTH - 1));
        assert!(Key::parse_str(&longest).is_ok());
        assert!(key("/readonly/kernel").is_readonly());
        assert!(!key("/readonlyx").is_readonly());
        assert_eq!(key("/a/b").path(), "/a/b");
    }

    #[test]
    fn writes_grow_values_and_reads_stay_in_bounds() {
        let mut t = Tree::new();
        let k = key("/a/b");
        t.write(&k, 0, b"hello", false).unwrap();
        t.write(&k, 5, b" world", false).unwrap();
        t.write(&k, 0, b"J", false).unwrap();
        assert_eq!(t.read(&k, 0, 100).unwrap(), b"Jello world");
        assert_eq!(t.read(&k, 6, 3).unwrap(), b"wor");
        assert_eq!(t.read(&k, 11, 3), Err(HostError::StoreInvalidAccess));
        assert_eq!(t.read(&k, 0, 2049), Err(HostError::InputOutputTooLarge));
        assert_eq!(
            t.write(&k, 12, b"x", false),
            Err(HostError::StoreInvalidAccess)
        );
        assert_eq!(
            t.write(&k, 0, &[0; MAX_IO_SIZE + 1], false),
            Err(HostError::InputOutputTooLarge)
        );
        assert_eq!(t.read(&key("/a"), 0, 1), Err(HostError::StoreNotAValue));
        assert_eq!(t.value_size(&k), Ok(11));
        assert_eq!(
            t.write(&key("/readonly/x"), 0, b"x", false),
            Err(HostError::StoreReadonlyValue)
        );
        t.write(&key("/readonly/x"), 0, b"x", true).unwrap();
        // An empty value exists.
        t.write(&key("/e"), 0, b"", false).unwrap();
        assert_eq!(t.has(&key("/e")), tezos_smart_rollup_core::VALUE_TYPE_VALUE);
    }

    #[test]
    fn has_counts_and_lists_like_the_pvm() {
        let mut t = Tree::new();
        t.write(&key("/a"), 0, b"1", false).unwrap();
        t.write(&key("/a/x"), 0, b"2", false).unwrap();
        t.write(&key("/a/B"), 0, b"3", false).unwrap();
        t.write(&key("/b/c"), 0, b"4", false).unwrap();
        assert_eq!(t.has(&key("/a")), 3);
        assert_eq!(t.has(&key("/b")), 2);
        assert_eq!(t.has(&key("/b/c")), 1);
        assert_eq!(t.has(&key("/z")), 0);
        assert_eq!(t.count_subtrees(&key("/a")), 3);
        assert_eq!(t.count_subtrees(&key("/z")), 0);
        assert_eq!(t.list(&key("/a")), vec!["", "B", "x"]);
        t.delete_value(&key("/a"), false).unwrap();
        assert_eq!(t.has(&key("/a")), 2);
        t.delete(&key("/a"), false).unwrap();
        assert_eq!(t.has(&key("/a")), 0);
        // Removing the last value prunes the empty parents.
        t.delete_value(&key("/b/c"), false).unwrap();
        assert_eq!(t.has(&key("/b")), 0);
        assert!(t.values().is_empty());
    }

    #[test]
    fn copy_and_move_take_whole_subtrees() {
        let mut t = Tree::new();
        t.write(&key("/s/a"), 0, b"1", false).unwrap();
        t.write(&key("/s/b/c"), 0, b"2", false).unwrap();
        t.write(&key("/t/old"), 0, b"gone", false).unwrap();
        t.copy(&key("/s"), &key("/t")).unwrap();
        assert_eq!(t.read(&key("/t/b/c"), 0, 10).unwrap(), b"2");
        assert_eq!(t.has(&key("/t/old")), 0);
        t.write(&key("/t/a"), 0, b"9", false).unwrap();
        assert_eq!(t.read(&key("/s/a"), 0, 10).unwrap(), b"1");
        t.move_tree(&key("/t"), &key("/u/v")).unwrap();
        assert_eq!(t.has(&key("/t")), 0);
        assert_eq!(t.read(&key("/u/v/a"), 0, 10).unwrap(), b"9");
        assert_eq!(
            t.copy(&key("/nope"), &key("/x")),
            Err(HostError::StoreNotANode)
        );
        assert_eq!(
            t.move_tree(&key("/readonly"), &key("/x")),
            Err(HostError::StoreReadonlyValue)
        );
        assert_eq!(
            t.copy(&key("/s"), &key("/readonly/s")),
            Err(HostError::StoreReadonlyValue)
        );
    }

    #[test]
    fn changes_and_hashes_follow_the_values() {
        let mut t = Tree::new();
        t.write(&key("/s/a"), 0, b"1", false).unwrap();
        t.write(&key("/s/b"), 0, b"2", false).unwrap();
        let before = t.clone();
        let h0 = t.root_hash();
        // A snapshot copied and dropped within a level leaves no change.
        t.copy(&key("/s"), &key("/backup")).unwrap();
        t.write(&key("/s/a"), 0, b"3", false).unwrap();
        t.write(&key("/s/c"), 0, b"4", false).unwrap();
        t.delete(&key("/s/b"), false).unwrap();
        t.delete(&key("/backup"), false).unwrap();
        let changes: Vec<(String, Option<Vec<u8>>)> = t
            .changes_since(&before)
            .into_iter()
            .map(|(k, v)| (k, v.map(|v| v.to_vec())))
            .collect();
        assert_eq!(
            changes,
            vec![
                ("/s/a".to_owned(), Some(b"3".to_vec())),
                ("/s/b".to_owned(), None),
                ("/s/c".to_owned(), Some(b"4".to_vec())),
            ]
        );
        assert_ne!(t.root_hash(), h0);
        // The same values give the same hash however they were written.
        let mut rebuilt = Tree::new();
        for (k, v) in t.values() {
            rebuilt.apply(&k, Some(v)).unwrap();
        }
        assert_eq!(rebuilt.root_hash(), t.root_hash());
        t.write(&key("/s/a"), 0, b"1", false).unwrap();
        t.write(&key("/s/b"), 0, b"2", false).unwrap();
        t.delete(&key("/s/c"), false).unwrap();
        assert_eq!(t.root_hash(), h0);
    }

    #[test]
    fn the_hash_without_a_value_ignores_only_that_value() {
        let mut with = Tree::new();
        with.write(&key("/kernel/boot.wasm"), 0, b"code", false)
            .unwrap();
        with.write(&key("/kernel/env/x"), 0, b"1", false).unwrap();
        with.write(&key("/s"), 0, b"1", false).unwrap();
        let mut without = Tree::new();
        without
            .write(&key("/kernel/env/x"), 0, b"1", false)
            .unwrap();
        without.write(&key("/s"), 0, b"1", false).unwrap();
        let steps = ["kernel", "boot.wasm"];
        assert_eq!(with.hash_without(&steps), without.hash_without(&steps));
        assert_ne!(with.root_hash(), without.root_hash());
        without.write(&key("/s"), 0, b"2", false).unwrap();
        assert_ne!(with.hash_without(&steps), without.hash_without(&steps));
        let mut bare = Tree::new();
        bare.write(&key("/s"), 0, b"1", false).unwrap();
        let mut only_code = bare.clone();
        only_code
            .write(&key("/kernel/boot.wasm"), 0, b"c", false)
            .unwrap();
        assert_eq!(bare.hash_without(&steps), only_code.hash_without(&steps));
    }
}
