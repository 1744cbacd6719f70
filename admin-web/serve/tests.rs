//! The router over a small fixture build (`serve/testdata/site`: pages, a hashed asset, the
//! manifest, a service worker, an icon) and over the real embedded build.

use std::io::Read;

use axum::body::to_bytes;
use axum::http::Request;
use include_dir::{Dir, include_dir};
use tower::ServiceExt;

use super::*;

static FIXTURE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/serve/testdata/site");
const FIXTURE_ASSET: &str = "assets/app-Ab12Cd34.js";
const FIXTURE_ASSET_PATH: &str = "/assets/app-Ab12Cd34.js";
/// Responses here are small; anything larger is a bug.
const BODY_BYTES_MAX: usize = 1 << 20;

fn fixture() -> Router {
    router_for(Arc::new(Site::new(&FIXTURE)))
}

fn fixture_file(path: &str) -> &'static [u8] {
    FIXTURE.get_file(path).expect("fixture file").contents()
}

async fn send(router: Router, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn get(router: Router, path: &str) -> Response {
    send(router, "GET", path, &[("host", "127.0.0.1:8080")]).await
}

async fn body_of(response: Response) -> Vec<u8> {
    to_bytes(response.into_body(), BODY_BYTES_MAX)
        .await
        .expect("body")
        .to_vec()
}

fn header_of<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII header")
}

#[test]
fn paths_resolve_to_pages_files_redirects_or_nothing() {
    let site = Site::new(&FIXTURE);
    let file = Resolution::File;
    let cases = [
        ("/", file("index.html")),
        ("/shows/12", file("index.html")),
        ("/bookings/B-7/tickets", file("index.html")),
        ("/staff/", file("staff/index.html")),
        ("/staff/performances/3", file("staff/index.html")),
        ("/staff", Resolution::Redirect("/staff/".into())),
        ("/seller/", file("seller/index.html")),
        ("/seller/shows/new", file("seller/index.html")),
        ("/seller/shows/12/board", file("seller/index.html")),
        ("/seller", Resolution::Redirect("/seller/".into())),
        ("/seller/missing.js", Resolution::NotFound),
        ("/sellers/1", file("index.html")),
        ("/admin/", file("admin/index.html")),
        ("/admin/moderation", file("admin/index.html")),
        ("/admin/shows/12/staff", file("admin/index.html")),
        ("/admin", Resolution::Redirect("/admin/".into())),
        ("/admin/missing.js", Resolution::NotFound),
        ("/administrator", file("index.html")),
        ("/staffroom", file("index.html")),
        (FIXTURE_ASSET_PATH, file(FIXTURE_ASSET)),
        ("/manifest.webmanifest", file("manifest.webmanifest")),
        ("/sw.js", file("sw.js")),
        ("/icon-192.png", file("icon-192.png")),
        ("/index.html", file("index.html")),
        ("/assets/app-Missing1.js", Resolution::NotFound),
        ("/favicon.ico", Resolution::NotFound),
        ("/staff/missing.js", Resolution::NotFound),
        ("/api", Resolution::NotFound),
        ("/api/v2/nope", Resolution::NotFound),
        ("/ws", Resolution::NotFound),
        ("/ws/extra", Resolution::NotFound),
        ("/assets/../index.html", Resolution::NotFound),
        ("/./index.html", Resolution::NotFound),
    ];
    for (path, expected) in cases {
        assert_eq!(site.resolve(path, None), expected, "{path}");
    }
    assert_eq!(
        site.resolve("/staff", Some("gate=2")),
        Resolution::Redirect("/staff/?gate=2".into())
    );
    // Paths that merely start like a reserved one are the app's.
    assert_eq!(
        site.resolve("/seller", Some("next=%2Fseller%2Fshows")),
        Resolution::Redirect("/seller/?next=%2Fseller%2Fshows".into())
    );
    assert_eq!(site.resolve("/apis", None), file("index.html"));
    assert_eq!(site.resolve("/wsx/1", None), file("index.html"));
}

#[tokio::test]
async fn pages_are_html_revalidated_and_carry_the_security_headers() {
    for path in ["/", "/shows/1"] {
        let response = get(fixture(), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&response, "cache-control"), "no-cache");
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        let policy = header_of(&response, "content-security-policy").to_owned();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "img-src 'self' data: blob:",
            "frame-ancestors 'none'",
            "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080",
        ] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        assert_eq!(body_of(response).await, fixture_file("index.html"));
    }
    let staff = get(fixture(), "/staff/").await;
    assert_eq!(staff.status(), StatusCode::OK);
    assert_eq!(body_of(staff).await, fixture_file("staff/index.html"));
    let seller = get(fixture(), "/seller/shows/3").await;
    assert_eq!(seller.status(), StatusCode::OK);
    assert_eq!(
        header_of(&seller, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(body_of(seller).await, fixture_file("seller/index.html"));
    let admin = get(fixture(), "/admin/moderation").await;
    assert_eq!(admin.status(), StatusCode::OK);
    assert_eq!(body_of(admin).await, fixture_file("admin/index.html"));
}

#[tokio::test]
async fn a_host_header_that_is_not_a_host_is_not_echoed_into_the_policy() {
    let response = send(fixture(), "GET", "/", &[("host", "evil; script-src *")]).await;
    let policy = header_of(&response, "content-security-policy");
    assert!(policy.ends_with("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("evil"), "{policy}");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_other_files_are_revalidated_with_their_types() {
    let asset = get(fixture(), FIXTURE_ASSET_PATH).await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        header_of(&asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header_of(&asset, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(body_of(asset).await, fixture_file(FIXTURE_ASSET));
    for (path, content_type) in [
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/icon-192.png", "image/png"),
    ] {
        let response = get(fixture(), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header_of(&response, "content-type"), content_type, "{path}");
        assert_eq!(header_of(&response, "cache-control"), "no-cache", "{path}");
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        assert_eq!(body_of(response).await, fixture_file(&path[1..]), "{path}");
    }
}

#[tokio::test]
async fn sections_without_their_slash_are_redirected() {
    for (path, location) in [
        ("/staff", "/staff/"),
        ("/seller", "/seller/"),
        ("/admin", "/admin/"),
    ] {
        let response = get(fixture(), path).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(header_of(&response, "location"), location, "{path}");
    }
}

#[tokio::test]
async fn missing_files_and_reserved_paths_are_404_not_the_app() {
    for path in [
        "/assets/app-Missing1.js",
        "/favicon.ico",
        "/api/v2/nope",
        "/ws/x",
    ] {
        let response = get(fixture(), path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        assert!(!body_of(response).await.starts_with(b"<!doctype"), "{path}");
    }
}

#[tokio::test]
async fn text_is_gzipped_for_clients_that_accept_it_and_the_same_bytes_come_out() {
    let plain = get(fixture(), FIXTURE_ASSET_PATH).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(header_of(&plain, "vary"), "Accept-Encoding");
    let plain_etag = header_of(&plain, "etag").to_owned();

    let headers = [("accept-encoding", "br;q=1.0, gzip;q=0.8")];
    let zipped = send(fixture(), "GET", FIXTURE_ASSET_PATH, &headers).await;
    assert_eq!(header_of(&zipped, "content-encoding"), "gzip");
    assert_ne!(header_of(&zipped, "etag"), plain_etag);
    let compressed = body_of(zipped).await;
    let original = fixture_file(FIXTURE_ASSET);
    assert!(
        compressed.len() < original.len() / 2,
        "{}",
        compressed.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, original);

    // Refused, or too small to be worth it: as it is.
    let refused = [("accept-encoding", "gzip;q=0, identity")];
    let response = send(fixture(), "GET", FIXTURE_ASSET_PATH, &refused).await;
    assert!(response.headers().get("content-encoding").is_none());
    let small = send(fixture(), "GET", "/sw.js", &[("accept-encoding", "gzip")]).await;
    assert!(small.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn a_client_holding_the_current_etag_gets_304() {
    let first = get(fixture(), "/").await;
    let etag = header_of(&first, "etag").to_owned();
    let again = send(fixture(), "GET", "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&again, "etag"), etag);
    assert!(body_of(again).await.is_empty());
    let stale = send(fixture(), "GET", "/", &[("if-none-match", "\"0-0\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_get_and_head_are_taken() {
    let head = send(fixture(), "HEAD", "/", &[]).await;
    assert_eq!(head.status(), StatusCode::OK);
    let post = send(fixture(), "POST", "/", &[]).await;
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_of(&post, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn beside_an_api_every_api_path_is_the_apis_and_the_rest_is_the_app() {
    // A path parameter, as most API routes have: the API's extractors see only their own.
    let show =
        |axum::extract::Path(id): axum::extract::Path<String>| async move { format!("show {id}") };
    let api = Router::new()
        .route("/api/v2/shows", axum::routing::get(|| async { "shows" }))
        .route("/api/v2/shows/{id}", axum::routing::get(show))
        .fallback(|| async { (StatusCode::IM_A_TEAPOT, "the api's own 404") });
    let app = with_api(api);
    let shows = get(app.clone(), "/api/v2/shows").await;
    assert_eq!(body_of(shows).await, b"shows");
    let one = get(app.clone(), "/api/v2/shows/12").await;
    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(body_of(one).await, b"show 12");
    for path in ["/api", "/api/", "/api/v2/nope", "/api/v1/shows"] {
        let response = get(app.clone(), path).await;
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT, "{path}");
    }
    let page = get(app, "/shows/1").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header_of(&page, "content-type"), "text/html; charset=utf-8");
}

/// The real build: every page and every hashed asset they load are embedded and served.
#[tokio::test]
async fn the_embedded_build_serves_every_page_and_its_assets() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    for (path, file) in [
        ("/", "index.html"),
        ("/staff/", "staff/index.html"),
        ("/seller/", "seller/index.html"),
        ("/admin/", "admin/index.html"),
    ] {
        let response = get(router(), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let page = body_of(response).await;
        assert_eq!(page, std::fs::read(dist.join(file)).expect("dist page"));
        let page = String::from_utf8(page).expect("UTF-8 page");
        let assets: Vec<&str> = page
            .split('"')
            .filter(|part| part.starts_with("/assets/"))
            .collect();
        assert!(!assets.is_empty(), "{file} loads no asset");
        for asset in assets {
            let response = get(router(), asset).await;
            assert_eq!(response.status(), StatusCode::OK, "{asset}");
            assert_eq!(
                header_of(&response, "cache-control"),
                "public, max-age=31536000, immutable"
            );
        }
    }
}
