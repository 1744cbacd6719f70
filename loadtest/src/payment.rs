//! A buyer pays as an app does: the checkout page of the provider the gateway names in its
//! `checkout` answer (the sandbox's `/checkout`, plain HTTP on loopback), with the sandbox's
//! success test card; the redirect's `paymentKey` is what `confirm` then carries. A buyer whose
//! `confirm` was not answered with its booking (the provider's webhook booked the payment first,
//! or the answer did not come) comes back through the success URL, as the browser does, and is
//! told the booking the payment got.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The sandbox's card that is approved at confirm (docs/payments.md).
pub const SUCCESS_CARD: &str = "4330000000000001";
/// Longest wait for the provider's checkout page.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer read from the checkout page.
pub const ANSWER_BYTES_MAX: usize = 64 * 1024;

/// Pays the order of a `checkout` answer at its provider; the payment key, or why not.
pub async fn pay(checkout: &Value) -> Result<String, String> {
    let url = checkout["provider"]["checkout_url"]
        .as_str()
        .unwrap_or_default();
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not a plain-HTTP checkout: {url}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let form = [
        (
            "clientKey",
            checkout["provider"]["client_key"]
                .as_str()
                .unwrap_or_default(),
        ),
        ("orderId", checkout["order_id"].as_str().unwrap_or_default()),
        (
            "orderName",
            checkout["order_name"].as_str().unwrap_or_default(),
        ),
        (
            "amount",
            &checkout["amount_won"]
                .as_u64()
                .unwrap_or_default()
                .to_string(),
        ),
        ("successUrl", "https://loadtest.picket.invalid/paid"),
        ("failUrl", "https://loadtest.picket.invalid/failed"),
        ("cardNumber", SUCCESS_CARD),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", form_encode(value)))
    .collect::<Vec<_>>()
    .join("&");
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let answer = exchange(host, &request, "the checkout page").await?;
    let location = answer
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .ok_or_else(|| "the checkout page did not redirect".to_owned())?;
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let field = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    match field("paymentKey") {
        Some(key) => Ok(key),
        None => Err(field("code").unwrap_or_else(|| "checkout_refused".into())),
    }
}

/// `GET /api/v2/payments/success` on `gateway` for the payment, with the buyer's `admission`
/// token as the app puts it in the successUrl (so the server limits the buyer's returns per
/// buyer, not per the load tester's one address): the server books it as the socket's
/// `confirm` does, or answers the booking already made (`{"booking", "tickets",
/// "amount_won"}`); why not otherwise (the problem's code, or what went wrong).
pub async fn return_to_success_url(
    gateway: SocketAddr,
    admission: &str,
    payment_key: &str,
    order_id: &str,
) -> Result<Value, String> {
    let admission = match admission {
        "" => String::new(),
        token => format!("admission={}&", form_encode(token)),
    };
    let request = format!(
        "GET /api/v2/payments/success?{admission}paymentKey={}&orderId={} HTTP/1.1\r\nHost: {gateway}\r\nConnection: close\r\n\r\n",
        form_encode(payment_key),
        form_encode(order_id)
    );
    let answer = exchange(&gateway.to_string(), &request, "the success URL").await?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        "200" => Ok(body),
        _ => Err(body["code"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), str::to_owned)),
    }
}

/// One plain-HTTP exchange with `addr` (`Connection: close`): writes `request` and reads the
/// answer to its end, at most [`ANSWER_BYTES_MAX`] bytes within [`CHECKOUT_TIMEOUT`]; `what`
/// names the other end in the error.
async fn exchange(addr: &str, request: &str, what: &str) -> Result<String, String> {
    let answer = tokio::time::timeout(CHECKOUT_TIMEOUT, async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        let mut answer = Vec::new();
        (&mut stream)
            .take(ANSWER_BYTES_MAX as u64)
            .read_to_end(&mut answer)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok::<_, String>(String::from_utf8_lossy(&answer).into_owned())
    })
    .await
    .map_err(|_| format!("{what} did not answer"))??;
    Ok(answer)
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
