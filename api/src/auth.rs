//! Who a request is: the signed-in account of a session token, a guest's device, or the buyer a
//! waiting-room admission names (the operator is `operator.rs`). Session, guest and admission
//! tokens are the edge's signed tokens, so a member signs in here and connects to any gateway
//! with the same token; this is the one file that reads or signs them.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use picket_edge::token::{Claims, KeyRing, TokenError};

use crate::error::ApiError;
use crate::state::{Api, now_ms};

/// The signed-in account of a request: a valid session token in `Authorization: Bearer …`
/// whose session is neither revoked nor expired.
pub struct Authenticated {
    pub account_id: i64,
    pub sid: String,
    pub role: Role,
}

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Member,
    /// A company's account: manages its own shows only.
    Seller,
    /// Venue staff: scans tickets of the shows they are assigned to.
    Staff,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Member, Role::Seller, Role::Staff, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Seller => "seller",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl Authenticated {
    /// `Forbidden` unless the account has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<Arc<Api>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        authenticate(api, bearer(&parts.headers)).await
    }
}

impl axum::extract::OptionalFromRequestParts<Arc<Api>> for Authenticated {
    type Rejection = ApiError;

    /// Public pages: a request without an account session (no header, a guest token, an
    /// expired session) is anonymous (`None`); only a storage failure is an error.
    async fn from_request_parts(
        parts: &mut Parts,
        api: &Arc<Api>,
    ) -> Result<Option<Self>, ApiError> {
        match <Authenticated as FromRequestParts<Arc<Api>>>::from_request_parts(parts, api).await {
            Ok(who) => Ok(Some(who)),
            Err(ApiError::Unauthenticated) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub use picket_edge::operator::bearer;

/// The account behind a bearer token, if its session is live.
pub async fn authenticate(api: &Api, token: Option<&str>) -> Result<Authenticated, ApiError> {
    let token = token.ok_or(ApiError::Unauthenticated)?;
    let now = now_ms();
    let Ok(Claims::Session { sub, sid, .. }) = api.keys.verify(token.trim(), now) else {
        return Err(ApiError::Unauthenticated);
    };
    let account_id = i64::try_from(sub).map_err(|_| ApiError::Unauthenticated)?;
    let role = api
        .store
        .session_role(&sid, account_id, now as i64)
        .await?
        .and_then(|r| Role::parse(&r))
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Authenticated {
        account_id,
        sid,
        role,
    })
}

/// The signed token of a session the store has just recorded.
pub fn session_token(api: &Api, account_id: i64, sid: String, expires_at_ms: u64) -> String {
    api.keys.sign(&Claims::Session {
        sub: account_id as u64,
        sid,
        exp_ms: expires_at_ms,
    })
}

/// The ledger actor of the guest whose token (issued by a gateway) is in `headers`.
pub fn guest_actor(api: &Api, headers: &HeaderMap) -> Result<i64, ApiError> {
    let token = bearer(headers).ok_or(ApiError::Unauthenticated)?;
    let Ok(Claims::Guest { device, .. }) = api.keys.verify(token, now_ms()) else {
        return Err(ApiError::Unauthenticated);
    };
    let identity = picket_edge::identity::guest(&device);
    Ok(picket_edge::identity::actor_of(&identity).0 as i64)
}

/// An admission a gateway signed: whose (`m:<member>` or `g:<device>`), for which sale, which
/// admission of the waiting room. The signature says only that it was given; whether the
/// waiting room still holds it is `admission.rs`'s question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionClaim {
    pub identity: String,
    pub sale: u64,
    pub jti: u64,
}

/// The admission `token` names, if it is an unexpired admission signed by `keys`. Reads no
/// store, so it is cheap enough to key a rate limit by before any other work.
pub fn admission_claim(
    keys: &KeyRing,
    token: &str,
    now_ms: u64,
) -> Result<AdmissionClaim, ApiError> {
    match keys.verify(token, now_ms) {
        Ok(Claims::Admission {
            identity,
            sale,
            jti,
            ..
        }) => Ok(AdmissionClaim {
            identity,
            sale,
            jti,
        }),
        Err(TokenError::Expired) => Err(ApiError::AdmissionExpired),
        _ => Err(ApiError::AdmissionInvalid),
    }
}

#[cfg(test)]
mod tests {
    use picket_edge::token::Key;

    use super::*;

    fn keys(secret: u8) -> KeyRing {
        KeyRing::new(vec![Key::new("k1", vec![secret; 32]).expect("key")]).expect("ring")
    }

    #[test]
    fn only_an_unexpired_admission_signed_by_the_ring_is_claimed() {
        let ring = keys(1);
        let token = ring.sign(&Claims::Admission {
            identity: "g:device-0123456789".into(),
            sale: 77,
            conn: "7".into(),
            jti: 42,
            exp_ms: 2_000,
        });
        assert_eq!(
            admission_claim(&ring, &token, 1_000).expect("valid"),
            AdmissionClaim {
                identity: "g:device-0123456789".into(),
                sale: 77,
                jti: 42,
            }
        );
        assert!(matches!(
            admission_claim(&ring, &token, 2_001),
            Err(ApiError::AdmissionExpired)
        ));
        assert!(matches!(
            admission_claim(&keys(2), &token, 1_000),
            Err(ApiError::AdmissionInvalid)
        ));
        let session = ring.sign(&Claims::Session {
            sub: 5,
            sid: "s".into(),
            exp_ms: 2_000,
        });
        assert!(
            matches!(
                admission_claim(&ring, &session, 1_000),
                Err(ApiError::AdmissionInvalid)
            ),
            "a session is no admission"
        );
        assert!(matches!(
            admission_claim(&ring, "not a token", 1_000),
            Err(ApiError::AdmissionInvalid)
        ));
    }
}
