//! Prometheus metrics at `GET /metrics`, in the OpenMetrics text format.
//!
//! - `custos_http_requests_total{method, route, status}` and
//!   `custos_http_request_duration_seconds{method, route}`: per matched route, never per
//!   raw path, so that ids in paths neither leak nor explode the label space;
//! - `custos_db_pool_connections{state="idle"|"in_use"}` and `custos_db_pool_max_connections`;
//! - `custos_jobs{state}`: the job queue by state, read from the store at each scrape.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::{ApiError, AppState};

/// Labels of a request counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of a latency histogram.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// A label with one `state` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The registry and the metrics the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    pool: Family<StateLabel, Gauge>,
    pool_max: Gauge,
    jobs: Family<StateLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every server metric registered, under the `custos` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("custos");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency: LatencyFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 16)));
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request", latency.clone());
        let pool = Family::<StateLabel, Gauge>::default();
        registry.register("db_pool_connections", "Database connections by state", pool.clone());
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "The most database connections the pool opens", pool_max.clone());
        let jobs = Family::<StateLabel, Gauge>::default();
        registry.register("jobs", "Background jobs by state", jobs.clone());
        Self { registry, requests, latency, pool, pool_max, jobs }
    }

    /// Counts one answered request.
    pub(crate) fn observe_request(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency
            .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
            .observe(latency.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// The registry, for other modules to register their metrics in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// Refreshes the gauges read from the store, then encodes everything.
async fn scrape(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let metrics = &state.metrics;
    let pool = state.store.pool_stats();
    metrics.pool.get_or_create(&StateLabel { state: "idle".into() }).set(i64::from(pool.idle));
    metrics
        .pool
        .get_or_create(&StateLabel { state: "in_use".into() })
        .set(i64::from(pool.size.saturating_sub(pool.idle)));
    metrics.pool_max.set(i64::from(pool.max));
    match tokio::time::timeout(Duration::from_secs(2), state.store.count_jobs()).await {
        Ok(Ok(counts)) => {
            for state in custos_store::JobState::ALL {
                let n = i64::try_from(counts.get(*state)).unwrap_or(i64::MAX);
                metrics.jobs.get_or_create(&StateLabel { state: state.as_str().into() }).set(n);
            }
        }
        Ok(Err(error)) => tracing::warn!(%error, "cannot count jobs for metrics"),
        Err(_) => tracing::warn!("counting jobs for metrics timed out"),
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics.registry).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text))
}
