//! Ids as clients see them: decimal strings.
//!
//! JavaScript reads every JSON number as an IEEE double, exact only up to 2^53. Picket's ids go
//! past that (the API's ids carry milliseconds in their high bits, the ledger's carry the
//! partition in their top 16 bits, operators choose performance and sale ids freely), so every
//! id a client reads or sends — in the HTTP API v2 and the WebSocket protocol v2 — is a JSON
//! string of decimal digits. [`Id`] is that encoding as a type: a field declared `Id<T>` cannot
//! become a JSON number by accident. Inside Rust, and on the ledger's own bus and journal, ids
//! stay integers.
//!
//! Parsing is strict: 1 to [`ID_DIGITS_MAX`] ASCII digits, no sign, no spaces, within the
//! range of the id's type ([`IdValue`]). A JSON number where an id belongs is refused.

use std::fmt;
use std::str::FromStr;

use picket_ledger_core::{
    ActorId, BookingId, HoldId, PerformanceId, RefundId, TicketId, WaitlistEntryId,
};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most digits an id has on the wire: `u64::MAX` is 20 digits.
pub const ID_DIGITS_MAX: usize = 20;

/// The pattern an id matches on the wire, as the OpenAPI document states it.
pub const ID_PATTERN: &str = "^[0-9]{1,20}$";

/// An integer id type that travels as a decimal string.
pub trait IdValue: Copy {
    fn to_u64(self) -> u64;
    /// `None` when `value` is outside the type's range.
    fn from_u64(value: u64) -> Option<Self>;
}

impl IdValue for u64 {
    fn to_u64(self) -> u64 {
        self
    }
    fn from_u64(value: u64) -> Option<Self> {
        Some(value)
    }
}

/// The API's database ids: non-negative `BIGINT`s.
impl IdValue for i64 {
    fn to_u64(self) -> u64 {
        // The API never hands out a negative id; one would encode as its two's complement and
        // never parse back, so it cannot be confused with another id.
        self as u64
    }
    fn from_u64(value: u64) -> Option<Self> {
        i64::try_from(value).ok()
    }
}

macro_rules! ledger_id {
    ($($name:ident),*) => {$(
        impl IdValue for $name {
            fn to_u64(self) -> u64 {
                self.0
            }
            fn from_u64(value: u64) -> Option<Self> {
                Some($name(value))
            }
        }
    )*};
}
ledger_id!(
    PerformanceId,
    ActorId,
    HoldId,
    BookingId,
    TicketId,
    RefundId,
    WaitlistEntryId
);

/// An id on the wire: serialized as a decimal string, deserialized only from one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id<T>(pub T);

impl<T: IdValue> Id<T> {
    pub fn get(self) -> T {
        self.0
    }
}

impl<T> From<T> for Id<T> {
    fn from(value: T) -> Self {
        Id(value)
    }
}

/// Why text is not an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAnId;

impl fmt::Display for NotAnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an id is a string of 1 to {ID_DIGITS_MAX} decimal digits within its range"
        )
    }
}

impl std::error::Error for NotAnId {}

/// Parses an id strictly: 1–20 ASCII digits (no sign, no spaces), within `T`'s range.
pub fn parse<T: IdValue>(text: &str) -> Result<T, NotAnId> {
    if text.is_empty() || text.len() > ID_DIGITS_MAX || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotAnId);
    }
    let value: u64 = text.parse().map_err(|_| NotAnId)?;
    T::from_u64(value).ok_or(NotAnId)
}

impl<T: IdValue> FromStr for Id<T> {
    type Err = NotAnId;
    fn from_str(text: &str) -> Result<Self, NotAnId> {
        parse(text).map(Id)
    }
}

impl<T: IdValue> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.to_u64().fmt(f)
    }
}

impl<T: IdValue> Serialize for Id<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, T: IdValue> Deserialize<'de> for Id<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor<T>(std::marker::PhantomData<T>);
        impl<T: IdValue> Visitor<'_> for IdVisitor<T> {
            type Value = Id<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an id: a string of 1 to {ID_DIGITS_MAX} decimal digits")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Id<T>, E> {
                parse(text)
                    .map(Id)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(IdVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_past_2_pow_53_survive_as_strings() {
        let id = Id(117_701_597_864_396_273u64);
        let json = serde_json::to_string(&id).expect("encodes");
        assert_eq!(json, r#""117701597864396273""#);
        assert_eq!(serde_json::from_str::<Id<u64>>(&json).expect("decodes"), id);
    }

    #[test]
    fn only_digit_strings_in_range_are_ids() {
        let good = ["0", "7", "007", "18446744073709551615"];
        for text in good {
            assert!(parse::<u64>(text).is_ok(), "{text}");
        }
        let bad = [
            "",
            "+7",
            "-7",
            " 7",
            "7 ",
            "7.0",
            "1e3",
            "0x10",
            "18446744073709551616",
            "000000000000000000001",
            "٣",
        ];
        for text in bad {
            assert_eq!(parse::<u64>(text), Err(NotAnId), "{text:?}");
        }
        assert_eq!(parse::<i64>("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse::<i64>("9223372036854775808"), Err(NotAnId));
    }

    #[test]
    fn a_json_number_is_not_an_id() {
        for text in [
            "7",
            "117701597864396273",
            "-1",
            "1.5",
            "null",
            "true",
            "[\"7\"]",
        ] {
            assert!(serde_json::from_str::<Id<u64>>(text).is_err(), "{text}");
        }
        assert_eq!(
            serde_json::from_str::<Id<HoldId>>(r#""42""#).expect("decodes"),
            Id(HoldId(42))
        );
    }

    proptest! {
        #[test]
        fn every_u64_round_trips(value in any::<u64>()) {
            let json = serde_json::to_string(&Id(value)).expect("encodes");
            prop_assert_eq!(serde_json::from_str::<Id<u64>>(&json).expect("decodes"), Id(value));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,30}") {
            let _ = parse::<u64>(&text);
            let _ = parse::<i64>(&text);
        }
    }
}
