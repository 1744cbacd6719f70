//! What a file is (its `Content-Type`, from its extension) and its gzip.

use std::io::Write;

/// Files smaller than this are sent as they are: gzip's header and the extra header line cost
/// about what it would save.
pub const GZIP_BYTES_MIN: usize = 1_024;
/// The largest file compressed (and kept compressed in memory); larger ones go as they are. The
/// build's biggest chunk is far below it; the bound keeps the cache's memory bounded by the
/// build's own size whatever is committed.
pub const GZIP_BYTES_MAX: usize = 8 * 1024 * 1024;

/// The `Content-Type` of a build file, by its extension.
pub fn type_of(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Whether a file of this type and size is worth gzipping (images and fonts are compressed
/// already).
pub fn compressible(content_type: &str, len: usize) -> bool {
    let text = content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg+xml")
        || content_type.starts_with("application/wasm");
    text && (GZIP_BYTES_MIN..=GZIP_BYTES_MAX).contains(&len)
}

/// `bytes` gzipped at the best level (once per file, so the time is spent once), or `None` when
/// that is no smaller.
pub fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::best(),
    );
    if let Err(error) = encoder.write_all(bytes) {
        tracing::warn!(%error, "gzip failed; sending the file as it is");
        return None;
    }
    match encoder.finish() {
        Ok(compressed) if compressed.len() < bytes.len() => Some(compressed),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, "gzip failed; sending the file as it is");
            None
        }
    }
}
