// The migrations are embedded by `sqlx::migrate!`, which cannot tell cargo to watch them on
// stable Rust: without this an edited migration would not reach the next build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
