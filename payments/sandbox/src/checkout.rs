//! The checkout page (the sandbox's stand-in for Toss's payment window) and the billing
//! authorisation page: small, mobile-first HTML, Korean first with English, no external assets,
//! everything echoed escaped; and the redirect URLs they send the buyer back to.

/// Escapes text for HTML (element content and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Apple SD Gothic Neo','Noto Sans KR',sans-serif;margin:0;background:#f2f4f6;color:#191f28}\
main{max-width:420px;margin:0 auto;padding:20px}\
.card{background:#fff;border-radius:16px;padding:20px;box-shadow:0 1px 4px rgba(0,0,0,.08)}\
h1{font-size:1.25rem;margin:0 0 4px}.en{color:#6b7684;font-size:.85rem}\
.amount{font-size:1.75rem;font-weight:700;margin:16px 0}\
label{display:block;margin:16px 0 6px;font-weight:600}\
input[type=text]{width:100%;box-sizing:border-box;font-size:1.1rem;padding:12px;border:1px solid #d1d6db;border-radius:10px}\
button{width:100%;margin-top:20px;padding:14px;font-size:1.1rem;font-weight:700;color:#fff;background:#3182f6;border:0;border-radius:12px}\
ul{padding-left:18px;color:#4e5968;font-size:.85rem}.error{color:#d22030}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

const TEST_CARD_LIST: &str = "<ul>\
<li>4330 0000 0000 0001 — 승인 / approved</li>\
<li>4330 0000 0000 0019 — 거절 / declined</li>\
<li>4330 0000 0000 0027 — 잔액 부족 / insufficient funds</li>\
<li>4330 0000 0000 0035 — 응답 없음 / times out</li>\
<li>4330 0000 0000 0043 — 느린 승인 / slow approval</li></ul>";

/// The checkout page for an order: a card number field and a pay button posting to
/// `/checkout` with the order's fields.
pub fn checkout_page(fields: &[(&str, &str)], order_name: &str, amount: u64) -> String {
    let hidden_fields: String = fields.iter().map(|(n, v)| hidden(n, v)).collect();
    let body = format!(
        "<div class=\"card\"><h1>결제하기</h1><div class=\"en\">Picket 테스트 결제 / Picket sandbox checkout</div>\
         <p>{}</p><div class=\"amount\">{}원</div>\
         <form method=\"post\" action=\"/checkout\">{hidden_fields}\
         <label for=\"cardNumber\">카드 번호 <span class=\"en\">Card number</span></label>\
         <input type=\"text\" id=\"cardNumber\" name=\"cardNumber\" inputmode=\"numeric\" autocomplete=\"off\" \
         value=\"4330 0000 0000 0001\" required>\
         <button type=\"submit\">결제하기 · Pay</button></form>\
         <p class=\"en\">테스트 카드 / Test cards</p>{TEST_CARD_LIST}</div>",
        escape(order_name),
        group_thousands(amount)
    );
    page("결제하기 · Checkout", &body)
}

/// The billing authorisation page: a card number to register for automatic payments.
pub fn billing_page(fields: &[(&str, &str)]) -> String {
    let hidden_fields: String = fields.iter().map(|(n, v)| hidden(n, v)).collect();
    let body = format!(
        "<div class=\"card\"><h1>자동결제 카드 등록</h1><div class=\"en\">Register a card for automatic payments</div>\
         <form method=\"post\" action=\"/billing/authorize\">{hidden_fields}\
         <label for=\"cardNumber\">카드 번호 <span class=\"en\">Card number</span></label>\
         <input type=\"text\" id=\"cardNumber\" name=\"cardNumber\" inputmode=\"numeric\" autocomplete=\"off\" \
         value=\"4330 0000 0000 0001\" required>\
         <button type=\"submit\">등록하기 · Register</button></form>\
         <p class=\"en\">테스트 카드 / Test cards</p>{TEST_CARD_LIST}</div>"
    );
    page("카드 등록 · Register a card", &body)
}

/// A page saying the request cannot be shown (bad key or bad URLs: nowhere safe to redirect).
pub fn error_page(korean: &str, english: &str) -> String {
    let body = format!(
        "<div class=\"card\"><h1 class=\"error\">결제를 진행할 수 없습니다</h1>\
         <div class=\"en\">This payment cannot go on</div><p>{}</p><p class=\"en\">{}</p></div>",
        escape(korean),
        escape(english)
    );
    page("오류 · Error", &body)
}

fn group_thousands(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_text_is_escaped() {
        let html = checkout_page(
            &[("orderId", "a\"><script>alert(1)</script>")],
            "<img src=x onerror=alert(1)>",
            15_000,
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("15,000원"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external assets"
        );
    }
}
