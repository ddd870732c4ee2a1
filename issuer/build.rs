//! `sqlx::migrate!` embeds `../migrations/*` at compile time; without this, adding a migration
//! file would not rebuild the crate and a cached binary would run an old schema.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
