//! The sandbox's errors: `SandboxError` at its boundary (starting and serving), and `Refusal`,
//! a Toss-shaped `{code, message}` answer with its HTTP status.

use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_toss_wire::{ErrorBody, ErrorCode};

/// Why the sandbox could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("setting problems: {}", .0.join("; "))]
    Settings(Vec<String>),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the database's migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// An error answer: Toss's status for the code and `{code, message}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub body: ErrorBody,
}

impl Refusal {
    /// The code with its documented status and message.
    pub fn of(code: ErrorCode) -> Refusal {
        Refusal {
            status: code.http_status(),
            body: ErrorBody::of(code),
        }
    }

    /// The code with its documented status and a more precise message.
    pub fn because(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status: code.http_status(),
            body: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }

    /// `INVALID_REQUEST` saying what is wrong.
    pub fn invalid(message: impl Into<String>) -> Refusal {
        Refusal::because(ErrorCode::InvalidRequest, message)
    }

    /// The database failed: a 500 a client retries.
    pub fn internal() -> Refusal {
        Refusal::of(ErrorCode::FailedInternalSystemProcessing)
    }

    pub fn json(&self) -> String {
        serde_json::to_string(&self.body).unwrap_or_else(|_| String::from("{}"))
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Refusal {
        tracing::error!(%error, "sandbox database error");
        Refusal::internal()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        json_response(status, self.json())
    }
}

/// A JSON answer with `status`.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
