//! The test cards: what a card number at the checkout page makes the confirm do.

use picket_toss_wire::ErrorCode;

/// How a payment made with a card behaves when it is confirmed (or charged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestCard {
    /// Approved.
    Approve,
    /// Declined by the card company: `403 REJECT_CARD_COMPANY`.
    Decline,
    /// Over the limit or not enough balance: `403 REJECT_CARD_PAYMENT` (Toss's code for it).
    Insufficient,
    /// Approved, but the answer is held for `timeout_card_hold`: the client times out and must
    /// look the payment up.
    Timeout,
    /// Approved after `slow_card_delay`.
    Slow,
}

/// The documented test card numbers. Any other 16-digit number approves.
pub const TEST_CARDS: [(&str, TestCard); 5] = [
    ("4330000000000001", TestCard::Approve),
    ("4330000000000019", TestCard::Decline),
    ("4330000000000027", TestCard::Insufficient),
    ("4330000000000035", TestCard::Timeout),
    ("4330000000000043", TestCard::Slow),
];

impl TestCard {
    pub fn as_str(self) -> &'static str {
        match self {
            TestCard::Approve => "approve",
            TestCard::Decline => "decline",
            TestCard::Insufficient => "insufficient",
            TestCard::Timeout => "timeout",
            TestCard::Slow => "slow",
        }
    }

    pub fn parse(text: &str) -> Option<TestCard> {
        [
            TestCard::Approve,
            TestCard::Decline,
            TestCard::Insufficient,
            TestCard::Timeout,
            TestCard::Slow,
        ]
        .into_iter()
        .find(|card| card.as_str() == text)
    }

    /// The error a confirm with this card answers, if it is refused.
    pub fn refusal(self) -> Option<ErrorCode> {
        match self {
            TestCard::Decline => Some(ErrorCode::RejectCardCompany),
            TestCard::Insufficient => Some(ErrorCode::RejectCardPayment),
            _ => None,
        }
    }
}

/// A card number as typed (spaces and dashes allowed): its behaviour and its masked form
/// (`43300000****000*`, as Toss masks), or `INVALID_CARD_NUMBER` unless it has 16 digits.
pub fn read_card(input: &str, chars_max: usize) -> Result<(TestCard, String), ErrorCode> {
    if input.chars().count() > chars_max {
        return Err(ErrorCode::InvalidCardNumber);
    }
    let digits: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::InvalidCardNumber);
    }
    let card = TEST_CARDS
        .iter()
        .find(|(number, _)| *number == digits)
        .map_or(TestCard::Approve, |(_, card)| *card);
    let masked = format!("{}****{}*", &digits[..8], &digits[12..15]);
    Ok((card, masked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_are_read_and_masked() {
        assert_eq!(
            read_card("4330-0000-0000-0027", 32),
            Ok((TestCard::Insufficient, "43300000****002*".into()))
        );
        assert_eq!(
            read_card("1234 5678 1234 5678", 32).map(|c| c.0),
            Ok(TestCard::Approve)
        );
        assert_eq!(read_card("4330", 32), Err(ErrorCode::InvalidCardNumber));
        assert_eq!(
            read_card("433000000000000x", 32),
            Err(ErrorCode::InvalidCardNumber)
        );
        assert_eq!(
            read_card(&" ".repeat(40), 32),
            Err(ErrorCode::InvalidCardNumber)
        );
        for (_, card) in TEST_CARDS {
            assert_eq!(TestCard::parse(card.as_str()), Some(card));
        }
    }
}
