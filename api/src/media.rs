//! Show banners: uploaded by the show's seller (or an admin) as the raw request body, checked
//! by declared type, by the file's own magic bytes, and by size, kept by a [`BannerStore`] —
//! files in the media directory (`media/disk.rs`, the default) or objects in an S3-compatible
//! bucket ([`s3`]) — and served with caching headers. Both stores answer the same: the ETag is a hash of
//! the bytes, so it does not change when banners move from one store to the other.

mod disk;
pub mod s3;

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::catalog::managed_show;
use crate::error::{ApiError, FieldError};
use crate::{Api, Authenticated};

pub use s3::{S3BannerConfig, S3Banners};

/// Largest banner accepted.
pub const BANNER_BYTES_MAX: usize = 2 * 1_024 * 1_024;
/// How long browsers and CDNs may keep a banner (its URL stays the same, its ETag changes).
pub const BANNER_CACHE_MAX_AGE_S: u64 = 3_600;

/// An accepted image type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageType {
    pub content_type: &'static str,
    /// The file extension the disk store names the file with.
    pub extension: &'static str,
    /// The bytes a file of this type starts with.
    magic: &'static [u8],
}

/// Accepted image types. Their magic bytes differ, so the bytes alone tell the type.
pub const TYPES: [ImageType; 3] = [
    ImageType {
        content_type: "image/png",
        extension: "png",
        magic: b"\x89PNG\r\n\x1a\n",
    },
    ImageType {
        content_type: "image/jpeg",
        extension: "jpg",
        magic: b"\xff\xd8\xff",
    },
    ImageType {
        content_type: "image/webp",
        extension: "webp",
        magic: b"RIFF",
    },
];

impl ImageType {
    /// The accepted type with this content type.
    pub fn declared(content_type: &str) -> Option<ImageType> {
        TYPES.into_iter().find(|t| t.content_type == content_type)
    }

    /// The accepted type whose magic bytes `bytes` start with.
    pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
        TYPES.into_iter().find(|t| t.matches(bytes))
    }

    /// Whether `bytes` start as a file of this type does (a WebP is a RIFF file of form
    /// `WEBP`).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(self.magic)
            && (self.content_type != "image/webp" || bytes.get(8..12) == Some(b"WEBP"))
    }
}

/// A stored banner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    pub image: ImageType,
    pub bytes: Bytes,
}

/// Why the banner store failed; the API answers `media_unavailable` (503).
#[derive(Debug, thiserror::Error)]
pub enum BannerStoreError {
    #[error("banner directory: {0}")]
    Disk(#[from] std::io::Error),
    #[error("banner bucket: {0}")]
    S3(#[from] object_store::Error),
    #[error("banner bucket configuration: {0}")]
    Config(String),
    #[error("banner object {key} is not a PNG, JPEG or WebP image")]
    NotAnImage { key: String },
}

/// Where banners are kept ([`crate::ApiConfig::banner_store`]).
#[derive(Clone, Debug, Default)]
pub enum BannerStore {
    /// Files `banner-<show>.<ext>` in [`crate::ApiConfig::media_dir`].
    #[default]
    Disk,
    /// One object per show in an S3-compatible bucket.
    S3(S3Banners),
}

impl BannerStore {
    /// An S3-compatible bucket (no request is made yet).
    pub fn s3(config: &S3BannerConfig) -> Result<BannerStore, BannerStoreError> {
        S3Banners::connect(config).map(BannerStore::S3)
    }

    /// Stores `show`'s banner, replacing the previous one whatever its type.
    pub async fn put(
        &self,
        media_dir: &FsPath,
        show: i64,
        image: ImageType,
        bytes: Bytes,
    ) -> Result<(), BannerStoreError> {
        match self {
            BannerStore::Disk => disk::put(media_dir, show, image, &bytes).await,
            BannerStore::S3(bucket) => bucket.put(show, image, bytes).await,
        }
    }

    /// `show`'s banner, if it has one.
    pub async fn get(
        &self,
        media_dir: &FsPath,
        show: i64,
    ) -> Result<Option<Banner>, BannerStoreError> {
        match self {
            BannerStore::Disk => disk::get(media_dir, show).await,
            BannerStore::S3(bucket) => bucket.get(show).await,
        }
    }
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
    let Some(image) = ImageType::declared(declared) else {
        return Err(invalid(
            "Content-Type must be image/png, image/jpeg or image/webp".into(),
        ));
    };
    if body.len() > BANNER_BYTES_MAX {
        return Err(invalid(format!("at most {BANNER_BYTES_MAX} bytes")));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_tell_the_type() {
        let png = b"\x89PNG\r\n\x1a\n rest".as_slice();
        let jpeg = b"\xff\xd8\xff\xe0 rest".as_slice();
        let webp = b"RIFF\x10\0\0\0WEBPVP8 ".as_slice();
        let wave = b"RIFF\x10\0\0\0WAVEfmt ".as_slice();
        assert_eq!(
            ImageType::sniff(png).map(|t| t.content_type),
            Some("image/png")
        );
        assert_eq!(
            ImageType::sniff(jpeg).map(|t| t.content_type),
            Some("image/jpeg")
        );
        assert_eq!(
            ImageType::sniff(webp).map(|t| t.content_type),
            Some("image/webp")
        );
        assert_eq!(ImageType::sniff(wave), None, "a RIFF file that is not WebP");
        assert_eq!(ImageType::sniff(b"GIF89a"), None);
        // Every accepted file is recognised as the type it was accepted as, so a store that
        // keeps only the bytes serves the declared type.
        for image in TYPES {
            let sample = [png, jpeg, webp]
                .into_iter()
                .find(|bytes| image.matches(bytes))
                .expect("a sample of every type");
            assert_eq!(ImageType::sniff(sample), Some(image));
            assert_eq!(ImageType::declared(image.content_type), Some(image));
        }
    }

    #[tokio::test]
    async fn disk_store_replaces_a_banner_of_another_type() {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path().join("media");
        let store = BannerStore::Disk;
        assert_eq!(store.get(&dir, 7).await.expect("get"), None);
        let png = Bytes::from_static(b"\x89PNG\r\n\x1a\nfirst");
        store
            .put(&dir, 7, TYPES[0], png.clone())
            .await
            .expect("put png");
        let served = store.get(&dir, 7).await.expect("get").expect("banner");
        assert_eq!((served.image, served.bytes), (TYPES[0], png));
        let jpeg = Bytes::from_static(b"\xff\xd8\xff\xe0second");
        store
            .put(&dir, 7, TYPES[1], jpeg.clone())
            .await
            .expect("put jpeg");
        let served = store.get(&dir, 7).await.expect("get").expect("banner");
        assert_eq!((served.image, served.bytes), (TYPES[1], jpeg));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["banner-7.jpg"],
            "no old file and no partial file left"
        );
    }
}
