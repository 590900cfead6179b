//! Who is calling: service tokens (`Authorization: Bearer cst_…`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use custos_engine::gate::Actor;
use custos_engine::tokens::TokenError;

use crate::{ApiError, AppState};

/// A request from one of the operator's services, authenticated by its token.
#[derive(Debug, Clone)]
pub(crate) struct Service(pub(crate) Actor);

impl FromRequestParts<AppState> for Service {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(bearer) = bearer else {
            return Err(unauthenticated(&TokenError::Missing));
        };
        match state.token_cache.authenticate(&state.store, bearer).await {
            Ok(actor) => Ok(Service(actor)),
            Err(TokenError::Store(e)) => Err(e.into()),
            Err(e) => Err(unauthenticated(&e)),
        }
    }
}

fn unauthenticated(err: &TokenError) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", err.to_string()).with_field("Authorization")
}
