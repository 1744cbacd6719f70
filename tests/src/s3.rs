//! A private S3-compatible object store for a test: moto's `moto_server`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::HarnessError;
use picket_cluster::process::{
    ArgsFn, Dir, PROBE_ANSWER_WAIT_MAX, Process, find_binary, log_tail, pip_user_dirs,
};

/// A private S3-compatible object store: moto's `moto_server` (the Python package
/// `moto[server]`), serving path-style S3 at `http://127.0.0.1:<port>`. It keeps objects in
/// memory (a kill loses them), accepts any credentials and does not check signatures.
pub struct MotoS3(Process);

impl MotoS3 {
    /// Credentials to sign with (moto takes any).
    pub const ACCESS_KEY_ID: &'static str = "picket-test-key";
    pub const SECRET_ACCESS_KEY: &'static str = "picket-test-secret";
    /// moto's default region.
    pub const REGION: &'static str = "us-east-1";

    /// Starts `moto_server` on a free loopback port; ready once it answers an HTTP request.
    pub fn start() -> Result<Self, HarnessError> {
        let binary =
            find_binary("moto_server", "moto[server]", &pip_user_dirs()).map_err(|_| {
                HarnessError::MissingPython {
                    binary: "moto_server",
                    package: "moto[server]",
                }
            })?;
        let args: ArgsFn = Box::new(|_: &Path, port: u16| {
            ["-H", "127.0.0.1", "-p", &port.to_string()]
                .map(String::from)
                .to_vec()
        });
        Process::start_binary("moto", binary, Dir::temp("moto", None)?, args, |port| {
            http_request(port, "GET", "/").is_ok_and(|(status, _)| status == 200)
        })
        .map(MotoS3)
    }

    /// `http://127.0.0.1:<port>`: the endpoint for path-style requests.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.0.port())
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port()
    }

    /// Creates a bucket through moto's S3 API (`PUT /<bucket>`, unsigned: moto allows it).
    pub fn create_bucket(&self, bucket: &str) -> Result<(), HarnessError> {
        let (status, body) =
            http_request(self.0.port(), "PUT", &format!("/{bucket}")).map_err(|source| {
                HarnessError::Io {
                    what: format!("creating bucket {bucket}"),
                    source,
                }
            })?;
        if status != 200 {
            return Err(HarnessError::Command {
                what: format!("PUT /{bucket}"),
                status: status.to_string(),
                log: body,
            });
        }
        Ok(())
    }

    /// The keys in `bucket` under `prefix` (`ListObjectsV2`, straight from moto), as its XML
    /// spells them.
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, HarnessError> {
        let path = format!("/{bucket}?list-type=2&prefix={prefix}");
        let (status, body) =
            http_request(self.0.port(), "GET", &path).map_err(|source| HarnessError::Io {
                what: format!("listing bucket {bucket}"),
                source,
            })?;
        if status != 200 {
            return Err(HarnessError::Command {
                what: format!("GET {path}"),
                status: status.to_string(),
                log: body,
            });
        }
        Ok(body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect())
    }

    /// SIGKILL: every bucket and object is gone.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port, empty.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
    }
}

/// One HTTP/1.0 request without a body to `127.0.0.1:<port>` (1.0: the answer is never
/// chunked, and the server closes the connection after it): the status and the body.
fn http_request(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {head:?}")))?;
    Ok((status, body.to_owned()))
}
