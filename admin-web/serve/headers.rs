//! Headers every answer of the UI carries: no type sniffing, no framing, and a
//! Content-Security-Policy that allows exactly what the app does.

use axum::http::{HeaderMap, HeaderValue, header};

/// The policy, less `connect-src` (which names the host the page was loaded from):
///
/// - scripts, styles, fonts, the manifest and the service worker from this origin only (Vite's
///   build has no inline script); inline `style` attributes are allowed, as the seat map and
///   progress bars set sizes and colours through them;
/// - images from this origin, and `data:`/`blob:` (ticket QR codes drawn on the device, camera
///   frames); camera video from `blob:`/`mediastream:`;
/// - no plugins, no `<base>` elsewhere, no frames either way (`frame-ancestors 'none'`: the
///   payment page is a navigation away from the app, never a frame of it).
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob: mediastream:; font-src 'self'; \
     manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; frame-src 'none'; \
     frame-ancestors 'none'";

/// The camera is the scanner's (this origin only); nothing else is asked for.
const PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=()";

/// Adds the security headers to an answer of the UI for `request`.
pub fn secure(response: &mut HeaderMap, request: &HeaderMap) {
    response.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS));
    let policy = format!("{POLICY}; connect-src {}", connect_sources(request));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// `'self'` and this host's WebSocket URLs: CSP's `'self'` covers `ws:`/`wss:` to the page's
/// own host only in browsers that implement CSP 3 fully, so the host is named too. A `Host`
/// that is not a plain host name (and optional port) is not echoed.
fn connect_sources(request: &HeaderMap) -> String {
    let host = request
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_plain_host(h));
    match host {
        Some(host) => format!("'self' ws://{host} wss://{host}"),
        None => "'self'".to_owned(),
    }
}

/// Letters, digits, `.`, `-`, `:` and IPv6 brackets, at most 255 bytes: nothing that could end
/// a CSP source or start another directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
