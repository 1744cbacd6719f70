//! Certificates for tests of TLS between services, made in the test (rcgen on ring): a private
//! CA and the certificates it issues, as PEM files in a temporary directory. The servers of the
//! harness (`picket-cluster`'s) serve them ([`ServerTls`], made from a [`CertFiles`]:
//! `Nats::start_with`, `Postgres::start_tls`, `Redis::start_tls`), and clients verify against
//! [`TestCa::ca_file`].

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

pub use picket_cluster::ServerTls;
use picket_cluster::error::io_error;

use crate::HarnessError;

/// A private certificate authority whose files live as long as it does.
pub struct TestCa {
    dir: tempfile::TempDir,
    issuer: Issuer<'static, KeyPair>,
    ca_file: PathBuf,
}

/// A certificate issued by a [`TestCa`]: its chain, its key and the CA that signed it (PEM
/// files).
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// A server serving `files`, not asking clients for certificates.
impl From<&CertFiles> for ServerTls {
    fn from(files: &CertFiles) -> ServerTls {
        ServerTls {
            cert: files.cert.clone(),
            key: files.key.clone(),
            ca: files.ca.clone(),
            verify_clients: false,
        }
    }
}

fn tls_error(what: &str) -> impl FnOnce(rcgen::Error) -> HarnessError + '_ {
    move |error| HarnessError::Io {
        what: what.to_owned(),
        source: std::io::Error::other(error.to_string()),
    }
}

impl TestCa {
    /// A new CA named `name` (its certificate's common name).
    pub fn new(name: &str) -> Result<TestCa, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("picket-tls-")
            .tempdir()
            .map_err(io_error("creating a temp dir"))?;
        let key = KeyPair::generate().map_err(tls_error("making a CA key"))?;
        let mut params = CertificateParams::new(Vec::<String>::new())
            .map_err(tls_error("making CA parameters"))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate = params
            .self_signed(&key)
            .map_err(tls_error("signing the CA certificate"))?;
        let ca_file = dir.path().join("ca.pem");
        write(&ca_file, &certificate.pem())?;
        Ok(TestCa {
            issuer: Issuer::new(params, key),
            ca_file,
            dir,
        })
    }

    /// The CA's certificate (PEM): what clients verify servers against.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A certificate for `names` (DNS names or IP addresses), good for servers and clients,
    /// written as `<file_name>.pem` and `<file_name>-key.pem`.
    pub fn issue(&self, file_name: &str, names: &[&str]) -> Result<CertFiles, HarnessError> {
        let key = KeyPair::generate().map_err(tls_error("making a key"))?;
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params =
            CertificateParams::new(names).map_err(tls_error("making certificate parameters"))?;
        params
            .distinguished_name
            .push(DnType::CommonName, file_name);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let certificate = params
            .signed_by(&key, &self.issuer)
            .map_err(tls_error("signing a certificate"))?;
        let files = CertFiles {
            cert: self.dir.path().join(format!("{file_name}.pem")),
            key: self.dir.path().join(format!("{file_name}-key.pem")),
            ca: self.ca_file.clone(),
        };
        write(&files.cert, &certificate.pem())?;
        write(&files.key, &key.serialize_pem())?;
        Ok(files)
    }

    /// A certificate for this machine's loopback names (`127.0.0.1`, `localhost`).
    pub fn issue_loopback(&self, file_name: &str) -> Result<CertFiles, HarnessError> {
        self.issue(file_name, &["127.0.0.1", "localhost"])
    }
}

fn write(path: &Path, text: &str) -> Result<(), HarnessError> {
    std::fs::write(path, text).map_err(io_error(format!("writing {}", path.display())))
}
