//! A show's discounts and coupons as sellers write them (grade codes, won, milliseconds), checked
//! field by field, and turned into the ledger's [`DiscountSpec`]/[`CouponSpec`] when the show is
//! published. The ledger prices holds with them; see `picket_ledger_core::offers`.

use picket_ledger_core::limits::{
    COUPON_CODE_LEN_MIN, COUPON_USES_MAX, COUPONS_PER_PERFORMANCE_MAX,
    DISCOUNTS_PER_PERFORMANCE_MAX, LABEL_LEN_MAX, OFFER_LABEL_LEN_MAX, PER_BUYER_LIMIT_MAX,
    TICKET_PRICE_WON_MAX,
};
use picket_ledger_core::offers::coupon_code_ok;
use picket_ledger_core::{CouponSpec, DiscountRule, DiscountSpec, GradeId, Reduction};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::grades::GradeRule;

/// Which rule a discount follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// Holds made between `from_ms` and `until_ms`.
    EarlyBird,
    /// Buyers who qualify (disability, youth, veteran, …); proof is checked at the entrance.
    Eligibility,
}

/// One discount of a show, as the seller writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountForm {
    pub label: String,
    pub kind: DiscountKind,
    /// Percent off each ticket; give this or `amount_won`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    /// Won off each ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_won: Option<u64>,
    /// Early-bird window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// Eligibility: tickets per order it covers (2 for "with one companion").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places_max: Option<u16>,
    /// Grade codes it applies to; empty: every grade.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grades: Vec<String>,
}

/// One coupon of a show, as the seller writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponForm {
    /// Stored upper-case; buyers may type it in any case.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    /// Won off the whole order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_won: Option<u64>,
    #[serde(default)]
    pub min_order_won: u64,
    pub valid_from_ms: u64,
    pub valid_until_ms: u64,
    /// Uses per performance.
    pub uses_max: u32,
    #[serde(default = "one_use")]
    pub uses_per_buyer_max: u16,
}

fn one_use() -> u16 {
    1
}

fn reduction(percent: Option<u8>, amount_won: Option<u64>) -> Result<Reduction, String> {
    match (percent, amount_won) {
        (Some(p), None) if (1..=100).contains(&p) => Ok(Reduction::Percent(p)),
        (None, Some(won)) if (1..=TICKET_PRICE_WON_MAX).contains(&won) => {
            Ok(Reduction::FixedWon(won))
        }
        _ => Err(format!(
            "exactly one of percent (1 to 100) and amount_won (1 to {TICKET_PRICE_WON_MAX})"
        )),
    }
}

fn grade_ids(codes: &[String], grades: &[GradeRule]) -> Result<Vec<GradeId>, String> {
    codes
        .iter()
        .map(|code| {
            grades
                .iter()
                .position(|g| &g.code == code)
                .map(|i| GradeId(i as u16))
                .ok_or_else(|| format!("no grade {code:?}"))
        })
        .collect()
}

/// The ledger's discount, or what is wrong with the form.
pub fn discount_spec(form: &DiscountForm, grades: &[GradeRule]) -> Result<DiscountSpec, String> {
    let label = form.label.trim();
    if label.is_empty() || label.len() > OFFER_LABEL_LEN_MAX {
        return Err(format!("label: 1 to {OFFER_LABEL_LEN_MAX} bytes"));
    }
    let reduction = reduction(form.percent, form.amount_won)?;
    let rule = match form.kind {
        DiscountKind::EarlyBird => match (form.from_ms, form.until_ms, form.places_max) {
            (Some(from_ms), Some(until_ms), None) if from_ms < until_ms => {
                DiscountRule::EarlyBird { from_ms, until_ms }
            }
            _ => return Err("early_bird: from_ms before until_ms, and no places_max".into()),
        },
        DiscountKind::Eligibility => match (form.from_ms, form.until_ms, form.places_max) {
            (None, None, Some(places_max)) if (1..=PER_BUYER_LIMIT_MAX).contains(&places_max) => {
                DiscountRule::Eligibility { places_max }
            }
            _ => {
                return Err(format!(
                    "eligibility: places_max 1 to {PER_BUYER_LIMIT_MAX}, and no window"
                ));
            }
        },
    };
    Ok(DiscountSpec {
        label: label.to_owned(),
        rule,
        reduction,
        grades: grade_ids(&form.grades, grades)?,
    })
}

/// The ledger's coupon, or what is wrong with the form.
pub fn coupon_spec(form: &CouponForm) -> Result<CouponSpec, String> {
    let code = form.code.trim().to_ascii_uppercase();
    if !coupon_code_ok(&code) {
        return Err(format!(
            "code: {COUPON_CODE_LEN_MIN} to {LABEL_LEN_MAX} letters, digits or '-'"
        ));
    }
    let reduction = reduction(form.percent, form.amount_won)?;
    if form.valid_from_ms >= form.valid_until_ms {
        return Err("valid_from_ms before valid_until_ms".into());
    }
    if !(1..=COUPON_USES_MAX).contains(&form.uses_max) || form.uses_per_buyer_max == 0 {
        return Err(format!(
            "uses_max 1 to {COUPON_USES_MAX}, uses_per_buyer_max at least 1"
        ));
    }
    if form.min_order_won > TICKET_PRICE_WON_MAX {
        return Err(format!("min_order_won at most {TICKET_PRICE_WON_MAX}"));
    }
    Ok(CouponSpec {
        code,
        reduction,
        min_order_won: form.min_order_won,
        valid_from_ms: form.valid_from_ms,
        valid_until_ms: form.valid_until_ms,
        uses_max: form.uses_max,
        uses_per_buyer_max: form.uses_per_buyer_max,
    })
}

/// Checks a show's offers; every problem is a field error naming the offer's position.
pub fn validate(
    discounts: &[DiscountForm],
    coupons: &[CouponForm],
    grades: &[GradeRule],
    errors: &mut Vec<FieldError>,
) {
    if discounts.len() > DISCOUNTS_PER_PERFORMANCE_MAX {
        errors.push(FieldError {
            field: "discounts",
            message: format!("at most {DISCOUNTS_PER_PERFORMANCE_MAX}"),
        });
    }
    for (index, form) in discounts.iter().enumerate() {
        if let Err(why) = discount_spec(form, grades) {
            errors.push(FieldError {
                field: "discounts",
                message: format!("discount {index}: {why}"),
            });
        }
    }
    if coupons.len() > COUPONS_PER_PERFORMANCE_MAX {
        errors.push(FieldError {
            field: "coupons",
            message: format!("at most {COUPONS_PER_PERFORMANCE_MAX}"),
        });
    }
    let mut codes = Vec::new();
    for (index, form) in coupons.iter().enumerate() {
        match coupon_spec(form) {
            Err(why) => errors.push(FieldError {
                field: "coupons",
                message: format!("coupon {index}: {why}"),
            }),
            Ok(spec) if codes.contains(&spec.code) => errors.push(FieldError {
                field: "coupons",
                message: format!("coupon {index}: code {} appears twice", spec.code),
            }),
            Ok(spec) => codes.push(spec.code),
        }
    }
}

/// What buyers see of a discount on the show page (coupons stay secret).
pub fn public_discount(index: usize, form: &DiscountForm) -> serde_json::Value {
    serde_json::json!({
        "id": index,
        "label": form.label.trim(),
        "kind": form.kind,
        "percent": form.percent,
        "amount_won": form.amount_won,
        "from_ms": form.from_ms,
        "until_ms": form.until_ms,
        "places_max": form.places_max,
        "grades": form.grades,
        "proof_at_entry": form.kind == DiscountKind::Eligibility,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades() -> Vec<GradeRule> {
        ["VIP", "R"]
            .iter()
            .map(|code| GradeRule {
                code: (*code).into(),
                price_won: 100_000,
                sections: vec![],
                zones: vec![],
            })
            .collect()
    }

    fn eligibility() -> DiscountForm {
        DiscountForm {
            label: "장애인 (동반 1인)".into(),
            kind: DiscountKind::Eligibility,
            percent: Some(50),
            amount_won: None,
            from_ms: None,
            until_ms: None,
            places_max: Some(2),
            grades: vec!["R".into()],
        }
    }

    #[test]
    fn an_eligibility_discount_names_grades_by_code() {
        let spec = discount_spec(&eligibility(), &grades()).expect("valid");
        assert_eq!(spec.grades, vec![GradeId(1)]);
        assert_eq!(spec.rule, DiscountRule::Eligibility { places_max: 2 });
        let unknown = DiscountForm {
            grades: vec!["Z".into()],
            ..eligibility()
        };
        assert!(discount_spec(&unknown, &grades()).is_err());
    }

    #[test]
    fn percent_and_amount_are_exclusive() {
        let both = DiscountForm {
            amount_won: Some(1_000),
            ..eligibility()
        };
        assert!(discount_spec(&both, &grades()).is_err());
        let neither = DiscountForm {
            percent: None,
            ..eligibility()
        };
        assert!(discount_spec(&neither, &grades()).is_err());
    }

    #[test]
    fn coupon_codes_are_upper_cased_and_unique() {
        let coupon = CouponForm {
            code: "welcome-5000".into(),
            percent: None,
            amount_won: Some(5_000),
            min_order_won: 50_000,
            valid_from_ms: 1,
            valid_until_ms: 2,
            uses_max: 100,
            uses_per_buyer_max: 1,
        };
        assert_eq!(coupon_spec(&coupon).expect("valid").code, "WELCOME-5000");
        let mut errors = Vec::new();
        validate(&[], &[coupon.clone(), coupon], &grades(), &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("twice"));
    }
}
