//! `picket-web`: the browser UI, served by `picket up` beside the API and the WebSocket.
//!
//! Vite builds `admin-web/` into `admin-web/dist/` (committed, content-hashed asset names), and
//! this crate embeds that directory in the binary at compile time, so `cargo run -- up` serves
//! the UI with no Node on the machine. What a path gets ([`Site::resolve`]):
//!
//! - `/assets/…` — a built asset, cached for a year (`immutable`: its name changes with it);
//! - `/staff`, `/seller` and `/admin` — a redirect to `/staff/`, `/seller/` or `/admin/`;
//!   `/staff/` and any `/staff/…` path without a file extension — the staff scanner's
//!   `staff/index.html`, and likewise `/seller/…` — the seller console's `seller/index.html`,
//!   and `/admin/…` — the admin dashboard's `admin/index.html`;
//! - any other path with a file extension — that file of the build (`manifest.webmanifest`,
//!   `sw.js`, icons), or 404;
//! - `/` and any other path without one — the buyer app's `index.html`, whose router shows the
//!   page (`/shows/12`) or its own not-found page;
//! - `/api` and everything under it never reach the UI ([`with_api`]), nor do `/ws` paths.
//!
//! Everything but the hashed assets is `Cache-Control: no-cache` with an `ETag` (a revalidation
//! is a 304), so a new build reaches every browser on its next load. Every answer carries
//! `X-Content-Type-Options: nosniff` and a Content-Security-Policy ([`headers`]). Text files are
//! gzipped for clients that accept it, each compressed once on first use.

mod content;
mod headers;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, File, include_dir};
use tower::ServiceExt;

/// The committed build of `admin-web/`.
static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/dist");

/// The buyer app's page, served for every client-side route.
const BUYER_INDEX: &str = "index.html";
/// The pages served under their own path (besides the buyer app's at `/`): the first path
/// segment each owns and its page, served for `/<segment>/` and its client-side routes.
const SECTION_PAGES: [(&str, &str); 3] = [
    // The staff scanner.
    ("staff", "staff/index.html"),
    // The seller console: company sign-in, show registration, the board, the dashboard.
    ("seller", "seller/index.html"),
    // The admin dashboard: the platform overview, moderation, staff accounts.
    ("admin", "admin/index.html"),
];
/// Vite's output for hashed assets (`build.assetsDir`).
const ASSETS_DIR: &str = "assets/";
/// Hashed assets never change under their name.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages, the service worker, the manifest and icons: revalidated on every use (a 304 when
/// unchanged), so a new build is picked up at once.
const CACHE_REVALIDATE: &str = "no-cache";

/// The UI's routes: a fallback for every path the other routers do not take. Merge it last.
pub fn router() -> Router {
    router_for(Arc::new(Site::new(&DIST)))
}

/// `api` for `/api` and every path under it (its own 404, `no_route`, included), and the UI for
/// every other path. The API sees each request as sent: not nested (it routes on the whole
/// `/api/v2/…` path) and with no path parameters of this router's (its extractors count them).
pub fn with_api(api: Router) -> Router {
    let web = router();
    Router::new().fallback(move |request: axum::extract::Request| {
        let target = if is_api(request.uri().path()) {
            api.clone()
        } else {
            web.clone()
        };
        async move {
            match target.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

/// `/api` and everything under it.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

fn router_for(site: Arc<Site>) -> Router {
    Router::new().fallback(serve).with_state(site)
}

/// A build to serve: its files by path, each with its validator and, once asked for, its gzip.
struct Site {
    files: HashMap<&'static str, Entry>,
}

struct Entry {
    file: &'static File<'static>,
    etag: String,
    /// The gzipped body, made on first use; `None` when gzip does not make it smaller.
    gzip: OnceLock<Option<Vec<u8>>>,
}

/// What a request path is answered with.
#[derive(Debug, PartialEq, Eq)]
enum Resolution {
    File(&'static str),
    Redirect(String),
    NotFound,
}

impl Site {
    fn new(dir: &'static Dir<'static>) -> Site {
        let mut files = HashMap::new();
        collect(dir, &mut files);
        Site { files }
    }

    /// Where `path` (and its query, kept on a redirect) leads; see the crate's documentation.
    fn resolve(&self, path: &str, query: Option<&str>) -> Resolution {
        let Some(relative) = path.strip_prefix('/') else {
            return Resolution::NotFound;
        };
        // A section's page without its slash: its relative links need the slash.
        if SECTION_PAGES
            .iter()
            .any(|(segment, _)| relative == *segment)
        {
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            return Resolution::Redirect(format!("/{relative}/{query}"));
        }
        if is_reserved(relative) || relative.split('/').any(|s| s == ".." || s == ".") {
            return Resolution::NotFound;
        }
        if has_extension(relative) {
            return match self.files.get_key_value(relative) {
                Some((path, _)) => Resolution::File(path),
                None => Resolution::NotFound,
            };
        }
        let section = relative.split('/').next().unwrap_or("");
        match SECTION_PAGES
            .iter()
            .find(|(segment, _)| *segment == section)
        {
            Some((_, page)) => Resolution::File(page),
            None => Resolution::File(BUYER_INDEX),
        }
    }
}

fn collect(dir: &'static Dir<'static>, files: &mut HashMap<&'static str, Entry>) {
    for file in dir.files() {
        let Some(path) = file.path().to_str() else {
            continue;
        };
        files.insert(
            path,
            Entry {
                file,
                etag: etag_of(file.contents()),
                gzip: OnceLock::new(),
            },
        );
    }
    for sub in dir.dirs() {
        collect(sub, files);
    }
}

/// A strong validator for one build of one file (stable for a binary; a rebuild changes it
/// only when the bytes change).
fn etag_of(contents: &[u8]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    contents.hash(&mut hasher);
    format!("\"{:016x}-{}\"", hasher.finish(), contents.len())
}

/// Paths that belong to other routers: the API (`with_api` sends them there) and the WebSocket.
fn is_reserved(relative: &str) -> bool {
    ["api", "ws"]
        .iter()
        .any(|prefix| relative == *prefix || relative.starts_with(&format!("{prefix}/")))
}

/// Whether the last segment names a file (`sw.js`, `icon-192.png`): a dot followed by 1–16
/// letters or digits. Client-side routes (`/shows/12`, `/bookings/B-7`) have none.
fn has_extension(relative: &str) -> bool {
    let last = relative.rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && (1..=16).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

async fn serve(
    State(site): State<Arc<Site>>,
    method: Method,
    uri: Uri,
    request_headers: HeaderMap,
) -> Response {
    let mut response = if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    } else {
        match site.resolve(uri.path(), uri.query()) {
            Resolution::File(path) => match site.files.get(path) {
                Some(entry) => file_response(path, entry, &request_headers),
                None => plain(StatusCode::NOT_FOUND, "not found\n"),
            },
            Resolution::Redirect(location) => redirect(&location),
            Resolution::NotFound => plain(StatusCode::NOT_FOUND, "not found\n"),
        }
    };
    headers::secure(response.headers_mut(), &request_headers);
    response
}

fn file_response(path: &str, entry: &Entry, request: &HeaderMap) -> Response {
    let content_type = content::type_of(path);
    let cache = if path.starts_with(ASSETS_DIR) {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let body = entry.file.contents();
    let gzip = if content::compressible(content_type, body.len()) && accepts_gzip(request) {
        entry.gzip.get_or_init(|| content::gzip(body)).as_deref()
    } else {
        None
    };
    let etag = match gzip {
        // Another representation, another validator (RFC 9110 §8.8.3).
        Some(_) => format!("{}-gz\"", entry.etag.trim_end_matches('"')),
        None => entry.etag.clone(),
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag);
    if content::compressible(content_type, body.len()) {
        builder = builder.header(header::VARY, "Accept-Encoding");
    }
    if not_modified(request, &etag) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"));
    }
    let body = match gzip {
        Some(compressed) => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            Body::from(compressed.to_vec())
        }
        None => Body::from(body),
    };
    builder
        .status(StatusCode::OK)
        .body(body)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"))
}

/// `If-None-Match` lists this validator (or is `*`).
fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// `Accept-Encoding` names gzip (or `*`) without `q=0`.
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE_REVALIDATE),
        ],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
