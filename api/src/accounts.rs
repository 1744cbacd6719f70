//! Members: sign up, sign in (a session token the gateways accept), sign out, who am I.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::{Authenticated, Role, session_token};
use crate::client::ClientAddress;
use crate::error::{ApiError, FieldError};
use crate::json::JsonBody;
use crate::state::{Api, now_ms};
use crate::store::accounts::Account;
use picket_edge::id::Id;

pub const EMAIL_LEN_MAX: usize = 254;
pub const PASSWORD_LEN_MIN: usize = 8;
pub const PASSWORD_LEN_MAX: usize = 128;
pub const NAME_LEN_MAX: usize = 50;
pub const PHONE_LEN_MAX: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// An account as clients see it (never the password hash).
#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: Id<i64>,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: String,
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> Self {
        AccountView {
            id: Id(account.id),
            email: account.email.clone(),
            name: account.name.clone(),
            phone: account.phone.clone(),
            role: account.role.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The session token: `Authorization: Bearer <token>` here, and `hello.token` at the
    /// gateway's WebSocket.
    pub token: String,
    pub expires_at_ms: u64,
    pub account: AccountView,
}

/// Lower-cased, trimmed; at most `EMAIL_LEN_MAX` characters as sent, one `@` with text on both
/// sides and a dot inside the domain, no whitespace (`openapi::EMAIL_PATTERN` says the same).
pub(crate) fn normalize_email(email: &str) -> Option<String> {
    if email.chars().count() > EMAIL_LEN_MAX {
        return None;
    }
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace);
    plausible.then_some(email)
}

pub(crate) fn validate_sign_up(body: &SignUp) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let email = normalize_email(&body.email);
    if email.is_none() {
        errors.push(FieldError {
            field: "email",
            message: format!(
                "an email address like name@example.com, at most {EMAIL_LEN_MAX} characters"
            ),
        });
    }
    let password_len = body.password.chars().count();
    if !(PASSWORD_LEN_MIN..=PASSWORD_LEN_MAX).contains(&password_len) {
        errors.push(FieldError {
            field: "password",
            message: format!("{PASSWORD_LEN_MIN} to {PASSWORD_LEN_MAX} characters"),
        });
    }
    if !crate::venues::text_ok(&body.name, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "name",
            message: format!("1 to {NAME_LEN_MAX} characters"),
        });
    }
    // An empty phone is no phone: a sign-up form's phone field left blank.
    if let Some(phone) = body.phone.as_deref().filter(|p| !p.is_empty()) {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+');
        if !allowed || !(9..=PHONE_LEN_MAX).contains(&digits) {
            errors.push(FieldError {
                field: "phone",
                message: "digits, '-' and '+' only, 9 to 20 digits (e.g. 010-1234-5678)".into(),
            });
        }
    }
    match (errors.is_empty(), email) {
        (true, Some(email)) => Ok(email),
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// An account (not yet stored) from a validated sign-up form and its normalized email.
pub(crate) async fn new_account(
    api: &Api,
    email: String,
    form: SignUp,
    role: Role,
) -> Result<Account, ApiError> {
    Ok(Account {
        id: api.new_id(),
        email,
        password_hash: hash_password(form.password).await?,
        name: form.name.trim().to_owned(),
        phone: form.phone.filter(|p| !p.is_empty()),
        role: role.as_str().into(),
        created_at_ms: now_ms() as i64,
    })
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    // Argon2id takes tens of milliseconds on purpose: off the async workers.
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))
}

async fn password_matches(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `POST /api/v2/accounts`: a member account.
pub async fn sign_up(State(api): State<Arc<Api>>, JsonBody(body): JsonBody<SignUp>) -> Response {
    match sign_up_inner(&api, body).await {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn sign_up_inner(api: &Api, body: SignUp) -> Result<AccountView, ApiError> {
    let email = validate_sign_up(&body)?;
    let account = new_account(api, email, body, Role::Member).await?;
    if !api.store.insert_account(&account).await? {
        return Err(ApiError::Conflict("an account with this email exists"));
    }
    Ok(AccountView::from(&account))
}

/// `POST /api/v2/sessions`: sign in. A wrong email and a wrong password get the same answer.
/// Attempts are limited per client address (whatever the email), and wrong passwords per email
/// and address back off exponentially: an attacker is slowed where it guesses from, while the
/// owner, signing in from elsewhere with the right password, is never refused for it.
pub async fn sign_in(
    State(api): State<Arc<Api>>,
    client: ClientAddress,
    JsonBody(body): JsonBody<SignIn>,
) -> Response {
    match sign_in_inner(&api, &client, body).await {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn sign_in_inner(
    api: &Api,
    client: &ClientAddress,
    body: SignIn,
) -> Result<SessionView, ApiError> {
    let email = normalize_email(&body.email).ok_or(ApiError::WrongCredentials)?;
    let now = now_ms();
    let limited = |retry_ms: u64| ApiError::TooManyAttempts {
        retry_after_s: retry_ms.div_ceil(1_000),
    };
    if let ClientAddress(Some(address)) = client {
        api.login_per_address.check(address, now).map_err(limited)?;
    }
    let key = client.with(&email);
    api.login_failures.check(&key, now).map_err(limited)?;
    let account = api.store.account_by_email(&email).await?;
    // Verify against a real hash even for an unknown email, so timing does not tell.
    let hash = account
        .as_ref()
        .map_or_else(|| api.decoy_hash.clone(), |a| a.password_hash.clone());
    let matches = password_matches(body.password, hash).await?;
    let Some(account) = account.filter(|_| matches) else {
        api.login_failures.failed(&key, now);
        return Err(ApiError::WrongCredentials);
    };
    api.login_failures.succeeded(&key);
    if let ClientAddress(Some(address)) = client {
        api.login_per_address.refund(address);
    }
    let sid = format!("{:032x}", rand::random::<u128>());
    let expires_at_ms = now + api.config.session_ttl_ms;
    api.store
        .insert_session(&sid, account.id, now as i64, expires_at_ms as i64)
        .await?;
    let token = session_token(api, account.id, sid, expires_at_ms);
    Ok(SessionView {
        token,
        expires_at_ms,
        account: AccountView::from(&account),
    })
}

/// `DELETE /api/v2/sessions/current`: sign out; the token stops working here at once (gateways
/// verify tokens without the database, so an open WebSocket keeps its session until it ends).
pub async fn sign_out(State(api): State<Arc<Api>>, who: Authenticated) -> Response {
    match api.store.revoke_session(&who.sid, now_ms() as i64).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// `GET /api/v2/me`: the signed-in account.
pub async fn me(State(api): State<Arc<Api>>, who: Authenticated) -> Response {
    match api.store.account_by_id(who.account_id).await {
        Ok(Some(account)) => Json(AccountView::from(&account)).into_response(),
        Ok(None) => ApiError::Unauthenticated.into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email(" Kim@Example.COM "),
            Some("kim@example.com".into())
        );
        for bad in [
            "",
            "kim",
            "kim@",
            "@example.com",
            "kim@example",
            "k m@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn sign_up_says_which_fields_are_wrong() {
        let body = SignUp {
            email: "nope".into(),
            password: "short".into(),
            name: " ".into(),
            phone: Some("abc".into()),
        };
        let Err(ApiError::Invalid(errors)) = validate_sign_up(&body) else {
            panic!("invalid");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "password", "name", "phone"]);
    }

    #[test]
    fn an_empty_phone_is_no_phone() {
        let body = SignUp {
            email: "kim@example.com".into(),
            password: "correct horse".into(),
            name: "김".into(),
            phone: Some(String::new()),
        };
        assert_eq!(validate_sign_up(&body).ok(), Some("kim@example.com".into()));
    }

    #[test]
    fn text_is_measured_as_sent() {
        let body = SignUp {
            email: "kim@example.com".into(),
            password: "correct horse".into(),
            name: format!(" {} ", "김".repeat(NAME_LEN_MAX - 1)),
            phone: None,
        };
        let Err(ApiError::Invalid(errors)) = validate_sign_up(&body) else {
            panic!("{} characters as sent is over the limit", NAME_LEN_MAX + 1);
        };
        assert_eq!(errors[0].field, "name");
    }
}
