//! Discounts and coupons: what a seller offers off the grade prices of a performance, and how a
//! hold is priced with one of them.
//!
//! A hold takes at most one offer ([`OfferChoice`]): a discount *or* a coupon, so offers never
//! stack. Prices are per place and in whole won; what a hold costs is the sum of its places'
//! prices, and each ticket keeps its own price, so a partial cancellation refunds exactly what
//! was paid for the cancelled tickets.

use serde::{Deserialize, Serialize};

use crate::limits::*;
use crate::outcome::{Invalid, Rejection};
use crate::types::*;

/// How much an offer takes off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reduction {
    /// 1 to 100 percent of the price (rounded down to whole won).
    Percent(u8),
    /// A fixed amount in won, never more than the price it applies to.
    FixedWon(Won),
}

impl Reduction {
    fn is_valid(self) -> bool {
        match self {
            Reduction::Percent(percent) => (1..=100).contains(&percent),
            Reduction::FixedWon(won) => (1..=TICKET_PRICE_WON_MAX).contains(&won),
        }
    }
}

/// When a discount applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DiscountRule {
    /// Holds made in `[from_ms, until_ms)` get it, on every place.
    EarlyBird { from_ms: u64, until_ms: u64 },
    /// A buyer who says they qualify (disability, youth, veteran, …) gets it on up to
    /// `places_max` places (2 for "disability with one companion"); the rest of the hold pays
    /// the grade price. Nothing is checked online: the ticket carries the discount, and staff
    /// check the proof at the entrance.
    Eligibility { places_max: u16 },
}

/// A discount per ticket, offered to everyone who meets its rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiscountSpec {
    /// What the buyer and the door staff see ("조기예매", "장애인 (동반 1인)", …).
    pub label: String,
    pub rule: DiscountRule,
    pub reduction: Reduction,
    /// The grades it applies to; empty means every grade.
    pub grades: Vec<GradeId>,
}

/// A code a buyer types in: off the whole order, within a validity window, a limited number of
/// times.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CouponSpec {
    /// Upper-case letters, digits and '-', [`COUPON_CODE_LEN_MIN`] to [`LABEL_LEN_MAX`] long.
    pub code: String,
    /// Off the order: a percent of each place's price, or a fixed amount spread over the places
    /// in proportion to their prices.
    pub reduction: Reduction,
    /// The order (grade prices of the hold) must cost at least this much.
    pub min_order_won: Won,
    pub valid_from_ms: u64,
    pub valid_until_ms: u64,
    /// Uses in this performance: holds made with it that are active or paid. A released or
    /// expired hold gives its use back; a cancelled booking does not.
    pub uses_max: u32,
    /// Uses by one buyer in this performance.
    pub uses_per_buyer_max: u16,
}

/// What a hold asks for off the grade prices.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OfferChoice {
    /// The performance's discount at this index of [`crate::PerformanceSpec::discounts`].
    Discount(DiscountId),
    /// A coupon code (compared exactly; the gateway upper-cases what the buyer typed).
    Coupon(String),
}

/// The offer a hold was priced with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppliedOffer {
    Discount(DiscountId),
    Coupon(CouponId),
}

/// A hold's prices: one per place, in the hold's order (empty without an offer: the grade
/// prices apply).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Priced {
    pub prices_won: Vec<Won>,
    /// The places the offer reduced (a discount's ticket shows it at the door).
    pub reduced: Vec<bool>,
    pub offer: Option<AppliedOffer>,
}

/// Coupon uses so far, for the usage limits.
pub trait CouponUses {
    /// Uses of the coupon in the performance (active holds and paid ones).
    fn uses(&self, coupon: CouponId) -> u32;
    /// Uses of the coupon by this buyer.
    fn buyer_uses(&self, coupon: CouponId, buyer: ActorId) -> u16;
}

/// Whether a coupon code has the shape [`CouponSpec::code`] asks for.
pub fn coupon_code_ok(code: &str) -> bool {
    (COUPON_CODE_LEN_MIN..=LABEL_LEN_MAX).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a performance's discounts and coupons (its spec's lists; the spec holds offers, so
/// offers take its parts rather than the spec). `grade_count` is the number of its grades.
pub fn validate(
    discounts: &[DiscountSpec],
    coupons: &[CouponSpec],
    grade_count: usize,
) -> Result<(), Invalid> {
    if discounts.len() > DISCOUNTS_PER_PERFORMANCE_MAX
        || coupons.len() > COUPONS_PER_PERFORMANCE_MAX
    {
        return Err(Invalid::TooManyOffers);
    }
    let grade_ok = |g: &GradeId| usize::from(g.0) < grade_count;
    for discount in discounts {
        let rule_ok = match discount.rule {
            DiscountRule::EarlyBird { from_ms, until_ms } => from_ms < until_ms,
            DiscountRule::Eligibility { places_max } => {
                (1..=PER_BUYER_LIMIT_MAX).contains(&places_max)
            }
        };
        let label_ok = !discount.label.is_empty() && discount.label.len() <= OFFER_LABEL_LEN_MAX;
        if !rule_ok
            || !label_ok
            || !discount.reduction.is_valid()
            || !discount.grades.iter().all(grade_ok)
            || discount.grades.len() > GRADES_PER_PERFORMANCE_MAX
        {
            return Err(Invalid::Offer);
        }
    }
    for (index, coupon) in coupons.iter().enumerate() {
        let unique = !coupons[..index].iter().any(|c| c.code == coupon.code);
        if !coupon_code_ok(&coupon.code)
            || !unique
            || !coupon.reduction.is_valid()
            || coupon.min_order_won > TICKET_PRICE_WON_MAX * u64::from(PER_BUYER_LIMIT_MAX)
            || coupon.valid_from_ms >= coupon.valid_until_ms
            || !(1..=COUPON_USES_MAX).contains(&coupon.uses_max)
            || coupon.uses_per_buyer_max == 0
        {
            return Err(Invalid::Offer);
        }
    }
    Ok(())
}

/// Prices the places of a hold (given as their grades and grade prices) with `offer` (one of
/// the performance's `discounts` or `coupons`) at `now_ms`, or a typed rejection when the offer
/// does not apply.
pub fn price(
    discounts: &[DiscountSpec],
    coupons: &[CouponSpec],
    now_ms: u64,
    buyer: ActorId,
    places: &[(GradeId, Won)],
    offer: &OfferChoice,
    uses: &impl CouponUses,
) -> Result<Priced, Rejection> {
    match offer {
        OfferChoice::Discount(id) => price_discount(discounts, now_ms, places, *id),
        OfferChoice::Coupon(code) => {
            let list: Vec<Won> = places.iter().map(|(_, won)| *won).collect();
            price_coupon(coupons, now_ms, buyer, &list, code, uses)
        }
    }
}

fn price_discount(
    discounts: &[DiscountSpec],
    now_ms: u64,
    places: &[(GradeId, Won)],
    id: DiscountId,
) -> Result<Priced, Rejection> {
    let discount = discounts
        .get(usize::from(id.0))
        .ok_or(Rejection::UnknownOffer)?;
    let places_max = match discount.rule {
        DiscountRule::EarlyBird { from_ms, until_ms } => {
            if !(from_ms..until_ms).contains(&now_ms) {
                return Err(Rejection::OfferNotActive);
            }
            usize::MAX
        }
        DiscountRule::Eligibility { places_max } => usize::from(places_max),
    };
    let mut prices_won = Vec::with_capacity(places.len());
    let mut reduced = Vec::with_capacity(places.len());
    let mut applied = 0;
    for (grade, list_won) in places {
        let eligible = discount.grades.is_empty() || discount.grades.contains(grade);
        if eligible && applied < places_max {
            applied += 1;
            prices_won.push(list_won - reduction_won(discount.reduction, *list_won));
            reduced.push(true);
        } else {
            prices_won.push(*list_won);
            reduced.push(false);
        }
    }
    if applied == 0 {
        return Err(Rejection::OfferNotApplicable);
    }
    Ok(Priced {
        prices_won,
        reduced,
        offer: Some(AppliedOffer::Discount(id)),
    })
}

fn price_coupon(
    coupons: &[CouponSpec],
    now_ms: u64,
    buyer: ActorId,
    list: &[Won],
    code: &str,
    uses: &impl CouponUses,
) -> Result<Priced, Rejection> {
    let index = coupons
        .iter()
        .position(|c| c.code == code)
        .ok_or(Rejection::UnknownOffer)?;
    let coupon = &coupons[index];
    let id = CouponId(index as u16);
    if !(coupon.valid_from_ms..coupon.valid_until_ms).contains(&now_ms) {
        return Err(Rejection::OfferNotActive);
    }
    let order_won: Won = list.iter().sum();
    if order_won < coupon.min_order_won {
        return Err(Rejection::BelowCouponMinimum {
            min_order_won: coupon.min_order_won,
        });
    }
    if uses.uses(id) >= coupon.uses_max {
        return Err(Rejection::CouponUsedUp);
    }
    if uses.buyer_uses(id, buyer) >= coupon.uses_per_buyer_max {
        return Err(Rejection::CouponAlreadyUsed);
    }
    let prices_won = match coupon.reduction {
        Reduction::Percent(_) => list
            .iter()
            .map(|won| won - reduction_won(coupon.reduction, *won))
            .collect(),
        Reduction::FixedWon(off_won) => spread_off(list, off_won.min(order_won)),
    };
    Ok(Priced {
        reduced: vec![true; list.len()],
        prices_won,
        offer: Some(AppliedOffer::Coupon(id)),
    })
}

/// What a reduction takes off one price.
fn reduction_won(reduction: Reduction, list_won: Won) -> Won {
    match reduction {
        Reduction::Percent(percent) => list_won * u64::from(percent) / 100,
        Reduction::FixedWon(won) => won.min(list_won),
    }
}

/// Takes `off_won` (the total at most) off `list` in proportion to each price; the won left by
/// rounding down come off the first places that still cost something, one each.
fn spread_off(list: &[Won], off_won: Won) -> Vec<Won> {
    let total: Won = list.iter().sum();
    if total == 0 {
        return list.to_vec();
    }
    let off_won = off_won.min(total);
    // u128: price × amount can pass u64 at the largest limits.
    let mut shares: Vec<Won> = list
        .iter()
        .map(|won| (u128::from(*won) * u128::from(off_won) / u128::from(total)) as Won)
        .collect();
    let mut left = off_won - shares.iter().sum::<Won>();
    for (share, won) in shares.iter_mut().zip(list) {
        if left == 0 {
            break;
        }
        if *share < *won {
            *share += 1;
            left -= 1;
        }
    }
    list.iter()
        .zip(&shares)
        .map(|(won, off)| won - off)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_amount_spreads_in_proportion_and_sums_exactly() {
        let list = [160_000, 140_000, 140_000];
        let priced = spread_off(&list, 10_000);
        assert_eq!(priced.iter().sum::<Won>(), 440_000 - 10_000);
        // 10,000 × 160/440 = 3,636.36…; the remainder goes to the first places.
        assert_eq!(priced, vec![156_363, 136_818, 136_819]);
        assert_eq!(spread_off(&[5_000, 5_000], 20_000), vec![0, 0]);
    }

    #[test]
    fn coupon_codes_have_one_shape() {
        assert!(coupon_code_ok("EARLY-2026"));
        assert!(!coupon_code_ok("abc1"));
        assert!(!coupon_code_ok("AB"));
        assert!(!coupon_code_ok("SPACE BAR"));
    }
}
