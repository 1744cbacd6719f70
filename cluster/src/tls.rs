//! What a server serves TLS with: paths of PEM files made elsewhere (by the operator, or by the
//! test harness's private CA). This crate makes no certificate.

use std::path::PathBuf;

/// A server's certificate and key, and the CA it verifies clients' certificates against when
/// `verify_clients` is set (PEM files): `Nats::start_with`, `Postgres::start_tls`,
/// `Redis::start_tls`.
#[derive(Clone, Debug)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
    /// Whether clients must present a certificate from `ca`.
    pub verify_clients: bool,
}
