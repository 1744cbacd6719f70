//! The URLs the sandbox sends buyers and webhooks to, checked before use.

use hyper::Uri;

/// A webhook URL, checked: plain `http://` with a host, at most `bytes_max` bytes.
pub fn webhook_target(url: &str, bytes_max: usize) -> Result<Uri, String> {
    if url.len() > bytes_max {
        return Err(format!("longer than {bytes_max} bytes"));
    }
    let uri: Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err("must be an http:// URL with a host (the sandbox sends plain HTTP)".into());
    }
    Ok(uri)
}

/// A `successUrl` / `failUrl`, checked: an absolute `http(s)://` URL with a host, at most
/// `bytes_max` bytes (never `javascript:` or a relative path).
pub fn redirect_url(url: &str, bytes_max: usize) -> Result<String, String> {
    if url.len() > bytes_max {
        return Err(format!("URL longer than {bytes_max} bytes"));
    }
    let uri: Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(url.to_owned()),
        _ => Err("must be an absolute http:// or https:// URL".into()),
    }
}

/// `url` with `pairs` added to its query string (form-encoded).
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let query = query.finish();
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let joiner = if base.contains('?') { "&" } else { "?" };
    match fragment {
        Some(fragment) => format!("{base}{joiner}{query}#{fragment}"),
        None => format!("{base}{joiner}{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls_are_absolute_http() {
        assert!(redirect_url("https://shop.example/success", 2048).is_ok());
        assert!(redirect_url("http://127.0.0.1:8080/pay/ok?x=1", 2048).is_ok());
        for bad in [
            "javascript:alert(1)",
            "/success",
            "data:text/html,x",
            "ftp://h/x",
            "https:///x",
        ] {
            assert!(redirect_url(bad, 2048).is_err(), "{bad}");
        }
        assert!(redirect_url(&format!("https://h/{}", "a".repeat(3000)), 2048).is_err());
    }

    #[test]
    fn query_pairs_are_appended_and_encoded() {
        assert_eq!(
            with_query(
                "https://h/ok?x=1#top",
                &[("code", "A B"), ("message", "실패&")]
            ),
            "https://h/ok?x=1&code=A+B&message=%EC%8B%A4%ED%8C%A8%26#top"
        );
        assert_eq!(
            with_query("https://h/ok", &[("a", "1")]),
            "https://h/ok?a=1"
        );
    }

    #[test]
    fn only_http_urls_are_targets() {
        assert!(webhook_target("http://127.0.0.1:9000/hooks/toss", 2048).is_ok());
        for bad in [
            "https://example.com/x",
            "javascript:alert(1)",
            "/relative",
            "ftp://h/x",
        ] {
            assert!(webhook_target(bad, 2048).is_err(), "{bad}");
        }
        assert!(webhook_target(&format!("http://h/{}", "a".repeat(3000)), 2048).is_err());
    }
}
