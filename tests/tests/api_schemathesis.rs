//! The OpenAPI document describes exactly what the server does, as schemathesis (PyPI) proves it:
//! the API on its real PostgreSQL, with a member, a seller (its company, a venue and a published
//! show, so the seller's operations have data) and the operator token, and one `schemathesis run`
//! per role with every check and every phase (examples, coverage, fuzzing, and the stateful phase
//! that follows the document's links). Each run must find nothing. What the checks need to know
//! beyond the document (business rules a schema cannot state) is in the repository's
//! `schemathesis.toml`, each entry with its reason.
//!
//! Seeded (`SEED`); set `PICKET_SCHEMATHESIS_SEED` to try another seed.

use std::path::PathBuf;
use std::process::Command;

use picket_tests::api::{ApiSetup, OPERATOR};

/// The seed of every run: the same requests each time. (How many test cases each phase makes is
/// in `schemathesis.toml`: all three runs take a few minutes on 2 cores.)
const SEED: u64 = 20_261_130;

fn seed() -> u64 {
    std::env::var("PICKET_SCHEMATHESIS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED)
}

/// One `schemathesis run` as `role` with `token`; `excluded` operation ids are left out of it.
/// Its report when it found something.
fn run(
    schemathesis: &PathBuf,
    url: &str,
    role: &str,
    token: &str,
    excluded: &[&str],
) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let report = tempfile::tempdir().expect("report dir");
    let mut command = Command::new(schemathesis);
    command
        .arg("--config-file")
        .arg(root.join("schemathesis.toml"))
        .arg("run")
        .arg(url)
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--seed", &seed().to_string()])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .arg("--report-dir")
        .arg(report.path())
        .env("NO_COLOR", "1")
        .current_dir(report.path());
    for operation in excluded {
        command.args(["--exclude-operation-id", operation]);
    }
    let output = command.output().expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "schemathesis as {role} (seed {}) failed with {}:\n{stdout}\n{stderr}",
            seed(),
            output.status
        ));
    }
    eprintln!("schemathesis as {role}: passed\n{stdout}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_as_a_member_a_seller_and_the_operator() {
    let schemathesis = picket_tests::api::schemathesis_binary()
        .unwrap_or_else(|error| panic!("{error} (./scripts/test installs it)"));
    let setup = ApiSetup::start_postgres().await;
    // The payment routes as in production (checkout, the redirects, the webhook), not the 503
    // an API without a provider answers.
    setup.pay_through_sandbox();
    let (_, member) = setup.member("member@example.com").await;
    setup
        .published_show("seller@example.com", "123-45-67891")
        .await;
    let seller = setup.sign_in("seller@example.com").await;
    let url = format!("http://{}/api/openapi.json", setup.address);
    // Signing out revokes the run's own token, after which every operation would answer 401 and
    // the rest of the run would test nothing: the member's and seller's runs leave it out, and
    // the operator's run (whose token is no session) calls it.
    let runs = [
        ("member", member, vec!["signOut"]),
        ("seller", seller, vec!["signOut"]),
        ("operator", OPERATOR.to_owned(), vec![]),
    ];
    let mut failures = Vec::new();
    for (role, token, excluded) in runs {
        let schemathesis = schemathesis.clone();
        let url = url.clone();
        let outcome =
            tokio::task::spawn_blocking(move || run(&schemathesis, &url, role, &token, &excluded))
                .await
                .expect("the run finishes");
        failures.extend(outcome.err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
