//! Build script: rebuild when a migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=src/store/migrations");
}
