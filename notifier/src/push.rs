//! Web Push: one message to one browser subscription (RFC 8030), its payload encrypted for the
//! browser (RFC 8291: ECDH on P-256 and the browser's auth secret, over RFC 8188's
//! `aes128gcm`, by `web-push-native`), the request signed with the server's VAPID key
//! (RFC 8292: an ES256 JWT whose `aud` is the endpoint's origin, `exp` within
//! [`VAPID_TOKEN_LIFETIME_S_MAX`], `sub` the configured contact). The delivery loop calls
//! [`PushSender::send`] and acts on the [`PushOutcome`]: drop the subscription when it is
//! `Gone`, try again later on `Retry`, give up on `Rejected`.
//!
//! What the service worker receives is docs/protocol.md's "Web Push" (the inbox item's JSON);
//! settings and limits are in docs/operations.md.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;

pub use picket_api::push::{PushSubscription, origin};
pub use picket_api::vapid::VapidKeys;

/// The most plaintext one push carries: RFC 8291 §4 allows 4,096 bytes of ciphertext in one
/// record; less the 86-byte header (salt, record size, key id), the 16-byte tag and the
/// delimiter, 3,993 bytes remain. The caller trims to fit (docs/protocol.md, "Web Push").
pub const PUSH_PAYLOAD_BYTES_MAX: usize = 3_993;
/// How long a VAPID token is valid: RFC 8292 §2 forbids more than 24 hours; 12 leaves room for
/// a push service's clock running ahead of ours.
pub const VAPID_TOKEN_LIFETIME_S: u64 = 12 * 3_600;
/// RFC 8292's bound on a token's `exp` from now.
pub const VAPID_TOKEN_LIFETIME_S_MAX: u64 = 24 * 3_600;
/// The longest `TTL` asked of a push service (four weeks: what the large ones keep at most).
pub const PUSH_TTL_S_MAX: u32 = 28 * 24 * 3_600;
/// The longest wait a push service's `Retry-After` is taken at: past it the caller's own
/// backoff applies anyway, and a service cannot park a notification for days.
pub const RETRY_AFTER_MS_MAX: u64 = 3_600_000;
/// The most push requests kept open, idle, per push service for the next one.
pub const IDLE_CONNECTIONS_PER_SERVICE_MAX: usize = 32;

/// How long a push request may take; both bounded by [`PushLimits::problems`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushLimits {
    /// The whole request, connecting included: past it the send is `Retry`. 100 to 60,000.
    pub request_timeout_ms: u64,
    /// Connecting (TCP and TLS): an unreachable push service is given up on sooner. 100 to
    /// `request_timeout_ms`.
    pub connect_timeout_ms: u64,
}

/// The bounds of [`PushLimits`], in milliseconds.
pub const PUSH_TIMEOUT_MS_MIN: u64 = 100;
pub const PUSH_REQUEST_TIMEOUT_MS_MAX: u64 = 60_000;

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            request_timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
        }
    }
}

impl PushLimits {
    /// Every setting out of its bounds, described.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(PUSH_TIMEOUT_MS_MIN..=PUSH_REQUEST_TIMEOUT_MS_MAX).contains(&self.request_timeout_ms) {
            problems.push(format!(
                "push request_timeout_ms must be {PUSH_TIMEOUT_MS_MIN} to {PUSH_REQUEST_TIMEOUT_MS_MAX}"
            ));
        }
        if !(PUSH_TIMEOUT_MS_MIN..=self.request_timeout_ms).contains(&self.connect_timeout_ms) {
            problems.push(format!(
                "push connect_timeout_ms must be {PUSH_TIMEOUT_MS_MIN} to request_timeout_ms"
            ));
        }
        problems
    }
}

/// RFC 8030 §5.3: how soon the push service should deliver (a phone may wait for a better
/// moment with lower urgency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    /// The `Urgency` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// What became of one push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service took the message (2xx: 201 Created, or 202 with a receipt).
    Delivered,
    /// The subscription has ended (404, 410): the caller deletes it.
    Gone,
    /// Try again later: 429, 408, 5xx, a network error or the request timeout. `after_ms` is
    /// the push service's `Retry-After` (at most [`RETRY_AFTER_MS_MAX`]) when it gave one.
    Retry { after_ms: Option<u64> },
    /// Refused for good (another 4xx, a redirect); also 413 without a request when the payload
    /// is over [`PUSH_PAYLOAD_BYTES_MAX`], and 400 when the subscription cannot be sent to
    /// (an endpoint without an origin, a key not on the curve).
    Rejected { status: u16 },
}

/// Why a sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PushSetupError {
    #[error("{}", .0.join("; "))]
    Limits(Vec<String>),
    #[error("the HTTP client could not be built: {0}")]
    Client(#[from] reqwest::Error),
}

/// Sends Web Push messages signed with one VAPID key. Cheap to share (`Arc`); requests to one
/// push service reuse connections.
pub struct PushSender {
    vapid: VapidKeys,
    signing: p256::ecdsa::SigningKey,
    /// `vapid t=…, k=` up to the token: the public key part is the same for every request.
    public_key: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for PushSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PushSender({:?})", self.vapid)
    }
}

impl PushSender {
    pub fn new(vapid: VapidKeys, limits: PushLimits) -> Result<Self, PushSetupError> {
        let problems = limits.problems();
        if !problems.is_empty() {
            return Err(PushSetupError::Limits(problems));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(limits.request_timeout_ms))
            .connect_timeout(Duration::from_millis(limits.connect_timeout_ms))
            // A push service answers; it does not send the server elsewhere (and a redirect
            // would carry the VAPID token to another origin).
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_SERVICE_MAX)
            .build()?;
        Ok(PushSender {
            signing: p256::ecdsa::SigningKey::from(vapid.secret()),
            public_key: vapid.public_key_base64url(),
            vapid,
            client,
        })
    }

    /// The key browsers subscribe with.
    pub fn vapid(&self) -> &VapidKeys {
        &self.vapid
    }

    /// Sends `payload` (at most [`PUSH_PAYLOAD_BYTES_MAX`] bytes) to `sub`, kept by the push
    /// service for `ttl_s` seconds (at most [`PUSH_TTL_S_MAX`]) while the browser is offline.
    pub async fn send(
        &self,
        sub: &PushSubscription,
        payload: &[u8],
        ttl_s: u32,
        urgency: Urgency,
    ) -> PushOutcome {
        if payload.len() > PUSH_PAYLOAD_BYTES_MAX {
            return PushOutcome::Rejected { status: 413 };
        }
        let audience = origin(&sub.endpoint);
        if audience.is_empty() {
            return PushOutcome::Rejected { status: 400 };
        }
        let Ok(browser_key) = p256::PublicKey::from_sec1_bytes(&sub.p256dh) else {
            return PushOutcome::Rejected { status: 400 };
        };
        let auth = web_push_native::Auth::from(sub.auth);
        let Ok(body) = web_push_native::encrypt(payload.to_vec(), &browser_key, &auth) else {
            return PushOutcome::Rejected { status: 400 };
        };
        let now_ms = picket_api::state::now_ms();
        let token = vapid_token(
            &self.signing,
            &audience,
            now_ms / 1_000 + VAPID_TOKEN_LIFETIME_S,
            self.vapid.subject(),
        );
        let sent = self
            .client
            .post(&sub.endpoint)
            .header("TTL", ttl_s.min(PUSH_TTL_S_MAX))
            .header("Urgency", urgency.as_str())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header(
                "Authorization",
                format!("vapid t={token}, k={}", self.public_key),
            )
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get("Retry-After")
                    .and_then(|value| value.to_str().ok());
                classify(response.status().as_u16(), retry_after, now_ms)
            }
            Err(error) => {
                tracing::debug!(origin = %audience, %error, "web push request failed");
                PushOutcome::Retry { after_ms: None }
            }
        }
    }
}

/// What the service worker receives for `row` (docs/protocol.md, "Web Push"): the inbox item
/// `GET /api/v2/me/notifications` would answer, in the member's language (`english`) with both
/// languages under `texts`, as JSON of at most
/// [`PUSH_PAYLOAD_BYTES_MAX`] bytes: when it is longer, both bodies are cut to the same number
/// of characters, the longest that fits, and end in `…` (the app shows the whole entry from the
/// inbox).
pub fn push_payload(
    row: &picket_api::store::notifications::NotificationRow,
    english: bool,
) -> Vec<u8> {
    let encode = |row: &picket_api::store::notifications::NotificationRow| {
        picket_api::notifications::item(row, english)
            .to_string()
            .into_bytes()
    };
    let whole = encode(row);
    if whole.len() <= PUSH_PAYLOAD_BYTES_MAX {
        return whole;
    }
    let cut = |chars: usize| {
        let trim = |text: &str| {
            if text.chars().count() <= chars {
                text.to_owned()
            } else {
                text.chars().take(chars).chain(['…']).collect()
            }
        };
        let mut trimmed = row.clone();
        trimmed.body_ko = trim(&row.body_ko);
        trimmed.body_en = trim(&row.body_en);
        encode(&trimmed)
    };
    // The longest cut that fits, by bisection: a longer cut never makes the JSON shorter.
    let (mut fits, mut over) = (
        0,
        row.body_ko.chars().count().max(row.body_en.chars().count()),
    );
    while over - fits > 1 {
        let middle = fits + (over - fits) / 2;
        if cut(middle).len() <= PUSH_PAYLOAD_BYTES_MAX {
            fits = middle;
        } else {
            over = middle;
        }
    }
    // Titles and ids are bounded far below the limit (a show's title, 128-character ids), so
    // bodies cut to nothing always fit.
    cut(fits)
}

/// An RFC 8292 token: ES256 (ECDSA P-256 with SHA-256; the signature `r ‖ s`, 64 bytes) over
/// `{"typ":"JWT","alg":"ES256"}` and the claims `aud`, `exp` (seconds since the epoch), `sub`.
pub fn vapid_token(
    key: &p256::ecdsa::SigningKey,
    audience: &str,
    expires_s: u64,
    subject: &str,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = serde_json::json!({"aud": audience, "exp": expires_s, "sub": subject});
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// What a push service's answer means (RFC 8030 §5, §8.4; RFC 8292 §4: 403 is a bad token).
pub fn classify(status: u16, retry_after: Option<&str>, now_ms: u64) -> PushOutcome {
    match status {
        200..=299 => PushOutcome::Delivered,
        404 | 410 => PushOutcome::Gone,
        // 408: the service gave up waiting for our request; nothing was wrong with it.
        408 | 429 | 500..=599 => PushOutcome::Retry {
            after_ms: retry_after.and_then(|value| retry_after_ms(value, now_ms)),
        },
        status => PushOutcome::Rejected { status },
    }
}

/// `Retry-After` (RFC 9110 §10.2.3) as milliseconds from `now_ms`, at most
/// [`RETRY_AFTER_MS_MAX`]: delay-seconds, or an HTTP date (one already past is 0).
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    let after_ms = if let Ok(seconds) = value.parse::<u64>() {
        seconds.saturating_mul(1_000)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at_ms = at
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX);
        at_ms.saturating_sub(now_ms)
    };
    Some(after_ms.min(RETRY_AFTER_MS_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn answers_are_classified() {
        let table: [(u16, Option<&str>, PushOutcome); 12] = [
            (201, None, PushOutcome::Delivered),
            (202, None, PushOutcome::Delivered),
            (404, None, PushOutcome::Gone),
            (410, Some("5"), PushOutcome::Gone),
            (
                429,
                Some("7"),
                PushOutcome::Retry {
                    after_ms: Some(7_000),
                },
            ),
            (429, None, PushOutcome::Retry { after_ms: None }),
            (429, Some("soon"), PushOutcome::Retry { after_ms: None }),
            (
                503,
                Some("999999"),
                PushOutcome::Retry {
                    after_ms: Some(RETRY_AFTER_MS_MAX),
                },
            ),
            (500, None, PushOutcome::Retry { after_ms: None }),
            (400, None, PushOutcome::Rejected { status: 400 }),
            (403, None, PushOutcome::Rejected { status: 403 }),
            (301, None, PushOutcome::Rejected { status: 301 }),
        ];
        for (status, retry_after, expected) in table {
            assert_eq!(classify(status, retry_after, 0), expected, "{status}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch (RFC 9110's example).
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after_ms(date, 784_111_770_000), Some(7_000));
        assert_eq!(retry_after_ms(date, 784_111_790_000), Some(0));
        assert_eq!(retry_after_ms(" 12 ", 0), Some(12_000));
        assert_eq!(retry_after_ms("-1", 0), None);
    }

    #[test]
    fn a_vapid_token_verifies_with_the_public_key() {
        let keys = VapidKeys::generate();
        let signing = p256::ecdsa::SigningKey::from(keys.secret());
        let token = vapid_token(&signing, "https://push.example.com", 1_000, keys.subject());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(
            claims,
            serde_json::json!({"aud": "https://push.example.com", "exp": 1_000, "sub": keys.subject()})
        );
        let public = p256::PublicKey::from_sec1_bytes(&keys.public_key_bytes()).expect("point");
        let verifying = p256::ecdsa::VerifyingKey::from(public);
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64"))
                .expect("64 bytes");
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(input.as_bytes(), &signature).is_ok());
    }

    fn row(body_ko: &str, body_en: &str) -> picket_api::store::notifications::NotificationRow {
        picket_api::store::notifications::NotificationRow {
            id: "l0.42.0.booking_confirmed.7".into(),
            kind: "booking_confirmed".into(),
            created_at_ms: 1_765_000_000_000,
            title_ko: "예매 확정".into(),
            body_ko: body_ko.into(),
            title_en: "Booking confirmed".into(),
            body_en: body_en.into(),
            data: r#"{"booking":"7","performance":"9"}"#.into(),
            read_at_ms: None,
        }
    }

    #[test]
    fn a_payload_is_the_inbox_item_and_long_bodies_are_cut_to_fit() {
        let short = row("예매가 확정되었습니다.", "Your booking is confirmed.");
        let payload = push_payload(&short, false);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&payload).expect("json"),
            picket_api::notifications::item(&short, false)
        );
        let long = row(&"가".repeat(3_000), &"a".repeat(5_000));
        let payload = push_payload(&long, false);
        assert!(payload.len() <= PUSH_PAYLOAD_BYTES_MAX, "{}", payload.len());
        // Close to the limit: a cut one character longer would not fit.
        assert!(
            payload.len() > PUSH_PAYLOAD_BYTES_MAX - 16,
            "{}",
            payload.len()
        );
        let item: serde_json::Value = serde_json::from_slice(&payload).expect("json");
        let body = item["body"].as_str().expect("body");
        assert!(body.ends_with('…'));
        assert_eq!(item["texts"]["ko"]["body"], body);
        let en = item["texts"]["en"]["body"].as_str().expect("en");
        assert_eq!(en.chars().count(), body.chars().count());
        assert_eq!(item["id"], "l0.42.0.booking_confirmed.7");
        assert_eq!(item["data"]["booking"], "7");
    }

    #[test]
    fn limits_are_bounded() {
        assert!(PushLimits::default().problems().is_empty());
        let bad = PushLimits {
            request_timeout_ms: 50,
            connect_timeout_ms: 100,
        };
        assert_eq!(bad.problems().len(), 2);
    }
}
