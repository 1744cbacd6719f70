//! Show banners over HTTP: uploaded by the show's seller (or an admin) as the raw request body,
//! checked by declared type, by the file's own magic bytes, and by size, kept by the configured
//! banner store (`media.rs`), and served with caching headers.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::BodyBytes;
use crate::manage::managed_show;
use crate::media::{BANNER_BYTES_MAX, BANNER_CACHE_MAX_AGE_S, ImageType};
use crate::state::Api;

/// `PUT /api/v1/shows/{id}/banner`.
pub async fn upload_banner(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(show): Path<i64>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    managed_show(&api, &who, show).await?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let invalid = |message: String| {
        ApiError::Invalid(vec![FieldError {
            field: "body",
            message,
        }])
    };
    let Some(image) = ImageType::declared(declared) else {
        return Err(invalid(
            "Content-Type must be image/png, image/jpeg or image/webp".into(),
        ));
    };
    if body.len() > BANNER_BYTES_MAX {
        return Ok(crate::json::too_large(Some(BANNER_BYTES_MAX)));
    }
    if !image.matches(&body) {
        return Err(invalid(format!(
            "the file is not a {} image",
            image.content_type
        )));
    }
    api.config
        .banner_store
        .put(&api.config.media_dir, show, image, body)
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::LOCATION, format!("/api/v1/shows/{show}/banner"))],
    )
        .into_response())
}

/// `GET /api/v1/shows/{id}/banner`: the image, cacheable, with an ETag.
pub async fn get_banner(
    State(api): State<Arc<Api>>,
    Path(show): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(banner) = api
        .config
        .banner_store
        .get(&api.config.media_dir, show)
        .await?
    else {
        return Err(ApiError::NotFound("banner"));
    };
    let etag = format!("\"{:016x}\"", fnv64(&banner.bytes));
    let cache = format!("public, max-age={BANNER_CACHE_MAX_AGE_S}");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, banner.image.content_type.to_owned()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        banner.bytes,
    )
        .into_response())
}

/// FNV-1a: a cheap content hash for the ETag (not a security boundary).
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
