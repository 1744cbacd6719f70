//! The NATS server is `picket-cluster`'s ([`Nats`]); tests also read what JetStream reports.

pub use picket_cluster::nats::*;

/// The JetStream consumer `name` of `stream` as the server at `url` reports it (`None`: no such
/// consumer), asked with the JetStream API over a fresh connection.
pub async fn consumer_info(url: &str, stream: &str, name: &str) -> Option<serde_json::Value> {
    let client = async_nats::connect(url).await.ok()?;
    let reply = client
        .request(
            format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
            Vec::new().into(),
        )
        .await
        .ok()?;
    let info: serde_json::Value = serde_json::from_slice(&reply.payload).ok()?;
    info.get("error").is_none().then_some(info)
}
