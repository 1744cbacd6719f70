//! Show banners: uploaded by the show's seller (or an admin) as the raw request body, checked
//! by declared type, by the file's own magic bytes, and by size, stored in the media directory,
//! and served with caching headers.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::catalog::managed_show;
use crate::error::{ApiError, FieldError};
use crate::{Api, Authenticated};

/// Largest banner accepted.
pub const BANNER_BYTES_MAX: usize = 2 * 1_024 * 1_024;
/// How long browsers and CDNs may keep a banner (its URL stays the same, its ETag changes).
pub const BANNER_CACHE_MAX_AGE_S: u64 = 3_600;

/// Accepted image types: content type, extension, and the bytes a file of that type starts with.
const TYPES: [(&str, &str, &[u8]); 3] = [
    ("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", "jpg", b"\xff\xd8\xff"),
    ("image/webp", "webp", b"RIFF"),
];

fn banner_path(api: &Api, show: i64, extension: &str) -> PathBuf {
    api.config
        .media_dir
        .join(format!("banner-{show}.{extension}"))
}

/// `PUT /api/v1/shows/{id}/banner`.
pub async fn upload_banner(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(show): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
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
    let Some((content_type, extension, magic)) = TYPES.iter().find(|(t, _, _)| *t == declared)
    else {
        return Err(invalid(
            "Content-Type must be image/png, image/jpeg or image/webp".into(),
        ));
    };
    if body.len() > BANNER_BYTES_MAX {
        return Err(invalid(format!("at most {BANNER_BYTES_MAX} bytes")));
    }
    let webp_ok = *content_type != "image/webp" || body.get(8..12) == Some(b"WEBP");
    if !body.starts_with(magic) || !webp_ok {
        return Err(invalid(format!("the file is not a {content_type} image")));
    }
    tokio::fs::create_dir_all(&api.config.media_dir)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    for (_, other, _) in TYPES {
        let _ = tokio::fs::remove_file(banner_path(&api, show, other)).await;
    }
    // Written beside and renamed, so a reader never sees half a file.
    let path = banner_path(&api, show, extension);
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, &body)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::fs::rename(&partial, &path)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
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
    for (content_type, extension, _) in TYPES {
        let Ok(bytes) = tokio::fs::read(banner_path(&api, show, extension)).await else {
            continue;
        };
        let etag = format!("\"{:016x}\"", fnv64(&bytes));
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
        let content_type = content_type.to_owned();
        return Ok((
            [
                (header::CONTENT_TYPE, content_type),
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache),
            ],
            bytes,
        )
            .into_response());
    }
    Err(ApiError::NotFound("banner"))
}

/// FNV-1a: a cheap content hash for the ETag (not a security boundary).
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
