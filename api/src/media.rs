//! Where show banners are kept: a [`BannerStore`] — files in the media directory
//! (`media/disk.rs`, the default) or objects in an S3-compatible bucket ([`s3`]) — and the image
//! types it accepts. Both stores answer the same: the ETag (`banners.rs`, which serves them
//! over HTTP) is a hash of the bytes, so it does not change when banners move from one store to
//! the other.

mod disk;
mod image;
pub mod s3;

use std::path::Path as FsPath;

use axum::body::Bytes;

pub use image::{
    BANNER_DECODE_BYTES_MAX, BANNER_SIDE_PX_MAX, Banner, BannerStoreError, ImageType, TYPES,
};
pub use s3::{S3BannerConfig, S3Banners};

/// Largest banner accepted.
pub const BANNER_BYTES_MAX: usize = 2 * 1_024 * 1_024;
/// How long browsers and CDNs may keep a banner (its URL stays the same, its ETag changes).
pub const BANNER_CACHE_MAX_AGE_S: u64 = 3_600;

/// Where banners are kept (`ApiConfig::banner_store`).
#[derive(Clone, Debug, Default)]
pub enum BannerStore {
    /// Files `banner-<show>.<ext>` in `ApiConfig::media_dir`.
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

    fn encoded(width: u32, height: u32, format: ::image::ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        ::image::RgbImage::from_pixel(width, height, ::image::Rgb([200, 10, 10]))
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .expect("encode");
        bytes
    }

    #[test]
    fn banners_are_decoded_not_only_sniffed() {
        let [png_type, jpeg_type, _] = TYPES;
        let png = encoded(8, 8, ::image::ImageFormat::Png);
        assert_eq!(png_type.decode_check(&png), Ok(()));
        let jpeg = encoded(8, 8, ::image::ImageFormat::Jpeg);
        assert_eq!(jpeg_type.decode_check(&jpeg), Ok(()));
        let html = [
            b"\x89PNG\r\n\x1a\n".as_slice(),
            b"<html><script>alert(1)</script></html>",
        ]
        .concat();
        assert!(png_type.matches(&html), "the magic bytes alone let it in");
        assert!(png_type.decode_check(&html).is_err());
        assert!(jpeg_type.decode_check(&png).is_err(), "a PNG is not a JPEG");
        assert!(
            png_type.decode_check(&png[..png.len() - 20]).is_err(),
            "cut short"
        );
        let wide = encoded(BANNER_SIDE_PX_MAX + 1, 1, ::image::ImageFormat::Png);
        assert!(
            png_type.decode_check(&wide).is_err(),
            "wider than the limit"
        );
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
