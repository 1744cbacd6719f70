//! Pages of listed items (shows, posts), newest first, by cursor.

use axum::Json;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, FieldError};

pub const PAGE_LIMIT_MAX: u32 = 50;
/// Items per page when the client does not say.
pub const PAGE_LIMIT_DEFAULT: u32 = 20;

/// The page size a client asked for, checked.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(PAGE_LIMIT_DEFAULT);
    if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "limit",
            message: format!("1 to {PAGE_LIMIT_MAX}"),
        }]));
    }
    Ok(limit)
}

/// The page of `rows` (read as `limit + 1` rows, so one more than the page says whether more
/// follow), each row shown by `view`.
pub fn page_of<T>(rows: &[T], limit: u32, view: impl FnMut(&T) -> serde_json::Value) -> Response {
    let items = rows.iter().take(limit as usize).map(view).collect();
    page(items, rows.len() > limit as usize)
}

/// A page of `items` (each with an `id`, newest first); when `more` follow, the cursor for the
/// next page is the last item's id (queries ask for one row more than the page to know).
pub fn page(items: Vec<serde_json::Value>, more: bool) -> Response {
    let next_cursor = more
        .then(|| items.last().map(|i| i["id"].clone()))
        .flatten();
    Json(serde_json::json!({"items": items, "next_cursor": next_cursor})).into_response()
}
