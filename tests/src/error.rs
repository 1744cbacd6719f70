//! The harness's one error type: why a server could not be started, signalled or used.

/// Why a server could not be started, signalled or used.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
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
        server: &'static str,
        waited_s: u64,
        log: String,
    },
    #[error("{server} is still running: kill or stop it before start_again")]
    AlreadyRunning { server: &'static str },
}

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}
