//! A member's inbox: the notifications the notifier (`picket-notifier`) wrote for them, newest
//! first, and marking them read. Rows and SQL are in `store/notifications.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Query};
use crate::notification_settings::{LANGUAGES, decode_language};
use crate::state::{Api, now_ms};
use crate::store::notifications::NotificationRow;

/// Entries per page of the inbox at most.
pub const NOTIFICATIONS_PAGE_MAX: u32 = 50;
/// Entries per page when the client does not say.
pub const NOTIFICATIONS_PAGE_DEFAULT: u32 = 20;
/// Ids one `POST /me/notifications/read` may name.
pub const READ_IDS_MAX: usize = 100;
/// The longest notification id a client may send (the notifier's are far shorter).
pub const NOTIFICATION_ID_LEN_MAX: usize = 128;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// The id of the last entry of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /api/v2/me/notifications`: the member's inbox, newest first, in the language
/// `Accept-Language` asks for first (English or Korean), else the member's chosen language
/// (Korean by default), with both languages under `texts`.
pub async fn inbox(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    headers: HeaderMap,
    Query(query): Query<InboxQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(NOTIFICATIONS_PAGE_DEFAULT);
    let mut errors = Vec::new();
    if !(1..=NOTIFICATIONS_PAGE_MAX).contains(&limit) {
        errors.push(FieldError {
            field: "limit",
            message: format!("1 to {NOTIFICATIONS_PAGE_MAX}"),
        });
    }
    if query.cursor.as_deref().is_some_and(too_long) {
        errors.push(FieldError {
            field: "cursor",
            message: format!("at most {NOTIFICATION_ID_LEN_MAX} characters"),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let english = match asked_language(&headers) {
        Some(language) => language == "en",
        None => {
            let choices = api.store.notification_choices(who.account_id).await?;
            decode_language(choices.as_ref().map(|c| c.language.as_str())) == "en"
        }
    };
    let mut rows = api
        .store
        .notifications(who.account_id, query.cursor.as_deref(), i64::from(limit))
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    let unread = api.store.unread_notifications(who.account_id).await?;
    let items: Vec<serde_json::Value> = rows.iter().map(|row| item(row, english)).collect();
    Ok(Json(serde_json::json!({
        "items": items,
        "next_cursor": next_cursor,
        "unread": unread,
    }))
    .into_response())
}

/// One inbox item, in English or Korean with both under `texts`. The notifier's live
/// `notification` message over the WebSocket and its Web Push payload (`push.rs`) carry the same
/// fields (docs/protocol.md).
pub fn item(row: &NotificationRow, english: bool) -> serde_json::Value {
    let (language, title, body) = if english {
        ("en", &row.title_en, &row.body_en)
    } else {
        ("ko", &row.title_ko, &row.body_ko)
    };
    let data: serde_json::Value = serde_json::from_str(&row.data)
        .unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
    serde_json::json!({
        "id": row.id,
        "kind": row.kind,
        "created_at_ms": row.created_at_ms,
        "read": row.read_at_ms.is_some(),
        "language": language,
        "title": title,
        "body": body,
        "texts": {
            "ko": {"title": row.title_ko, "body": row.body_ko},
            "en": {"title": row.title_en, "body": row.body_en},
        },
        "data": data,
    })
}

/// Longer than any notification id may be (counted in characters, as the OpenAPI document's
/// `maxLength` counts).
fn too_long(id: &str) -> bool {
    id.chars().count() > NOTIFICATION_ID_LEN_MAX
}

/// The language `Accept-Language` asks for first, when it is one notifications are written in
/// (`en`, `ko`); `None` without the header or with another language first, and the member's
/// chosen language applies.
fn asked_language(headers: &HeaderMap) -> Option<&'static str> {
    let first = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())?
        .trim()
        .to_ascii_lowercase();
    LANGUAGES.into_iter().find(|language| {
        first == *language
            || first
                .strip_prefix(language)
                .is_some_and(|rest| rest.starts_with(['-', ';']))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// These entries.
    pub ids: Option<Vec<String>>,
    /// This entry and every older one.
    pub up_to: Option<String>,
}

/// `POST /api/v2/me/notifications/read`: marks `ids` read, or `up_to` and everything older.
/// Answers with the unread count.
pub async fn mark_read(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(body): JsonBody<ReadBody>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let ids = body.ids.unwrap_or_default();
    if ids.is_empty() == body.up_to.is_none() {
        errors.push(FieldError {
            field: "ids",
            message: "give either ids (1 or more) or up_to".into(),
        });
    }
    if ids.len() > READ_IDS_MAX {
        errors.push(FieldError {
            field: "ids",
            message: format!("at most {READ_IDS_MAX}"),
        });
    }
    if ids.iter().chain(&body.up_to).any(|id| too_long(id)) {
        errors.push(FieldError {
            field: "ids",
            message: format!("an id is at most {NOTIFICATION_ID_LEN_MAX} characters"),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let at_ms = now_ms() as i64;
    if let Some(up_to) = &body.up_to {
        if !api
            .store
            .mark_notifications_read_up_to(who.account_id, up_to, at_ms)
            .await?
        {
            return Err(ApiError::NotFound("notification"));
        }
    } else {
        api.store
            .mark_notifications_read(who.account_id, &ids, at_ms)
            .await?;
    }
    let unread = api.store.unread_notifications(who.account_id).await?;
    Ok(Json(serde_json::json!({"unread": unread})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_language_asked_for_when_it_is_ours() {
        let mut headers = HeaderMap::new();
        assert_eq!(asked_language(&headers), None);
        headers.insert("accept-language", "en-US,ko;q=0.8".parse().expect("header"));
        assert_eq!(asked_language(&headers), Some("en"));
        headers.insert("accept-language", "ko-KR,en;q=0.8".parse().expect("header"));
        assert_eq!(asked_language(&headers), Some("ko"));
        headers.insert("accept-language", "en".parse().expect("header"));
        assert_eq!(asked_language(&headers), Some("en"));
        headers.insert("accept-language", "ko;q=1".parse().expect("header"));
        assert_eq!(asked_language(&headers), Some("ko"));
        // Another language first: the member's choice.
        headers.insert("accept-language", "fr-FR,en;q=0.8".parse().expect("header"));
        assert_eq!(asked_language(&headers), None);
        headers.insert("accept-language", "english".parse().expect("header"));
        assert_eq!(asked_language(&headers), None);
    }
}
