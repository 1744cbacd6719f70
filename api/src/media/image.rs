//! The image types banners may have, a stored banner, and why a banner store failed: what both
//! stores (`disk.rs`, `s3.rs`) and `media.rs` share.

use axum::body::Bytes;

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

/// Widest and tallest banner accepted, in pixels: far more than a page shows, and a bound on
/// what decoding allocates (a small file can claim a huge image).
pub const BANNER_SIDE_PX_MAX: u32 = 4_096;
/// Most memory decoding one banner may take: a 4,096 × 4,096 RGBA image and the decoder's own.
pub const BANNER_DECODE_BYTES_MAX: u64 = 80 * 1_024 * 1_024;

impl ImageType {
    /// Whether `bytes` are a whole image of this type, decoded within the limits above: the magic
    /// bytes alone would let a PNG signature followed by an HTML page through. `Err` says why
    /// not, for the uploader. CPU-bound: callers run it off the async threads.
    pub fn decode_check(&self, bytes: &[u8]) -> Result<(), String> {
        let format = match self.extension {
            "png" => ::image::ImageFormat::Png,
            "jpg" => ::image::ImageFormat::Jpeg,
            _ => ::image::ImageFormat::WebP,
        };
        let mut reader = ::image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
        let mut limits = ::image::Limits::default();
        limits.max_image_width = Some(BANNER_SIDE_PX_MAX);
        limits.max_image_height = Some(BANNER_SIDE_PX_MAX);
        limits.max_alloc = Some(BANNER_DECODE_BYTES_MAX);
        reader.limits(limits);
        reader.decode().map(drop).map_err(|error| error.to_string())
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
