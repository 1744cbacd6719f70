//! Architecture test: the tickets' core stays pure, like the ledger's. No async runtime, clock,
//! randomness, filesystem, network, threads or processes, in code or as a dependency: time and
//! random bytes are arguments, so the scanner, the API and the tests all get the same answers.

use std::path::Path;

/// Words that would mean the crate does I/O or reads time or randomness.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "std::time",
    "SystemTime",
    "Instant",
    "rand::",
    "thread_rng",
    "std::net",
    "std::fs",
    "std::thread",
    "std::process",
    "std::env",
    "getrandom",
    "OsRng",
];

/// Dependencies the crate may have: ids, encodings and cryptography without I/O.
const ALLOWED_DEPENDENCIES: &[&str] = &[
    "picket-ledger-core",
    "serde",
    "postcard",
    "ed25519-dalek",
    "hmac",
    "sha2",
    "subtle",
    "aes-gcm",
    "qrcode",
    "png",
];

fn forbidden_in(source: &str) -> Vec<&'static str> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    FORBIDDEN
        .iter()
        .copied()
        .filter(|word| code.contains(word))
        .collect()
}

fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").to_owned();
            if !name.is_empty() && !name.starts_with('#') {
                names.push(name);
            }
        }
    }
    names
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable source dir")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_crate_does_no_io_and_reads_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() >= 8, "found the crate's sources");
    for file in files {
        let source = std::fs::read_to_string(&file).expect("readable");
        let found = forbidden_in(&source);
        assert!(
            found.is_empty(),
            "{} uses {found:?}: picket-tickets must stay pure",
            file.display()
        );
    }
}

#[test]
fn the_crate_depends_only_on_pure_libraries() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("readable manifest");
    let deps = dependencies(&manifest);
    assert!(!deps.is_empty());
    for dep in deps {
        assert!(
            ALLOWED_DEPENDENCIES.contains(&dep.as_str()),
            "picket-tickets must not depend on {dep}"
        );
    }
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert_eq!(
        forbidden_in("use std::time::SystemTime;"),
        ["std::time", "SystemTime"]
    );
    assert_eq!(forbidden_in("let now = Instant::now();"), ["Instant"]);
    assert!(forbidden_in("// tokio is mentioned only in a comment").is_empty());
    assert_eq!(
        dependencies(
            "[dependencies]\nserde.workspace = true\ntokio = \"1\"\n[dev-dependencies]\nproptest = \"1\""
        ),
        ["serde", "tokio"]
    );
}
