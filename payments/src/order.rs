//! Order ids bound to holds: `pk<performance>h<hold>n<nonce>`.
//!
//! A provider's order id is the only thing its records say about what was bought, so Picket's
//! order id names the performance and the hold. The nonce makes each checkout attempt a new order
//! (a declined card leaves the hold; the buyer tries again with a new order), and keeps order ids
//! from being guessed. The amount is never in the id: it is the hold's, read from the ledger.

use std::fmt;
use std::str::FromStr;

/// Characters of the nonce (lower-case hex).
pub const ORDER_NONCE_CHARS: usize = 16;

/// An order id for one checkout of one hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderId {
    pub performance: u64,
    pub hold: u64,
    /// `ORDER_NONCE_CHARS` lower-case hex characters.
    nonce: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a Picket order id")]
pub struct OrderIdError;

impl OrderId {
    /// An order for `hold` of `performance`; `nonce` is random bits from the caller (the core
    /// of the crate takes no randomness itself).
    pub fn new(performance: u64, hold: u64, nonce: u64) -> OrderId {
        OrderId {
            performance,
            hold,
            nonce: format!("{nonce:016x}"),
        }
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pk{}h{}n{}", self.performance, self.hold, self.nonce)
    }
}

fn digits(text: &str) -> Result<u64, OrderIdError> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(OrderIdError);
    }
    text.parse().map_err(|_| OrderIdError)
}

impl FromStr for OrderId {
    type Err = OrderIdError;

    /// Only the exact form `Display` writes: one text, one order.
    fn from_str(text: &str) -> Result<OrderId, OrderIdError> {
        let rest = text.strip_prefix("pk").ok_or(OrderIdError)?;
        let (performance, rest) = rest.split_once('h').ok_or(OrderIdError)?;
        let (hold, nonce) = rest.split_once('n').ok_or(OrderIdError)?;
        let nonce_ok = nonce.len() == ORDER_NONCE_CHARS
            && nonce
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !nonce_ok {
            return Err(OrderIdError);
        }
        Ok(OrderId {
            performance: digits(performance)?,
            hold: digits(hold)?,
            nonce: nonce.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_id_names_its_hold_and_fits_the_provider_rule() {
        let widest = OrderId::new(u64::MAX, u64::MAX, u64::MAX).to_string();
        assert!(picket_toss_wire::is_valid_order_id(&widest), "{widest}");
        let order = OrderId::new(117_701_597_864_396_273, 281_474_976_710_657, 0xabc);
        let text = order.to_string();
        assert_eq!(
            text,
            "pk117701597864396273h281474976710657n0000000000000abc"
        );
        let back: OrderId = text.parse().expect("parses");
        assert_eq!(
            (back.performance, back.hold),
            (117_701_597_864_396_273, 281_474_976_710_657)
        );
        assert_eq!(back, order);
    }

    #[test]
    fn anything_else_is_not_an_order_id() {
        for text in [
            "",
            "pk1h2n",
            "pk1h2n000000000000000g",
            "pk01h2n0000000000000000",
            "pk1h2n00000000000000000",
            "pk1h2n000000000000000A",
            "pk+1h2n0000000000000000",
            "pk18446744073709551616h2n0000000000000000",
            "xk1h2n0000000000000000",
            "pk1h2h3n0000000000000000",
        ] {
            assert_eq!(text.parse::<OrderId>(), Err(OrderIdError), "{text}");
        }
    }
}
