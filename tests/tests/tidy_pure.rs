//! Architecture test: the pure cores stay pure (ARCHITECTURE.md, "Architecture invariants"). No
//! async runtime, database, cache, clock, randomness, filesystem, network, threads or processes,
//! in code or as a dependency: time, ids and random bytes are arguments, so each core's
//! simulation replays any run from its seed and the scanner, the API and the tests get the same
//! answers. One check for every pure core, so a new core is one more row in [`PURE`].

use std::path::{Path, PathBuf};

/// Words that would mean code does I/O or reads time or randomness.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "redis",
    "std::time",
    "SystemTime",
    "Instant",
    "rand::",
    "thread_rng",
    "getrandom",
    "OsRng",
    "std::net",
    "std::fs",
    "std::thread",
    "std::process",
    "std::env",
];

/// A pure core: where its sources are, words forbidden to it besides [`FORBIDDEN`], and the
/// dependencies it may have (`None` when only part of a crate is the core, so its manifest
/// speaks for the shell too).
struct Pure {
    name: &'static str,
    /// A source directory (every `.rs` under it) or one file, from the workspace root.
    sources: &'static str,
    /// At least this many files, so a moved directory fails instead of checking nothing.
    files_min: usize,
    also_forbidden: &'static [&'static str],
    /// The crate's manifest, from the workspace root, and the dependencies it may list.
    dependencies: Option<(&'static str, &'static [&'static str])>,
}

const PURE: &[Pure] = &[
    Pure {
        name: "the ledger core",
        sources: "ledger/core/src",
        files_min: 5,
        also_forbidden: &[],
        dependencies: Some(("ledger/core/Cargo.toml", &["serde"])),
    },
    Pure {
        name: "the tickets core",
        sources: "tickets/core/src",
        files_min: 8,
        also_forbidden: &[],
        dependencies: Some((
            "tickets/core/Cargo.toml",
            &[
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
            ],
        )),
    },
    Pure {
        // The notifier's crate is its shell too: its manifest speaks for both.
        name: "the notifier's core",
        sources: "notifier/src/compose.rs",
        files_min: 1,
        also_forbidden: &["std::sync", "sqlx", "picket_api", "picket_ledger_client"],
        dependencies: None,
    },
    Pure {
        // `new_seed` is the one function of the room's `draw` that draws randomness; the core
        // may use the rest (pure hashing). Its shell shares state across tasks, the core never.
        name: "the waiting room's core",
        sources: "gateway/room/src/core.rs",
        files_min: 1,
        also_forbidden: &["new_seed", "std::sync"],
        dependencies: None,
    },
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The forbidden words `source` uses outside comments.
fn forbidden_in(source: &str, also: &[&'static str]) -> Vec<&'static str> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    FORBIDDEN
        .iter()
        .chain(also)
        .copied()
        .filter(|word| code.contains(word))
        .collect()
}

/// The names under `[dependencies]` of a manifest.
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

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_owned());
        return;
    }
    for entry in std::fs::read_dir(path)
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
fn the_cores_do_no_io_and_read_no_clock() {
    for core in PURE {
        let mut files = Vec::new();
        rust_files(&workspace().join(core.sources), &mut files);
        assert!(
            files.len() >= core.files_min,
            "found {}'s sources in {}",
            core.name,
            core.sources
        );
        for file in files {
            let source = std::fs::read_to_string(&file).expect("readable");
            let found = forbidden_in(&source, core.also_forbidden);
            assert!(
                found.is_empty(),
                "{} uses {found:?}: {} must stay pure",
                file.display(),
                core.name
            );
        }
    }
}

#[test]
fn the_cores_depend_only_on_pure_libraries() {
    for core in PURE {
        let Some((manifest, allowed)) = core.dependencies else {
            continue;
        };
        let manifest =
            std::fs::read_to_string(workspace().join(manifest)).expect("readable manifest");
        let deps = dependencies(&manifest);
        assert!(!deps.is_empty(), "found {}'s dependencies", core.name);
        for dep in deps {
            assert!(
                allowed.contains(&dep.as_str()),
                "{} must not depend on {dep}",
                core.name
            );
        }
    }
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert_eq!(
        forbidden_in("use std::time::SystemTime;", &[]),
        ["std::time", "SystemTime"]
    );
    assert_eq!(forbidden_in("let now = Instant::now();", &[]), ["Instant"]);
    assert_eq!(forbidden_in("redis::cmd(\"GET\")", &[]), ["redis"]);
    assert_eq!(
        forbidden_in("let seed = draw::new_seed();", &["new_seed"]),
        ["new_seed"]
    );
    assert!(forbidden_in("let seed = draw::new_seed();", &[]).is_empty());
    assert!(forbidden_in("// tokio is mentioned only in a comment", &[]).is_empty());
    assert_eq!(
        dependencies(
            "[dependencies]\nserde.workspace = true\ntokio = \"1\"\n[dev-dependencies]\nproptest = \"1\""
        ),
        ["serde", "tokio"]
    );
}
