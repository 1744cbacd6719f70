//! The crate embeds `dist/` (Vite's committed build) with `include_dir!`, which does not tell
//! cargo which files it read: this asks cargo to rebuild when anything under `dist/` changes,
//! and stops with a clear message when the build is missing.

fn main() {
    println!("cargo::rerun-if-changed=dist");
    let index = std::path::Path::new("dist/index.html");
    if !index.exists() {
        panic!(
            "admin-web/dist/index.html is missing: the built UI is committed; restore it with \
             `git checkout -- admin-web/dist` or rebuild it with `npm --prefix admin-web ci && \
             npm --prefix admin-web run build`"
        );
    }
}
