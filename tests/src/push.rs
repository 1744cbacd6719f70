//! A Web Push service for tests, and a browser's side of a subscription.
//!
//! [`PushService`] is a local HTTP server that takes RFC 8030 pushes at per-subscription
//! endpoints (`POST /push/<name>`), records each request's headers and body, and answers 201 or
//! what the test configured for that subscription (404, 410, 429 with `Retry-After`, 500, …).
//! [`BrowserKeys`] is what a browser makes when it subscribes (a P-256 key pair and a 16-byte
//! auth secret). What the server sent is checked by code no one here wrote: the Python package
//! `http-ece` decrypts the body ([`BrowserKeys::decrypt`]) and `cryptography` (its dependency)
//! verifies the VAPID token ([`verify_vapid`]); `scripts/test` installs `http-ece` (pinned).

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The `http-ece` the checks were written against (scripts/test installs this version).
pub const HTTP_ECE_VERSION: &str = "1.2.1";

/// One push the service took.
#[derive(Clone, Debug)]
pub struct Received {
    /// The subscription's name in the endpoint path.
    pub subscription: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// What the service answers pushes to one subscription with.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    answers: Mutex<HashMap<String, Answer>>,
}

/// A push service on a loopback port; stops when dropped.
pub struct PushService {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn take(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    shared.received.lock().expect("lock").push(Received {
        subscription: name.clone(),
        headers,
        body: body.to_vec(),
    });
    let answer = shared.answers.lock().expect("lock").get(&name).cloned();
    let answer = answer.unwrap_or(Answer {
        status: 201,
        retry_after: None,
    });
    let status = StatusCode::from_u16(answer.status).expect("a status");
    match answer.retry_after {
        Some(value) => (status, [("Retry-After", value)]).into_response(),
        None => status.into_response(),
    }
}

impl PushService {
    pub async fn start() -> PushService {
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route("/push/{name}", post(take))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        PushService {
            address,
            shared,
            task,
        }
    }

    /// The endpoint of subscription `name`.
    pub fn endpoint(&self, name: &str) -> String {
        format!("http://{}/push/{name}", self.address)
    }

    /// The origin every endpoint of this service has (a VAPID token's `aud`).
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    /// From now on pushes to `name` are answered `status` (with `Retry-After: retry_after`).
    pub fn answer(&self, name: &str, status: u16, retry_after: Option<&str>) {
        self.shared.answers.lock().expect("lock").insert(
            name.to_owned(),
            Answer {
                status,
                retry_after: retry_after.map(str::to_owned),
            },
        );
    }

    /// Every push taken so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }
}

/// A browser's keys for one subscription.
pub struct BrowserKeys {
    secret: p256::SecretKey,
    pub auth: [u8; 16],
}

impl BrowserKeys {
    pub fn generate() -> BrowserKeys {
        let secret = loop {
            if let Ok(secret) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break secret;
            }
        };
        BrowserKeys {
            secret,
            auth: rand::random(),
        }
    }

    /// The public key, uncompressed (`keys.p256dh`).
    pub fn p256dh(&self) -> [u8; 65] {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .try_into()
            .expect("65 bytes")
    }

    /// The subscription as the notifier sends to it.
    pub fn subscription(&self, endpoint: &str) -> picket_api::push::PushSubscription {
        picket_api::push::PushSubscription {
            endpoint: endpoint.to_owned(),
            p256dh: self.p256dh(),
            auth: self.auth,
        }
    }

    /// `PushSubscription.toJSON()` as a browser gives it.
    pub fn to_json(&self, endpoint: &str) -> Value {
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.p256dh()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    /// `body` (an `aes128gcm` push message) decrypted by `http-ece` with this browser's keys.
    pub fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        const SCRIPT: &str = r#"
import base64, sys, http_ece
from cryptography.hazmat.primitives.asymmetric import ec
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
key = ec.derive_private_key(int.from_bytes(d(sys.argv[1]), "big"), ec.SECP256R1())
body = sys.stdin.buffer.read()
sys.stdout.buffer.write(http_ece.decrypt(body, private_key=key, auth_secret=d(sys.argv[2]), version="aes128gcm"))
"#;
        python(
            SCRIPT,
            &[
                &URL_SAFE_NO_PAD.encode(self.secret.to_bytes()),
                &URL_SAFE_NO_PAD.encode(self.auth),
            ],
            body,
        )
    }
}

/// An `Authorization: vapid t=…, k=…` header verified by Python's `cryptography`: the token's
/// ES256 signature checked with the key `k`. Returns `{"header", "claims", "k"}`; panics when
/// the signature does not verify.
pub fn verify_vapid(authorization: &str) -> Value {
    const SCRIPT: &str = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
scheme, _, rest = sys.argv[1].partition(" ")
assert scheme == "vapid", scheme
params = dict(part.strip().split("=", 1) for part in rest.split(","))
header, claims, signature = params["t"].split(".")
key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), d(params["k"]))
signature = d(signature)
assert len(signature) == 64
der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
key.verify(der, (header + "." + claims).encode(), ec.ECDSA(hashes.SHA256()))
print(json.dumps({"header": json.loads(d(header)), "claims": json.loads(d(claims)), "k": params["k"]}))
"#;
    let out = python(SCRIPT, &[authorization], b"");
    serde_json::from_slice(&out).expect("the script's JSON")
}

/// Runs `script` with `python3` (`args`, `stdin`) and returns its standard output; panics with
/// its standard error when it fails, naming the package to install when `http_ece` is missing.
fn python(script: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/test needs it for the Web Push tests)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("written");
    let output = child.wait_with_output().expect("python3 ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'http_ece'"),
        "the Web Push tests need the Python package http-ece: pip install http-ece=={HTTP_ECE_VERSION} (scripts/test installs it)"
    );
    assert!(output.status.success(), "python3 failed: {stderr}");
    output.stdout
}
