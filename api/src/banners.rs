//! Show banners over HTTP: uploaded by the show's seller (or an admin) as the raw request body,
//! checked by size (413 past it), declared type, the file's own magic bytes and by decoding the
//! whole image, kept by the configured banner store (`media.rs`), and served with caching
//! headers and `X-Content-Type-Options: nosniff` — a draft show's banner only to those who may
//! see the draft.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::{BodyBytes, Path};
use crate::manage::managed_show;
use crate::media::{BANNER_BYTES_MAX, BANNER_CACHE_MAX_AGE_S, ImageType};
use crate::state::Api;
use picket_edge::id::Id;

/// Browsers take a banner as the image type it is served as, never as what its bytes look
/// like: an upload is decoded before it is kept, and this keeps any stored file from being
/// rendered as a page.
const NOSNIFF: (HeaderName, &str) = (header::X_CONTENT_TYPE_OPTIONS, "nosniff");

/// A draft's banner goes only to its seller and admins, so no shared cache may keep it.
const DRAFT_CACHE: &str = "private, no-cache";

/// `PUT /api/v2/shows/{id}/banner`.
pub async fn upload_banner(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    managed_show(&api, &who, show).await?;
    // The router reads one byte past the limit, so a body over it is refused by the extractor
    // or is longer than the limit here; either way the answer is a problem, 413.
    if body.len() > BANNER_BYTES_MAX {
        return Err(ApiError::TooLarge {
            bytes_max: Some(BANNER_BYTES_MAX),
        });
    }
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
        return Err(ApiError::UnsupportedMediaType(
            "image/png, image/jpeg or image/webp",
        ));
    };
    if !image.matches(&body) {
        return Err(invalid(format!(
            "the file is not a {} image",
            image.content_type
        )));
    }
    // Decoding is CPU work of up to a few hundred milliseconds: off the async threads.
    let decoded = body.clone();
    tokio::task::spawn_blocking(move || image.decode_check(&decoded))
        .await
        .map_err(|error| ApiError::Internal(format!("decoding a banner: {error}")))?
        .map_err(|why| {
            invalid(format!(
                "the file is not a whole {} image of at most {side} × {side} pixels: {why}",
                image.content_type,
                side = crate::media::BANNER_SIDE_PX_MAX
            ))
        })?;
    api.config
        .banner_store
        .put(&api.config.media_dir, show, image, body)
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::LOCATION, format!("/api/v2/shows/{show}/banner"))],
    )
        .into_response())
}

/// `GET /api/v2/shows/{id}/banner`: the image, cacheable, with an ETag; a draft show's banner
/// only to its seller and admins (to everyone else there is none, as there is no draft).
pub async fn get_banner(
    State(api): State<Arc<Api>>,
    Path(Id(show)): Path<Id<i64>>,
    who: Option<Authenticated>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("banner");
    let published = match api.store.show_status(show).await? {
        None => return Err(not_found()),
        Some(status) => status == "published",
    };
    if !published {
        let Some(who) = who else {
            return Err(not_found());
        };
        match managed_show(&api, &who, show).await {
            Ok(_) => {}
            Err(ApiError::Forbidden | ApiError::NotFound(_)) => return Err(not_found()),
            Err(other) => return Err(other),
        }
    }
    let Some(banner) = api
        .config
        .banner_store
        .get(&api.config.media_dir, show)
        .await?
    else {
        return Err(not_found());
    };
    let etag = format!("\"{:016x}\"", fnv64(&banner.bytes));
    let cache = if published {
        format!("public, max-age={BANNER_CACHE_MAX_AGE_S}")
    } else {
        DRAFT_CACHE.to_owned()
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache),
                (NOSNIFF.0, NOSNIFF.1.to_owned()),
            ],
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, banner.image.content_type.to_owned()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
            (NOSNIFF.0, NOSNIFF.1.to_owned()),
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
