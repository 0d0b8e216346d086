// Re-embed migrations whenever a migration file changes.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
