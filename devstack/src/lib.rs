//! The whole pledgeroll stack on one machine, for developers and for the
//! end-to-end tests: the sandbox rollup node (`pledgeroll-sandbox`), the
//! indexer mirroring it and the directory over that mirror ([`stack`]), and
//! a demo scenario for a fresh rollup ([`demo`]).
//!
//! It sits apart from the node: the sandbox crate is the rollup node alone,
//! and this crate wires it to the mirror and the website.

pub mod demo;
pub mod stack;
