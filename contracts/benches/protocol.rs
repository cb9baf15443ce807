//! Protocol benchmarks.
fn main() {}
