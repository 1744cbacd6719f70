//! What `picket up` tells the admin dashboard about the platform (`GET /api/v2/admin/platform`,
//! `picket-api`'s `platform.rs`): over NATS, a status board fed by every ledger node's and
//! gateway's status messages, with this gateway publishing its own; in process, this gateway and
//! its ledger as `/healthz` reports them.

use std::sync::Arc;

use picket_gateway::Gateway;
use picket_ledger_client::status::{
    self, GatewayStatus, GatewayView, PartitionView, Platform, STATUS_INTERVAL_DEFAULT,
    STATUS_STALE_AFTER, Transport,
};
use picket_ledger_client::{ClientStatus, StatusBoard};
use tokio::sync::watch;

/// The platform's status source `picket up` hands the API.
pub enum UpPlatform {
    InProcess(Arc<Gateway>),
    Nats { board: StatusBoard, partitions: u16 },
}

fn gateway_status(gateway: &Gateway, stopped: bool) -> GatewayStatus {
    GatewayStatus {
        gateway: gateway.config.gateway_id.clone(),
        connections: gateway.open_connections() as u64,
        connections_max: gateway.config.connections_max as u64,
        stopped,
    }
}

impl picket_api::platform::PlatformSource for UpPlatform {
    fn platform(&self) -> Platform {
        match self {
            UpPlatform::Nats { board, partitions } => {
                board.platform(*partitions, tokio::time::Instant::now())
            }
            UpPlatform::InProcess(gateway) => {
                let view = GatewayView {
                    id: gateway.config.gateway_id.clone(),
                    connections: gateway.open_connections() as u64,
                    connections_max: gateway.config.connections_max as u64,
                    seen_ms_ago: 0,
                };
                match gateway.ledger.status() {
                    ClientStatus::InProcess(local) => {
                        Platform::in_process(&gateway.config.gateway_id, vec![view], &local)
                    }
                    // `picket up` over NATS uses the board; kept total all the same.
                    ClientStatus::Nats { partitions, .. } => Platform {
                        gateways: vec![view],
                        partitions: (0..partitions)
                            .map(|partition| PartitionView {
                                partition,
                                leader: None,
                                standbys: Vec::new(),
                                leaderless: true,
                            })
                            .collect(),
                        transport: Transport::Nats,
                    },
                }
            }
        }
    }
}

/// This gateway's status on NATS every [`STATUS_INTERVAL_DEFAULT`] until stopped, then a last
/// message saying it stopped.
pub struct GatewayPublisher {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    nats: async_nats::Client,
    gateway: Arc<Gateway>,
}

impl GatewayPublisher {
    pub fn start(nats: async_nats::Client, gateway: Arc<Gateway>) -> GatewayPublisher {
        let (stop, stopped) = watch::channel(false);
        let reported = gateway.clone();
        let task = status::publish_every(
            nats.clone(),
            status::gateway_status_subject(&gateway.config.gateway_id),
            STATUS_INTERVAL_DEFAULT,
            stopped,
            move || gateway_status(&reported, false),
        );
        GatewayPublisher {
            stop,
            task,
            nats,
            gateway,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let subject = status::gateway_status_subject(&self.gateway.config.gateway_id);
        let last = gateway_status(&self.gateway, true);
        status::publish_last(&self.nats, subject, &last).await;
    }
}

/// Over NATS: the board of every node's and gateway's status, and this gateway's publisher.
pub async fn over_nats(
    nats_url: &str,
    nats_auth: &picket_ledger_client::NatsAuth,
    gateway: Arc<Gateway>,
    partitions: u16,
) -> anyhow::Result<(UpPlatform, GatewayPublisher)> {
    let nats =
        picket_ledger_client::bus::connect_with(nats_url, nats_auth, "picket-status").await?;
    let board = StatusBoard::follow(nats.clone(), STATUS_STALE_AFTER).await?;
    let publisher = GatewayPublisher::start(nats, gateway);
    Ok((UpPlatform::Nats { board, partitions }, publisher))
}
