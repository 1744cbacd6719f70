//! A member's notification choices (docs/protocol.md, "Notifications (HTTP API v2)"): the
//! language of their notifications and, per kind, the channels they want — `app` (live over the
//! WebSocket while the app is connected) and `push` (Web Push). The inbox keeps every
//! notification whatever the choice. The notifier reads the choices when it writes a
//! notification and stores the result on the row (`app`, `push`, `language`) for the delivery
//! loop. Rows and SQL are in `store/notification_settings.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::JsonBody;
use crate::state::{Api, now_ms};

/// Every kind of notification, as `kind` names it (the notifier's `compose::Kind`; a test there
/// checks the two agree).
pub const KINDS: [&str; 8] = [
    "interest_alert",
    "booking_confirmed",
    "tickets_cancelled",
    "refund_paid",
    "waitlist_offer",
    "waitlist_ended",
    "reminder",
    "seller_notice",
];

/// The languages notifications are written in; the first is the default.
pub const LANGUAGES: [&str; 2] = ["ko", "en"];

pub fn router() -> Router<Arc<Api>> {
    Router::new().route(
        "/api/v2/me/notification-settings",
        get(get_settings).put(put_settings),
    )
}

/// The channels a member wants one kind of notification on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelChoice {
    /// Live over the WebSocket while an app of theirs is connected.
    pub app: bool,
    /// Web Push to their subscribed devices.
    pub push: bool,
}

impl Default for ChannelChoice {
    fn default() -> Self {
        ChannelChoice {
            app: true,
            push: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ko,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ko => "ko",
            Language::En => "en",
        }
    }
}

/// `PUT /api/v2/me/notification-settings`: the language, and the kinds whose channels differ
/// from both on (a kind not named gets both).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsForm {
    pub language: Language,
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelChoice>,
}

/// Stored channels as the notifier and the routes read them: every kind of [`KINDS`], with
/// both channels on where the document does not say (or cannot be read).
pub fn decode_channels(stored: Option<&str>) -> BTreeMap<&'static str, ChannelChoice> {
    let given: BTreeMap<String, ChannelChoice> = stored
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    KINDS
        .iter()
        .map(|kind| (*kind, given.get(*kind).copied().unwrap_or_default()))
        .collect()
}

/// A stored language, `ko` unless it is one of [`LANGUAGES`].
pub fn decode_language(stored: Option<&str>) -> &'static str {
    LANGUAGES
        .iter()
        .find(|l| Some(**l) == stored)
        .copied()
        .unwrap_or(LANGUAGES[0])
}

fn settings_json(language: &str, channels: &BTreeMap<&'static str, ChannelChoice>) -> Value {
    json!({"language": language, "channels": channels})
}

/// `GET /api/v2/me/notification-settings` (signed in).
pub async fn get_settings(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let row = api.store.notification_choices(who.account_id).await?;
    let language = decode_language(row.as_ref().map(|r| r.language.as_str()));
    let channels = decode_channels(row.as_ref().map(|r| r.channels.as_str()));
    Ok(Json(settings_json(language, &channels)).into_response())
}

/// `PUT /api/v2/me/notification-settings` (signed in): replaces the member's choices and
/// answers them in full.
pub async fn put_settings(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<SettingsForm>,
) -> Result<Response, ApiError> {
    let unknown: Vec<&str> = form
        .channels
        .keys()
        .map(String::as_str)
        .filter(|kind| !KINDS.contains(kind))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "channels",
            message: format!(
                "unknown kinds {}; the kinds are {}",
                unknown.join(", "),
                KINDS.join(", ")
            ),
        }]));
    }
    let channels: BTreeMap<&'static str, ChannelChoice> = KINDS
        .iter()
        .map(|kind| (*kind, form.channels.get(*kind).copied().unwrap_or_default()))
        .collect();
    let stored = serde_json::to_string(&channels).expect("choices encode");
    let language = form.language.as_str();
    api.store
        .set_notification_choices(who.account_id, language, &stored, now_ms() as i64)
        .await?;
    Ok(Json(settings_json(language, &channels)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_or_unreadable_choices_are_the_defaults() {
        let all_on = decode_channels(None);
        assert_eq!(all_on.len(), KINDS.len());
        assert!(all_on.values().all(|c| *c == ChannelChoice::default()));
        assert_eq!(decode_channels(Some("not json")), all_on);
        let some = decode_channels(Some(
            r#"{"reminder": {"app": false, "push": true}, "retired_kind": {"app": false, "push": false}}"#,
        ));
        assert_eq!(
            some["reminder"],
            ChannelChoice {
                app: false,
                push: true
            }
        );
        assert_eq!(some["seller_notice"], ChannelChoice::default());
        assert!(!some.contains_key("retired_kind"));
        assert_eq!(decode_language(None), "ko");
        assert_eq!(decode_language(Some("en")), "en");
        assert_eq!(decode_language(Some("fr")), "ko");
    }
}
