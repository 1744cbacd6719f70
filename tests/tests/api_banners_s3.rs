//! Show banners in an S3-compatible bucket: the API with the S3 banner store against a real
//! S3 server (moto), answering exactly as with the disk store — the same bytes, type, ETag,
//! caching and 304 — replacing a banner of another type, keeping one object per show, and
//! answering a problem (503 `media_unavailable`) when the bucket cannot be reached.

use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, ObjectStoreExt};
use picket_api::media::{BannerStore, S3BannerConfig, S3Banners};
use picket_tests::MotoS3;
use picket_tests::api::ApiSetup;
use picket_tests::api::{call_raw, header, put_banner, sample_jpeg, sample_png};
use serde_json::Value;

const BUCKET: &str = "picket-banners";
/// How long one request to the bucket may take in this test (the unreachable case waits for
/// the retries to give up within it).
const BUCKET_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

fn bucket_config(moto: &MotoS3) -> S3BannerConfig {
    S3BannerConfig {
        region: MotoS3::REGION.to_owned(),
        request_timeout: BUCKET_REQUEST_TIMEOUT,
        ..S3BannerConfig::new(
            moto.endpoint(),
            BUCKET,
            MotoS3::ACCESS_KEY_ID,
            MotoS3::SECRET_ACCESS_KEY,
        )
    }
}

/// The object as moto holds it, read with a client of the test's own (signed GET): its bytes
/// and its `Content-Type`.
async fn object_in_bucket(moto: &MotoS3, key: &str) -> (Vec<u8>, Option<String>) {
    let bucket = AmazonS3Builder::new()
        .with_endpoint(moto.endpoint())
        .with_bucket_name(BUCKET)
        .with_region(MotoS3::REGION)
        .with_access_key_id(MotoS3::ACCESS_KEY_ID)
        .with_secret_access_key(MotoS3::SECRET_ACCESS_KEY)
        .with_allow_http(true)
        .build()
        .expect("a client for the bucket");
    let object = bucket
        .get(&ObjectPath::from(key))
        .await
        .expect("the object");
    let content_type = object
        .attributes
        .get(&Attribute::ContentType)
        .map(|value| value.to_string());
    let bytes = object.bytes().await.expect("the object's bytes");
    (bytes.to_vec(), content_type)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banners_are_stored_in_and_served_from_an_s3_bucket() {
    let mut moto = MotoS3::start().expect("moto_server");
    moto.create_bucket(BUCKET).expect("bucket");
    let store = BannerStore::s3(&bucket_config(&moto)).expect("the S3 banner store");
    let setup = ApiSetup::start_with(|config| config.banner_store = store).await;
    let address = setup.address;
    let (show, _) = setup.published_show("s@example.com", "123-45-67891").await;
    let token = setup.sign_in("s@example.com").await;
    let bearer = format!("Bearer {token}");
    let path = format!("/api/v2/shows/{show}/banner");
    let key = S3Banners::key(show);

    assert_eq!(
        call_raw(address, "GET", &path, &[], b"").await.0,
        404,
        "nothing stored yet"
    );

    // A PNG, stored and served as the disk store serves it.
    let png = sample_png(5_000);
    let stored = put_banner(address, &path, &bearer, "image/png", &png).await;
    assert_eq!(stored.0, 204, "{}", String::from_utf8_lossy(&stored.2));
    assert_eq!(header(&stored.1, "location"), Some(path.as_str()));
    let (status, head, bytes) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(bytes, png);
    assert_eq!(header(&head, "content-type"), Some("image/png"));
    assert_eq!(header(&head, "cache-control"), Some("public, max-age=3600"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let png_etag = header(&head, "etag").expect("etag").to_owned();
    let (status, head, bytes) =
        call_raw(address, "GET", &path, &[("If-None-Match", &png_etag)], b"").await;
    assert_eq!((status, bytes.len()), (304, 0));
    assert_eq!(header(&head, "etag"), Some(png_etag.as_str()));
    assert_eq!(header(&head, "cache-control"), Some("public, max-age=3600"));

    // The object really is in the bucket: one key for the show, the same bytes and type.
    assert_eq!(
        moto.list_keys(BUCKET, "banners/").expect("list"),
        std::slice::from_ref(&key)
    );
    assert_eq!(
        object_in_bucket(&moto, &key).await,
        (png.clone(), Some("image/png".to_owned()))
    );
    assert!(
        !setup.api.config.media_dir.exists(),
        "nothing goes to the media directory"
    );

    // Checks are unchanged: a bad upload is refused and leaves the stored banner alone.
    let refused = call_raw(
        address,
        "PUT",
        &path,
        &[("Authorization", &bearer), ("Content-Type", "image/png")],
        b"\xff\xd8\xff\xe0 not a png",
    )
    .await;
    assert_eq!(refused.0, 422);
    assert_eq!(
        object_in_bucket(&moto, &key).await.0,
        png,
        "a refused upload changes nothing"
    );

    // A JPEG replaces the PNG: the new type and bytes are served, the old ETag no longer
    // matches, and the bucket still holds one object for the show.
    let jpeg = sample_jpeg(40);
    let replaced = put_banner(address, &path, &bearer, "image/jpeg", &jpeg).await;
    assert_eq!(replaced.0, 204, "{}", String::from_utf8_lossy(&replaced.2));
    let (status, head, bytes) =
        call_raw(address, "GET", &path, &[("If-None-Match", &png_etag)], b"").await;
    assert_eq!(status, 200, "the old ETag must not match the new banner");
    assert_eq!(bytes, jpeg);
    assert_eq!(header(&head, "content-type"), Some("image/jpeg"));
    let jpeg_etag = header(&head, "etag").expect("etag").to_owned();
    assert_ne!(jpeg_etag, png_etag);
    let (status, _, _) =
        call_raw(address, "GET", &path, &[("If-None-Match", &jpeg_etag)], b"").await;
    assert_eq!(status, 304);
    assert_eq!(
        moto.list_keys(BUCKET, "banners/").expect("list"),
        std::slice::from_ref(&key)
    );
    assert_eq!(
        object_in_bucket(&moto, &key).await,
        (jpeg.clone(), Some("image/jpeg".to_owned()))
    );

    // The bucket gone: a problem (503 media_unavailable) within the request timeout, for an
    // upload and for a read; no 500, no panic, and the API keeps answering.
    moto.kill().expect("kill moto");
    let started = Instant::now();
    let (status, head, body) = put_banner(address, &path, &bearer, "image/png", &png).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        header(&head, "content-type"),
        Some("application/problem+json")
    );
    let problem: Value = serde_json::from_slice(&body).expect("a problem");
    assert_eq!(problem["code"], "media_unavailable");
    assert_eq!(problem["status"], 503);
    assert!(
        !problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1"),
        "the store's error is logged, not shown: {problem}"
    );
    assert!(
        started.elapsed() < BUCKET_REQUEST_TIMEOUT * 3,
        "took {:?}",
        started.elapsed()
    );
    let (status, head, body) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        header(&head, "content-type"),
        Some("application/problem+json")
    );
    let answer = call_raw(address, "GET", &format!("/api/v2/shows/{show}"), &[], b"").await;
    assert_eq!(answer.0, 200, "the rest of the API is unaffected");

    // Back again (moto starts empty): uploads work without restarting the API.
    moto.start_again().expect("moto again");
    moto.create_bucket(BUCKET).expect("bucket again");
    let stored = put_banner(address, &path, &bearer, "image/png", &png).await;
    assert_eq!(stored.0, 204, "{}", String::from_utf8_lossy(&stored.2));
    let (status, _, bytes) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!((status, bytes), (200, png));
}
