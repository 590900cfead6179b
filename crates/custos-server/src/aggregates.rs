//! `GET /v1/aggregates?group_by=a,b[&measure=m][&epsilon=e]` (seed 3.2): counts of people
//! and sums across partners, for a service whose token holds the aggregation purpose.
//! Only the dimensions and measures the `[partners.aggregation]` settings allow can be
//! asked; small and single-partner groups are suppressed; with `epsilon`, Laplace noise is
//! added and the dataset's privacy budget charged (refused with `privacy_budget_spent`
//! once spent). See `custos_engine::partners::aggregate`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use custos_engine::partners::AggregateQuery;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Service;
use crate::partners::Refusal;
use crate::{ApiError, AppState};

/// The aggregates' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(aggregates), tags((name = "aggregates", description = "Aggregates over partners' data, with differential privacy")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/aggregates", get(aggregates))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Comma-separated dimensions, such as `country,channel`.
    group_by: Option<String>,
    #[serde(default)]
    measure: Option<String>,
    #[serde(default)]
    epsilon: Option<f64>,
}

#[utoipa::path(get, path = "/v1/aggregates", tag = "aggregates", security(("service_token" = [])),
    params(Params),
    responses((status = 200, description = "Noisy counts per group; groups under the threshold are suppressed", body = Object), (status = 403, description = "`privacy_budget_spent`, `actor_not_scoped`", body = crate::openapi::ErrorEnvelope)))]
async fn aggregates(
    State(state): State<AppState>,
    Service(actor): Service,
    Query(params): Query<Params>,
) -> Result<Json<Value>, Refusal> {
    let Some(group_by) = params.group_by.filter(|g| !g.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "invalid_value",
            "name the dimensions to group by: ?group_by=country,channel",
        )
        .with_field("group_by")
        .into());
    };
    let query = AggregateQuery {
        group_by: group_by.split(',').map(|d| d.trim().to_owned()).collect(),
        measure: params.measure.filter(|m| !m.is_empty()),
        epsilon: params.epsilon,
    };
    Ok(Json(state.partners.aggregate(&actor, &query).await?))
}
