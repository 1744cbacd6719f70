//! The board: platform notices by admins, per-show notices by the show's seller (or admins),
//! per-show questions by members that the seller answers; admins list every post and hide,
//! unhide or delete them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Authenticated, Role};
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path, Query};
use crate::manage::managed_show;
use crate::paging::{page_limit, page_of};
use crate::state::{Api, now_ms};
use crate::store::board::NewPost;
use crate::venues::text_ok;
use picket_edge::id::Id;

pub const TITLE_LEN_MAX: usize = 100;
pub const BODY_LEN_MAX: usize = 5_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostForm {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerForm {
    pub answer: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub cursor: Option<Id<i64>>,
    pub limit: Option<u32>,
}

fn validate(form: &PostForm) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if !text_ok(&form.title, TITLE_LEN_MAX) {
        errors.push(FieldError {
            field: "title",
            message: format!("1 to {TITLE_LEN_MAX} characters"),
        });
    }
    if !text_ok(&form.body, BODY_LEN_MAX) {
        errors.push(FieldError {
            field: "body",
            message: format!("1 to {BODY_LEN_MAX} characters"),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

async fn insert(
    api: &Api,
    show: Option<i64>,
    kind: &str,
    author: i64,
    form: &PostForm,
) -> Result<Response, ApiError> {
    validate(form)?;
    let id = api.new_id();
    api.store
        .insert_post(&NewPost {
            id,
            show,
            kind,
            author,
            title: form.title.trim(),
            body: form.body.trim(),
            created_at_ms: now_ms() as i64,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": Id(id)}))).into_response())
}

async fn list(
    api: &Api,
    show: Option<i64>,
    kind: &str,
    query: &Page,
) -> Result<Response, ApiError> {
    let limit = page_limit(query.limit)?;
    let rows = api
        .store
        .posts(
            show,
            kind,
            query.cursor.map_or(i64::MAX, Id::get),
            i64::from(limit) + 1,
        )
        .await?;
    Ok(page_of(&rows, limit, |post| {
        serde_json::json!({
            "id": Id(post.id), "title": post.title, "body": post.body, "answer": post.answer,
            "answered_at_ms": post.answered_at_ms, "created_at_ms": post.created_at_ms,
        })
    }))
}

/// `GET /api/v2/notices`.
pub async fn platform_notices(
    State(api): State<Arc<Api>>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    list(&api, None, "notice", &page).await
}

/// `POST /api/v2/notices` (admin).
pub async fn post_platform_notice(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<PostForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    insert(&api, None, "notice", who.account_id, &form).await
}

async fn published_show(api: &Api, show: i64) -> Result<(), ApiError> {
    let status = api.store.show_status(show).await?;
    match status.as_deref() {
        Some("published") => Ok(()),
        _ => Err(ApiError::NotFound("show")),
    }
}

/// `GET /api/v2/shows/{id}/notices`.
pub async fn show_notices(
    State(api): State<Arc<Api>>,
    Path(Id(show)): Path<Id<i64>>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    published_show(&api, show).await?;
    list(&api, Some(show), "notice", &page).await
}

/// A show's notice: a post, and whether the notifier is to send it to the show's bookers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowNoticeForm {
    pub title: String,
    pub body: String,
    /// Send it to every member with a booking of the show (of `performance` only, when given)
    /// as a `seller_notice` notification.
    #[serde(default)]
    pub notify_bookers: bool,
    #[serde(default)]
    pub performance: Option<Id<i64>>,
}

/// `POST /api/v2/shows/{id}/notices` (the show's seller, admin). With `notify_bookers`, the
/// notice and the request to send it are written together; the notifier sends it once to each
/// booker (`picket_notifier`, docs/protocol.md "Notifications (HTTP API v2)").
pub async fn post_show_notice(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    JsonBody(form): JsonBody<ShowNoticeForm>,
) -> Result<Response, ApiError> {
    managed_show(&api, &who, show).await?;
    let post = PostForm {
        title: form.title,
        body: form.body,
    };
    if !form.notify_bookers {
        if form.performance.is_some() {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "performance",
                message: "only with notify_bookers".into(),
            }]));
        }
        return insert(&api, Some(show), "notice", who.account_id, &post).await;
    }
    validate(&post)?;
    if let Some(Id(performance)) = form.performance
        && api.store.performance_show(performance).await? != Some(show)
    {
        return Err(ApiError::NotFound("performance"));
    }
    let id = api.new_id();
    api.store
        .insert_notice_to_send(
            &NewPost {
                id,
                show: Some(show),
                kind: "notice",
                author: who.account_id,
                title: post.title.trim(),
                body: post.body.trim(),
                created_at_ms: now_ms() as i64,
            },
            show,
            form.performance.map(Id::get),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": Id(id)}))).into_response())
}

/// `GET /api/v2/shows/{id}/questions`.
pub async fn show_questions(
    State(api): State<Arc<Api>>,
    Path(Id(show)): Path<Id<i64>>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    published_show(&api, show).await?;
    list(&api, Some(show), "question", &page).await
}

/// `POST /api/v2/shows/{id}/questions` (members).
pub async fn ask(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    JsonBody(form): JsonBody<PostForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    published_show(&api, show).await?;
    insert(&api, Some(show), "question", who.account_id, &form).await
}

/// `POST /api/v2/questions/{id}/answer` (the show's seller, admin).
pub async fn answer(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(question)): Path<Id<i64>>,
    JsonBody(form): JsonBody<AnswerForm>,
) -> Result<Response, ApiError> {
    let show = api
        .store
        .question_show(question)
        .await?
        .ok_or(ApiError::NotFound("question"))?;
    managed_show(&api, &who, show).await?;
    if !text_ok(&form.answer, BODY_LEN_MAX) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "answer",
            message: format!("1 to {BODY_LEN_MAX} characters"),
        }]));
    }
    api.store
        .answer_question(question, form.answer.trim(), now_ms() as i64)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v2/posts/{id}/hide` (admin): the post stays stored but is no longer listed.
pub async fn hide(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(post)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    if !api.store.hide_post(post).await? {
        return Err(ApiError::NotFound("post"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v2/posts/{id}/unhide` (admin): a hidden post is listed again.
pub async fn unhide(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(post)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    if !api.store.unhide_post(post).await? {
        return Err(ApiError::NotFound("post"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v2/posts/{id}` (admin): the post is gone for good (a notice not yet sent to
/// every booker is sent no further).
pub async fn delete_post(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(post)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    if !api.store.delete_post(post).await? {
        return Err(ApiError::NotFound("post"));
    }
    tracing::info!(post, admin = who.account_id, "post deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationPage {
    pub cursor: Option<Id<i64>>,
    pub limit: Option<u32>,
    /// Only hidden posts.
    #[serde(default)]
    pub hidden: bool,
}

/// `GET /api/v2/admin/posts` (admin): every post — platform notices, show notices, questions,
/// hidden ones too — newest first, paged by cursor; `?hidden=true` lists hidden ones only.
pub async fn admin_posts(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Query(query): Query<ModerationPage>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let limit = page_limit(query.limit)?;
    let rows = api
        .store
        .moderated_posts(
            query.hidden,
            query.cursor.map_or(i64::MAX, Id::get),
            i64::from(limit) + 1,
        )
        .await?;
    Ok(page_of(&rows, limit, |post| {
        serde_json::json!({
            "id": Id(post.id), "show": post.show_id.map(Id), "show_title": post.show_title,
            "kind": post.kind, "author_email": post.author_email, "title": post.title,
            "body": post.body, "answer": post.answer, "hidden": post.hidden != 0,
            "created_at_ms": post.created_at_ms,
        })
    }))
}
