//! Banners as files in the media directory: `banner-<show>.<ext>`, one per show.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use axum::body::Bytes;

use crate::media::image::{Banner, BannerStoreError, ImageType, TYPES};

fn banner_path(dir: &Path, show: i64, image: ImageType) -> PathBuf {
    dir.join(format!("banner-{show}.{}", image.extension))
}

/// Writes the banner beside its final name and renames it, so a reader never sees half a file;
/// then removes the banner of any other type, so the old one is never served again.
pub(super) async fn put(
    dir: &Path,
    show: i64,
    image: ImageType,
    bytes: &[u8],
) -> Result<(), BannerStoreError> {
    tokio::fs::create_dir_all(dir).await?;
    let path = banner_path(dir, show, image);
    let partial = dir.join(format!("banner-{show}.{}.partial", image.extension));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    for other in TYPES.into_iter().filter(|t| *t != image) {
        match tokio::fs::remove_file(banner_path(dir, show, other)).await {
            Err(error) if error.kind() != ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    Ok(())
}

/// The banner of `show`, whichever type it has.
pub(super) async fn get(dir: &Path, show: i64) -> Result<Option<Banner>, BannerStoreError> {
    for image in TYPES {
        match tokio::fs::read(banner_path(dir, show, image)).await {
            Ok(bytes) => {
                return Ok(Some(Banner {
                    image,
                    bytes: Bytes::from(bytes),
                }));
            }
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(None)
}
