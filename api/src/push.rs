//! Web Push on the API's side: the server's VAPID public key browsers subscribe with
//! (`GET /api/v2/push/key`; the key is `vapid.rs`'s), and members' push subscriptions
//! (`/api/v2/me/push-subscriptions`), checked strictly before they are stored. The notifier
//! (`picket-notifier`'s `push.rs`) sends to them; rows and SQL are in `store/push.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use picket_edge::id::Id;
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path as PathParam};
use crate::state::{Api, now_ms};
use crate::store::push::{NewSubscription, Subscribed, SubscriptionRow};
pub use crate::vapid::{P256DH_BYTES, VapidKeys};

/// The longest endpoint URL taken, in bytes: push services' are a few hundred.
pub const PUSH_ENDPOINT_BYTES_MAX: usize = 2_048;
/// Subscriptions one member may keep (one per browser or device): past it a new endpoint is
/// refused with `too_many_push_subscriptions` until the member deletes one.
pub const PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX: usize = 10;
/// A browser's authentication secret (`keys.auth`).
pub const AUTH_SECRET_BYTES: usize = 16;

/// A browser's push subscription, checked: where to POST and the keys to encrypt for
/// (RFC 8291). What the notifier sends to.
#[derive(Clone, PartialEq, Eq)]
pub struct PushSubscription {
    /// The push resource (RFC 8030 §5): `https://`, or `http://` to a loopback address where
    /// the configuration allows it (tests).
    pub endpoint: String,
    /// The browser's ECDH public key, an uncompressed P-256 point.
    pub p256dh: [u8; P256DH_BYTES],
    /// The browser's authentication secret.
    pub auth: [u8; AUTH_SECRET_BYTES],
}

impl std::fmt::Debug for PushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The endpoint is a capability (anyone with it can push): only its origin is shown.
        write!(f, "PushSubscription({}, ..)", origin(&self.endpoint))
    }
}

impl PushSubscription {
    /// The subscription a stored row holds, or `None` when its keys do not decode to the right
    /// lengths (never stored so: the API checks before it writes).
    pub fn from_row(row: &SubscriptionRow) -> Option<Self> {
        Some(PushSubscription {
            endpoint: row.endpoint.clone(),
            p256dh: decode_exact(&row.p256dh)?,
            auth: decode_exact(&row.auth)?,
        })
    }
}

/// The origin of `url` (`scheme://host[:port]`), RFC 6454: the VAPID token's `aud`, and what a
/// member's list of subscriptions shows. An unparsable URL's origin is empty.
pub fn origin(url: &str) -> String {
    match url.parse::<axum::http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                let host_port = authority
                    .as_str()
                    .rsplit_once('@')
                    .map_or(authority.as_str(), |(_, rest)| rest);
                let default = matches!(
                    (scheme, authority.port_u16()),
                    ("https", Some(443)) | ("http", Some(80))
                );
                let host_port = if default {
                    host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
                } else {
                    host_port
                };
                format!("{}://{}", scheme, host_port.to_ascii_lowercase())
            }
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// What a browser's `PushSubscription.toJSON()` gives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionForm {
    pub endpoint: String,
    /// When the browser says the subscription ends (ms since the epoch), or null; not kept:
    /// a push service answers 404/410 once it has ended, and the subscription is dropped then.
    #[serde(rename = "expirationTime", default)]
    pub expiration_time: Option<f64>,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

impl SubscriptionForm {
    /// The subscription, or every field that is wrong. `loopback_http` lets `http://` name a
    /// loopback address (tests' push services).
    pub fn check(&self, loopback_http: bool) -> Result<PushSubscription, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(message) = check_endpoint(&self.endpoint, loopback_http) {
            errors.push(FieldError {
                field: "endpoint",
                message,
            });
        }
        let p256dh = decode_exact::<P256DH_BYTES>(&self.keys.p256dh)
            .filter(|bytes| bytes[0] == 4 && p256::PublicKey::from_sec1_bytes(bytes).is_ok());
        if p256dh.is_none() {
            errors.push(FieldError {
                field: "keys.p256dh",
                message: format!(
                    "base64url (unpadded) of an uncompressed P-256 point, {P256DH_BYTES} bytes"
                ),
            });
        }
        let auth = decode_exact::<AUTH_SECRET_BYTES>(&self.keys.auth);
        if auth.is_none() {
            errors.push(FieldError {
                field: "keys.auth",
                message: format!("base64url (unpadded) of {AUTH_SECRET_BYTES} bytes"),
            });
        }
        if self
            .expiration_time
            .is_some_and(|at| !at.is_finite() || at < 0.0)
        {
            errors.push(FieldError {
                field: "expirationTime",
                message: "milliseconds since the epoch, or null".into(),
            });
        }
        match (p256dh, auth, errors.is_empty()) {
            (Some(p256dh), Some(auth), true) => Ok(PushSubscription {
                endpoint: self.endpoint.clone(),
                p256dh,
                auth,
            }),
            _ => Err(errors),
        }
    }
}

fn decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// An endpoint the notifier may POST to: an absolute `https://` URL with a DNS host (push
/// services are named hosts; an IP literal would let a member aim the server at internal
/// addresses), no user info or fragment, at most [`PUSH_ENDPOINT_BYTES_MAX`] bytes; or, with
/// `loopback_http`, `http://` to a loopback IP.
fn check_endpoint(endpoint: &str, loopback_http: bool) -> Result<(), String> {
    let shape = || {
        if loopback_http {
            "an https:// URL with a host name (or http:// to a loopback address)"
        } else {
            "an https:// URL with a host name"
        }
        .to_owned()
    };
    if endpoint.len() > PUSH_ENDPOINT_BYTES_MAX {
        return Err(format!("at most {PUSH_ENDPOINT_BYTES_MAX} bytes"));
    }
    if endpoint.contains(['#', '@', '\\']) || !endpoint.is_ascii() {
        return Err(shape());
    }
    let uri: axum::http::Uri = endpoint.parse().map_err(|_| shape())?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(shape());
    };
    let host = authority.host();
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok();
    let named_host = ip.is_none()
        && !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && !host.eq_ignore_ascii_case("localhost");
    let ok = match scheme {
        "https" => named_host,
        "http" => loopback_http && ip.is_some_and(|ip| ip.is_loopback()),
        _ => false,
    };
    // Scheme and host are checked on the text too: `Uri` lowercases nothing and takes "HTTPS".
    if ok && endpoint.starts_with(&format!("{scheme}://")) && authority.port_u16() != Some(0) {
        Ok(())
    } else {
        Err(shape())
    }
}

/// `GET /api/v2/push/key`: the server's VAPID public key, for
/// `PushManager.subscribe({applicationServerKey})`.
pub async fn key(State(api): State<Arc<Api>>) -> Response {
    Json(serde_json::json!({
        "public_key": api.config.vapid.public_key_base64url(),
    }))
    .into_response()
}

fn subscription_json(row: &SubscriptionRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id.to_string(),
        "origin": origin(&row.endpoint),
        "created_at_ms": row.created_at_ms,
    })
}

/// `POST /api/v2/me/push-subscriptions`: stores the browser's subscription for the member.
/// The same endpoint again is the same subscription (its keys updated): 200 with it; a new one
/// is 201. An endpoint another member had moves to this one (the browser's user changed).
pub async fn subscribe(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<SubscriptionForm>,
) -> Result<Response, ApiError> {
    let subscription = form
        .check(api.config.push_loopback_http)
        .map_err(ApiError::Invalid)?;
    let p256dh = URL_SAFE_NO_PAD.encode(subscription.p256dh);
    let auth = URL_SAFE_NO_PAD.encode(subscription.auth);
    let subscribed = api
        .store
        .subscribe_push(
            who.account_id,
            api.new_id(),
            &NewSubscription {
                endpoint: &subscription.endpoint,
                p256dh: &p256dh,
                auth: &auth,
            },
            now_ms() as i64,
            PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX as i64,
        )
        .await?;
    match subscribed {
        Subscribed::New(row) => {
            Ok((StatusCode::CREATED, Json(subscription_json(&row))).into_response())
        }
        Subscribed::Existing(row) => Ok(Json(subscription_json(&row)).into_response()),
        Subscribed::Full => Err(ApiError::TooManyPushSubscriptions {
            limit: PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX,
        }),
    }
}

/// `GET /api/v2/me/push-subscriptions`: the member's subscriptions (id, the endpoint's origin,
/// when), oldest first; the endpoints themselves are not shown again.
pub async fn list(State(api): State<Arc<Api>>, who: Authenticated) -> Result<Response, ApiError> {
    let rows = api.store.push_subscriptions(who.account_id).await?;
    let items: Vec<serde_json::Value> = rows.iter().map(subscription_json).collect();
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// `DELETE /api/v2/me/push-subscriptions/{id}`: the member's subscription, gone (404 when it is
/// not theirs).
pub async fn unsubscribe(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    PathParam(Id(id)): PathParam<Id<i64>>,
) -> Result<Response, ApiError> {
    if api
        .store
        .delete_push_subscription(who.account_id, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound("push subscription"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(endpoint: &str, p256dh: &str, auth: &str) -> SubscriptionForm {
        SubscriptionForm {
            endpoint: endpoint.into(),
            expiration_time: None,
            keys: SubscriptionKeys {
                p256dh: p256dh.into(),
                auth: auth.into(),
            },
        }
    }

    fn browser_keys() -> (String, String) {
        let keys = VapidKeys::generate();
        (
            keys.public_key_base64url(),
            URL_SAFE_NO_PAD.encode([7u8; 16]),
        )
    }

    #[test]
    fn endpoints_are_checked_strictly() {
        let (p256dh, auth) = browser_keys();
        let ok = |endpoint: &str, loopback| form(endpoint, &p256dh, &auth).check(loopback).is_ok();
        assert!(ok("https://fcm.googleapis.com/fcm/send/abc:def", false));
        assert!(ok(
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            false
        ));
        assert!(ok("https://push.example.com:8443/x", false));
        assert!(ok("http://127.0.0.1:4000/push/1", true));
        assert!(ok("http://[::1]:4000/push/1", true));
        for bad in [
            "http://127.0.0.1:4000/push/1",
            "http://push.example.com/x",
            "https://10.0.0.1/x",
            "https://[::1]/x",
            "https://localhost/x",
            "https://user@push.example.com/x",
            "https://push.example.com/x#frag",
            "HTTPS://push.example.com/x",
            "ftp://push.example.com/x",
            "https:///x",
            "/relative",
            "https://push.example.com:0/x",
            "https://pu sh.example.com/x",
            "https://push_example.com/x",
            "",
        ] {
            assert!(!ok(bad, false), "{bad}");
        }
        assert!(!ok("http://push.example.com/x", true));
        assert!(!ok("http://10.0.0.1/x", true));
        let long = format!(
            "https://push.example.com/{}",
            "a".repeat(PUSH_ENDPOINT_BYTES_MAX)
        );
        assert!(!ok(&long, false));
    }

    #[test]
    fn keys_must_decode_to_their_exact_lengths() {
        let (p256dh, auth) = browser_keys();
        let endpoint = "https://push.example.com/x";
        assert!(form(endpoint, &p256dh, &auth).check(false).is_ok());
        let fields = |f: SubscriptionForm| -> Vec<&'static str> {
            f.check(false)
                .err()
                .unwrap_or_default()
                .iter()
                .map(|e| e.field)
                .collect()
        };
        // Padded, standard alphabet, a byte short, a point not on the curve.
        let padded = format!("{auth}==");
        assert_eq!(fields(form(endpoint, &p256dh, &padded)), ["keys.auth"]);
        let short = URL_SAFE_NO_PAD.encode([1u8; 15]);
        assert_eq!(fields(form(endpoint, &p256dh, &short)), ["keys.auth"]);
        let mut off_curve = [1u8; 65];
        off_curve[0] = 4;
        let off_curve = URL_SAFE_NO_PAD.encode(off_curve);
        assert_eq!(fields(form(endpoint, &off_curve, &auth)), ["keys.p256dh"]);
        let standard = p256dh.replace('-', "+").replace('_', "/");
        if standard != p256dh {
            assert_eq!(fields(form(endpoint, &standard, &auth)), ["keys.p256dh"]);
        }
        assert_eq!(
            fields(form("nope", "x", "y")),
            ["endpoint", "keys.p256dh", "keys.auth"]
        );
    }

    #[test]
    fn origins_keep_non_default_ports() {
        assert_eq!(
            origin("https://Push.Example.com/a/b?c"),
            "https://push.example.com"
        );
        assert_eq!(
            origin("https://push.example.com:443/a"),
            "https://push.example.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:4000/push/1"),
            "http://127.0.0.1:4000"
        );
        assert_eq!(origin("not a url"), "");
    }
}
