//! `GET /api/v2/admin/platform` (admins): the platform as its services report it — each
//! gateway's open connections, and per ledger partition the leader and the standbys with their
//! lag. The admin dashboard polls it.
//!
//! The API knows no gateway: `picket up` hands it a [`PlatformSource`] (over NATS, the
//! [`picket_ledger_client::StatusBoard`] fed by every node's and gateway's status messages; in
//! process, this process's gateway and ledger). Without one (an API run alone) the route reports
//! what the API's own ledger client knows: the in-process partition, or the partitions over NATS
//! with no node heard from.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use picket_ledger_client::status::{PartitionView, Platform, Transport};
use picket_ledger_client::{ClientStatus, LedgerClient};

use crate::auth::{Authenticated, Role};
use crate::error::ApiError;
use crate::state::Api;
pub use crate::state::PlatformSource;

/// `GET /api/v2/admin/platform` (admin).
pub async fn platform(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let platform = match api.platform.get() {
        Some(source) => source.platform(),
        None => from_client(api.ledger.as_ref()),
    };
    Ok(Json(platform).into_response())
}

/// What the API's ledger client alone knows: no gateway, and the in-process partition leading
/// (or, over NATS, the partitions without any node heard from).
fn from_client(ledger: Option<&LedgerClient>) -> Platform {
    let leaderless = |partition| PartitionView {
        partition,
        leader: None,
        standbys: Vec::new(),
        leaderless: true,
    };
    match ledger.map(LedgerClient::status) {
        Some(ClientStatus::InProcess(local)) => {
            Platform::in_process("in-process", Vec::new(), &local)
        }
        Some(ClientStatus::Nats { partitions, .. }) => Platform {
            gateways: Vec::new(),
            partitions: (0..partitions).map(leaderless).collect(),
            transport: Transport::Nats,
        },
        None => Platform {
            gateways: Vec::new(),
            partitions: Vec::new(),
            transport: Transport::InProcess,
        },
    }
}
