//! Banners as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto): one object per
//! show, `banners/<show>`, with the image's `Content-Type`. A new banner is one PUT over the same
//! key, so it replaces the old one whatever its type, and readers see the old or the new object,
//! never a mix. Requests are path-style (`<endpoint>/<bucket>/<key>`), signed with AWS SigV4,
//! over HTTP or HTTPS (rustls) as the endpoint says.
//!
//! The client is `object_store`'s; its retries are bounded by [`S3BannerConfig::retries_max`]
//! and [`S3BannerConfig::request_timeout`], so an unreachable bucket fails a request within
//! seconds instead of holding it.

use std::time::Duration;

use axum::body::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};

use crate::media::image::{Banner, BannerStoreError, ImageType};

/// The folder of the bucket that banners go in.
pub const KEY_PREFIX: &str = "banners";
/// The region when none is configured (what MinIO and moto expect by default).
pub const DEFAULT_REGION: &str = "us-east-1";
/// How long one request to the bucket may take, connecting included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting to the endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Retries of a failed request (connection refused, 5xx, timeout) before the API answers 503.
pub const RETRIES_MAX: usize = 2;
/// The first pause before a retry (it doubles each time).
pub const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Where the bucket is and how to sign for it.
#[derive(Clone)]
pub struct S3BannerConfig {
    /// `https://…` or `http://…`, without the bucket (requests are path-style).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Longest one request may take ([`REQUEST_TIMEOUT`]); retries all end within it too.
    pub request_timeout: Duration,
    /// Longest connecting may take ([`CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Retries of a failed request ([`RETRIES_MAX`]).
    pub retries_max: usize,
}

impl S3BannerConfig {
    /// A bucket in [`DEFAULT_REGION`] with the default limits.
    pub fn new(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> S3BannerConfig {
        S3BannerConfig {
            endpoint: endpoint.into(),
            bucket: bucket.into(),
            region: DEFAULT_REGION.to_owned(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            request_timeout: REQUEST_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            retries_max: RETRIES_MAX,
        }
    }
}

/// The secret key is never printed.
impl std::fmt::Debug for S3BannerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BannerConfig")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retries_max", &self.retries_max)
            .finish()
    }
}

/// A bucket that holds banners. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct S3Banners {
    store: AmazonS3,
    endpoint: String,
    bucket: String,
}

impl std::fmt::Debug for S3Banners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Banners")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl S3Banners {
    /// Checks the configuration and builds the client; no request is made yet.
    pub fn connect(config: &S3BannerConfig) -> Result<S3Banners, BannerStoreError> {
        let endpoint = config.endpoint.trim_end_matches('/');
        let plain_http = if endpoint.starts_with("http://") {
            true
        } else if endpoint.starts_with("https://") {
            false
        } else {
            return Err(BannerStoreError::Config(format!(
                "the endpoint must start with http:// or https://: {endpoint:?}"
            )));
        };
        let missing = [
            ("bucket", &config.bucket),
            ("region", &config.region),
            ("access key id", &config.access_key_id),
            ("secret access key", &config.secret_access_key),
        ]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(name, _)| name)
        .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(BannerStoreError::Config(format!(
                "missing {}",
                missing.join(", ")
            )));
        }
        let options = ClientOptions::new()
            .with_allow_http(plain_http)
            .with_timeout(config.request_timeout)
            .with_connect_timeout(config.connect_timeout);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: RETRY_BACKOFF,
                max_backoff: config.request_timeout,
                base: 2.0,
            },
            max_retries: config.retries_max,
            retry_timeout: config.request_timeout,
        };
        // `new`, not `from_env`: nothing but this configuration decides where banners go.
        let store = AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .with_retry(retry)
            .build()?;
        Ok(S3Banners {
            store,
            endpoint: endpoint.to_owned(),
            bucket: config.bucket.clone(),
        })
    }

    /// The object key of `show`'s banner: `banners/<show>`.
    pub fn key(show: i64) -> String {
        format!("{KEY_PREFIX}/{show}")
    }

    /// One PUT: the new object replaces the old one atomically.
    pub(super) async fn put(
        &self,
        show: i64,
        image: ImageType,
        bytes: Bytes,
    ) -> Result<(), BannerStoreError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, image.content_type.into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(
                &Path::from(Self::key(show)),
                PutPayload::from(bytes),
                options,
            )
            .await?;
        Ok(())
    }

    /// The banner's bytes; its type is read from them (uploads were checked, and the accepted
    /// types' magic bytes differ), so a stray `Content-Type` on the object cannot change what
    /// the API serves.
    pub(super) async fn get(&self, show: i64) -> Result<Option<Banner>, BannerStoreError> {
        let key = Self::key(show);
        let bytes = match self.store.get(&Path::from(key.as_str())).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let image = ImageType::sniff(&bytes).ok_or(BannerStoreError::NotAnImage { key })?;
        Ok(Some(Banner { image, bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_checked_and_the_secret_never_printed() {
        let good = S3BannerConfig::new("http://127.0.0.1:9000/", "banners", "key", "s3cr3t");
        let store = S3Banners::connect(&good).expect("a good configuration");
        assert_eq!(store.endpoint, "http://127.0.0.1:9000");
        assert!(!format!("{good:?}").contains("s3cr3t"));
        assert!(!format!("{store:?}").contains("s3cr3t"));
        let https = S3BannerConfig::new("https://s3.example.com", "b", "key", "secret");
        assert!(S3Banners::connect(&https).is_ok());

        let no_scheme = S3BannerConfig::new("127.0.0.1:9000", "b", "key", "secret");
        assert!(matches!(
            S3Banners::connect(&no_scheme),
            Err(BannerStoreError::Config(_))
        ));
        let no_secret = S3BannerConfig::new("http://127.0.0.1:9000", "b", "key", " ");
        let Err(BannerStoreError::Config(message)) = S3Banners::connect(&no_secret) else {
            panic!("a missing secret must be refused");
        };
        assert_eq!(message, "missing secret access key");
    }

    #[test]
    fn keys_are_one_per_show() {
        assert_eq!(S3Banners::key(42), "banners/42");
    }

    #[tokio::test]
    async fn an_unreachable_bucket_is_an_error_within_the_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut config =
            S3BannerConfig::new(format!("http://127.0.0.1:{port}"), "b", "key", "secret");
        config.request_timeout = Duration::from_secs(2);
        let store = S3Banners::connect(&config).expect("client");
        let started = std::time::Instant::now();
        let put = store
            .put(1, crate::media::image::TYPES[0], Bytes::from_static(b"x"))
            .await;
        assert!(matches!(put, Err(BannerStoreError::S3(_))), "{put:?}");
        assert!(matches!(store.get(1).await, Err(BannerStoreError::S3(_))));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
