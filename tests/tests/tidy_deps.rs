//! Keeps the crate graph's architecture invariants (ARCHITECTURE.md, `ledger/client/`):
//!
//! - only the binary (`picket`) and this test harness (`picket-tests`) depend on the ledger
//!   server (`picket-ledger`); every other caller depends on the core and the client;
//! - the ledger crates depend on no other `picket-*` crate (gateway, API, load tester, …), and
//!   inward only: the core on no `picket-*` crate, the client on the core, the server on the
//!   core and the client;
//! - the payment sandbox (`picket-sandbox-pay`) depends on no `picket-*` crate but the Toss wire
//!   types (`picket-toss-wire`, which depends on none), and only the binary and this harness
//!   depend on the sandbox: the production adapter shares nothing with it but the wire types;
//! - the payments crate (`picket-payments`, the provider interface and the Toss adapter) depends
//!   on no `picket-*` crate but the wire types: never on the sandbox it is tested against.
//!
//! - the ticket codes' pure core (`picket-tickets`) depends on no `picket-*` crate but the ledger
//!   core's id types: the scanner and the services share it, and it knows none of them.
//!
//! - the notifier (`picket-notifier`) depends on no `picket-*` crate but the ledger core and
//!   client and the API (whose store holds the inbox).
//!
//! - the browser UI's crate (`picket-web`, the built `admin-web/dist` embedded and served)
//!   depends on no `picket-*` crate: it knows paths and files, never a service; the binary puts
//!   it beside the API.
//!
//! - the process supervisor (`picket-cluster`, behind `picket cluster` and the harness's servers)
//!   depends on no `picket-*` crate (it runs the binary), and only the binary and this harness
//!   depend on it: no service links a supervisor.
//!
//! Members come from the root Cargo.toml's `workspace.members`, so a new crate is covered as soon
//! as it joins the workspace.

use std::path::{Path, PathBuf};

/// Crates that may depend on the ledger server.
const SERVER_USERS: [&str; 2] = ["picket", "picket-tests"];
const SERVER: &str = "picket-ledger";
const CORE: &str = "picket-ledger-core";
const CLIENT: &str = "picket-ledger-client";
/// The dependency tables a manifest may have (also under `[target.'cfg(…)']`).
const SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// One forbidden edge of the crate graph.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    krate: String,
    dependency: String,
    section: String,
    rule: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} depends on {} (in [{}]): {}",
            self.krate, self.dependency, self.section, self.rule
        )
    }
}

/// The `picket-*` crates `krate` may depend on when it is a ledger crate; `None` for the others.
fn ledger_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    match krate {
        CORE => Some(&[]),
        CLIENT => Some(&[CORE]),
        SERVER => Some(&[CORE, CLIENT]),
        _ => None,
    }
}

const EDGE: &str = "picket-edge";
const ROOM: &str = "picket-room";
const GATEWAY: &str = "picket-gateway";
const API: &str = "picket-api";

/// The `picket-*` crates `krate` may depend on when it is one of the edge's crates; `None` for
/// the others. The gateway and the API share the edge's and the room's crates and never depend
/// on each other: the binary puts them on one listener.
fn edge_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    match krate {
        EDGE | ROOM => Some(&[CORE]),
        GATEWAY | API => Some(&[CORE, CLIENT, EDGE, ROOM, PAYMENTS, TICKETS]),
        _ => None,
    }
}

const PAYMENTS: &str = "picket-payments";
const TOSS_WIRE: &str = "picket-toss-wire";
const SANDBOX: &str = "picket-sandbox-pay";
/// Crates that may depend on the payment sandbox.
const SANDBOX_USERS: [&str; 2] = ["picket", "picket-tests"];

/// The `picket-*` crates `krate` may depend on when it is a payments crate; `None` for the others.
fn payments_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    match krate {
        TOSS_WIRE => Some(&[]),
        SANDBOX => Some(&[TOSS_WIRE]),
        PAYMENTS => Some(&[TOSS_WIRE, CORE, CLIENT]),
        _ => None,
    }
}

const TICKETS: &str = "picket-tickets";
const NOTIFIER: &str = "picket-notifier";

/// The `picket-*` crates the notifier may depend on: it reads the ledger (core and client) and
/// writes the API's store; never the ledger server, the gateway or payments.
fn notifier_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    (krate == NOTIFIER).then_some(&[CORE, CLIENT, API])
}

const WEB: &str = "picket-web";
const CLUSTER: &str = "picket-cluster";
/// Crates that may depend on the process supervisor.
const CLUSTER_USERS: [&str; 2] = ["picket", "picket-tests"];

/// The `picket-*` crates the browser UI's crate may depend on: none.
fn web_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    (krate == WEB).then_some(&[])
}

/// The `picket-*` crates `krate` may depend on when it is the tickets' core; `None` otherwise.
fn tickets_crate_allows(krate: &str) -> Option<&'static [&'static str]> {
    (krate == TICKETS).then_some(&[CORE])
}

/// Every dependency of a manifest as (section, package name): a renamed dependency
/// (`alias = { package = "…" }`) counts under its package's name.
fn dependencies(manifest: &toml::Table) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut tables = vec![(String::new(), manifest)];
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        for (cfg, table) in targets {
            if let Some(table) = table.as_table() {
                tables.push((format!("target.{cfg}."), table));
            }
        }
    }
    for (prefix, table) in tables {
        for section in SECTIONS {
            let Some(deps) = table.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for (key, spec) in deps {
                let package = spec
                    .as_table()
                    .and_then(|s| s.get("package"))
                    .and_then(|p| p.as_str())
                    .unwrap_or(key);
                found.push((format!("{prefix}{section}"), package.to_owned()));
            }
        }
    }
    found
}

/// The forbidden edges of one crate.
fn violations(krate: &str, manifest: &toml::Table) -> Vec<Violation> {
    let mut found = Vec::new();
    for (section, dependency) in dependencies(manifest) {
        let rule = if dependency == SERVER && !SERVER_USERS.contains(&krate) {
            Some(
                "only the binary `picket` and the test harness `picket-tests` may depend on the ledger server; depend on picket-ledger-core and picket-ledger-client",
            )
        } else if let Some(allowed) = ledger_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some(match krate {
                CORE => "picket-ledger-core depends on no picket-* crate",
                CLIENT => {
                    "picket-ledger-client depends on picket-ledger-core only (never on the server, the gateway, the API or the load tester)"
                }
                _ => {
                    "picket-ledger depends on picket-ledger-core and picket-ledger-client only (never on the gateway, the API or the load tester)"
                }
            })
        } else if let Some(allowed) = edge_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some(match krate {
                EDGE | ROOM => {
                    "picket-edge and picket-room depend on picket-ledger-core only among picket-* crates"
                }
                _ => {
                    "the gateway and the API depend on the ledger core and client, picket-edge, picket-room and picket-payments only (never on each other)"
                }
            })
        } else if dependency == SANDBOX && !SANDBOX_USERS.contains(&krate) {
            Some(
                "only the binary `picket` and the test harness `picket-tests` may depend on the payment sandbox; share the wire types (picket-toss-wire) instead",
            )
        } else if let Some(allowed) = payments_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some(match krate {
                TOSS_WIRE => "picket-toss-wire depends on no picket-* crate",
                SANDBOX => {
                    "picket-sandbox-pay depends on picket-toss-wire only among picket-* crates"
                }
                _ => {
                    "picket-payments depends on picket-toss-wire and the ledger core and client only (never on the sandbox, the gateway or the API)"
                }
            })
        } else if let Some(allowed) = tickets_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some("picket-tickets depends on picket-ledger-core only among picket-* crates")
        } else if dependency == CLUSTER && !CLUSTER_USERS.contains(&krate) {
            Some(
                "only the binary `picket` and the test harness `picket-tests` may depend on picket-cluster: services never link the supervisor",
            )
        } else if krate == CLUSTER && dependency.starts_with("picket") {
            Some("picket-cluster depends on no picket-* crate: it runs the binary, it links none")
        } else if let Some(allowed) = web_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some("picket-web depends on no picket-* crate (the binary puts it beside the API)")
        } else if let Some(allowed) = notifier_crate_allows(krate)
            && dependency.starts_with("picket")
            && !allowed.contains(&dependency.as_str())
        {
            Some(
                "picket-notifier depends on the ledger core and client and picket-api only (it never writes to the ledger)",
            )
        } else {
            None
        };
        if let Some(rule) = rule {
            found.push(Violation {
                krate: krate.to_owned(),
                dependency,
                section,
                rule,
            });
        }
    }
    found
}

fn read_manifest(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()))
}

/// Every workspace member's manifest path, from the root's `workspace.members`.
fn member_manifests(root: &Path) -> Vec<PathBuf> {
    let manifest = read_manifest(&root.join("Cargo.toml"));
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .expect("the root Cargo.toml lists workspace.members");
    members
        .iter()
        .map(|member| {
            let member = member.as_str().expect("members are paths");
            // Globs would hide members from this test; the workspace names each one.
            assert!(!member.contains('*'), "list members one by one: {member}");
            root.join(member).join("Cargo.toml")
        })
        .collect()
}

fn package_name(manifest: &toml::Table, path: &Path) -> String {
    manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_else(|| panic!("{} names no package", path.display()))
        .to_owned()
}

#[test]
fn only_the_binary_and_the_harness_depend_on_the_ledger_server_and_ledger_crates_point_inward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifests = member_manifests(&root);
    let mut names = Vec::new();
    let mut found = Vec::new();
    for path in &manifests {
        let manifest = read_manifest(path);
        let name = package_name(&manifest, path);
        found.extend(violations(&name, &manifest));
        names.push(name);
    }
    println!("workspace members checked: {}", names.join(", "));
    for expected in [
        CORE,
        CLIENT,
        SERVER,
        EDGE,
        ROOM,
        GATEWAY,
        API,
        TOSS_WIRE,
        SANDBOX,
        PAYMENTS,
        TICKETS,
        WEB,
        CLUSTER,
        "picket",
        "picket-tests",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} is not a workspace member any more: update this test"
        );
    }
    let listed: Vec<String> = found.iter().map(|v| format!("  {v}")).collect();
    assert!(
        found.is_empty(),
        "{} forbidden dependencies:\n{}",
        found.len(),
        listed.join("\n")
    );
}

#[test]
fn the_checker_finds_each_forbidden_edge() {
    let manifest = |text: &str| -> toml::Table { text.parse().expect("TOML") };
    let gateway = manifest(
        "[dependencies]\npicket-ledger.workspace = true\npicket-ledger-client.workspace = true\n",
    );
    let found = violations("picket-gateway", &gateway);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].dependency.as_str(), found[0].section.as_str()),
        (SERVER, "dependencies")
    );
    let renamed = manifest("[dev-dependencies]\nledger = { package = \"picket-ledger\" }\n");
    assert_eq!(violations("picket-api", &renamed).len(), 1);
    let harness = manifest("[dependencies]\npicket-ledger.workspace = true\n");
    assert!(violations("picket-tests", &harness).is_empty());
    assert!(violations("picket", &harness).is_empty());
    let client = manifest(
        "[target.'cfg(unix)'.build-dependencies]\npicket-gateway.workspace = true\n\
         [dependencies]\npicket-ledger-core.workspace = true\n",
    );
    let found = violations(CLIENT, &client);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].section, "target.cfg(unix).build-dependencies");
    let core = manifest("[dependencies]\npicket-ledger-client.workspace = true\n");
    assert_eq!(violations(CORE, &core).len(), 1);
    let client_on_server = manifest("[dependencies]\npicket-ledger.workspace = true\n");
    assert_eq!(violations(CLIENT, &client_on_server).len(), 1);
    let server = manifest(
        "[dependencies]\npicket-ledger-core.workspace = true\npicket-ledger-client.workspace = true\npicket-api.workspace = true\n",
    );
    let found = violations(SERVER, &server);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, "picket-api");
    let api = manifest(
        "[dependencies]\npicket-edge.workspace = true\npicket-room.workspace = true\n\
         picket-ledger-client.workspace = true\npicket-gateway.workspace = true\n",
    );
    let found = violations(API, &api);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, GATEWAY);
    let gateway_on_api = manifest("[dependencies]\npicket-api.workspace = true\n");
    assert_eq!(violations(GATEWAY, &gateway_on_api).len(), 1);
    let edge = manifest(
        "[dependencies]\npicket-ledger-core.workspace = true\npicket-room.workspace = true\n",
    );
    assert_eq!(violations(EDGE, &edge).len(), 1);
    let sandbox = manifest(
        "[dependencies]\npicket-toss-wire.workspace = true\npicket-ledger-core.workspace = true\n",
    );
    let found = violations(SANDBOX, &sandbox);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, CORE);
    let adapter_on_sandbox = manifest("[dev-dependencies]\npicket-sandbox-pay.workspace = true\n");
    assert_eq!(violations(API, &adapter_on_sandbox).len(), 1);
    assert!(violations("picket", &adapter_on_sandbox).is_empty());
    let found = violations(PAYMENTS, &adapter_on_sandbox);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].rule.contains("sandbox"), "{}", found[0]);
    // The refund worker and reconciliation read the journal through the ledger's client.
    let payments = manifest(
        "[dependencies]\npicket-toss-wire.workspace = true\npicket-ledger-core.workspace = true\npicket-ledger-client.workspace = true\npicket-gateway.workspace = true\n",
    );
    let found = violations(PAYMENTS, &payments);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, "picket-gateway");
    let wire = manifest("[dependencies]\npicket-ledger-core.workspace = true\n");
    assert_eq!(violations(TOSS_WIRE, &wire).len(), 1);
    let tickets = manifest(
        "[dependencies]\npicket-ledger-core.workspace = true\n[dev-dependencies]\npicket-edge.workspace = true\n",
    );
    let found = violations(TICKETS, &tickets);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, EDGE);
    assert!(
        violations(
            API,
            &manifest("[dependencies]\npicket-tickets.workspace = true\n")
        )
        .is_empty()
    );
    let web = manifest("[dependencies]\naxum.workspace = true\npicket-api.workspace = true\n");
    let found = violations(WEB, &web);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].dependency, API);
}

/// The notifier only reads the ledger (ARCHITECTURE.md, "Architecture invariants"): its sources
/// never submit a command. It depends on the client, which could, so this reads its code.
#[test]
fn the_notifier_never_writes_to_the_ledger() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("notifier/src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("notifier/src").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source");
        let code: String = source
            .lines()
            .map(|line| line.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        for word in [".submit(", "Command::", "Request {"] {
            assert!(
                !code.contains(word),
                "{} uses {word}: the notifier never writes to the ledger",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "no notifier sources found in {}",
        dir.display()
    );
}
