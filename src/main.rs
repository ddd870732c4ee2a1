//! huren CLI (placeholder until the CLI module lands in this session).
fn main() {}
