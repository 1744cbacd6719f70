//! The crate's one error type: why a server or a process could not be started, signalled or
//! used.

use std::path::PathBuf;

/// Why a server or a process could not be started, signalled or used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("binary {binary} not found: install the Debian package {package}")]
    Missing {
        binary: &'static str,
        package: &'static str,
    },
    #[error("binary {binary} not found: install the Python package: pip install '{package}'")]
    MissingPython {
        binary: &'static str,
        package: &'static str,
    },
    #[error("{what} failed: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}); output:\n{log}")]
    Command {
        what: String,
        status: String,
        log: String,
    },
    #[error("{server} did not become ready within {waited_s} s; log tail:\n{log}")]
    NotReady {
        server: String,
        waited_s: u64,
        log: String,
    },
    #[error("{server} is still running: kill or stop it before start_again")]
    AlreadyRunning { server: &'static str },
    #[error(
        "{dir} is out of reach of the postgres user, which PostgreSQL runs as under root: \
         choose a data directory whose every parent that user may enter (say, under /tmp or /srv)"
    )]
    NotReachable { dir: PathBuf },
    #[error("{0}")]
    Setting(String),
}

pub fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}
