//! The custos HTTP server and background workers.
//!
//! - [`app`] builds the router: health and readiness probes, Prometheus metrics, the
//!   privacy notice and its versions, and (as later modules land) the JSON API, the privacy center and the admin console.
//! - [`serve`] runs it on a listener the caller bound, until the caller's shutdown future
//!   completes; in-flight requests are finished first. Tests bind port 0.
//! - [`workers`] runs the job workers beside the server.
//! - [`mailbox`] reads the privacy mailbox over IMAP and takes mail on an SMTP listener.
//!
//! Errors leave through [`ApiError`], one JSON shape for every failure. No SQL lives here:
//! handlers call the engine and the store.

#![forbid(unsafe_code)]

mod account_pages;
mod accounts;
pub mod admin;
mod aggregates;
mod analytics;
mod auth;
mod banner;
mod banner_text;
mod branding;
mod campaigns;
mod confirm;
mod consents;
mod cookie_pages;
mod disclosures;
mod drp;
mod error;
mod extract;
mod forms;
mod hardening;
mod health;
pub mod i18n;
mod limits;
mod link_page;
pub mod mailbox;
mod metrics;
mod notice;
mod nul;
mod openapi;
mod partner_requests;
mod partners;
mod registers;
mod rights;
mod rights_pages;
mod subjects;
mod telemetry;
mod tls;
mod unsubscribe;
pub mod workers;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use custos_engine::SystemClock;
use custos_engine::accounts::Accounts;
use custos_engine::analytics::Analytics;
use custos_engine::campaigns::Campaigns;
use custos_engine::collect::Collect;
use custos_engine::consent::Consents;
use custos_engine::records::Records;
use custos_engine::rights::Rights;
use custos_engine::vault::Vault;
use custos_policy::Policy;
use custos_store::Store;

pub use crate::banner::Banner;
pub use crate::banner_text::{BannerError, BannerSettings, CategoryText, StringOverrides};
pub use crate::branding::{Branding, BrandingError, BrandingSettings};
pub use crate::drp::DrpSettings;
pub use crate::error::{ApiError, ErrorBody};
pub use crate::extract::ApiJson;
pub use crate::limits::RateLimits;
pub use crate::metrics::Metrics;
pub use crate::notice::RenderedNotice;
pub use crate::tls::{TlsError, serve_tls, tls_config};

/// What every handler can reach: the [`Services`] behind one `Arc`, so that the clone
/// axum makes for each extractor and middleware of each request costs one atomic
/// increment, not one per service (profiled at 5% of a purpose-gated read).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services of [`AppState`], reached through it.
#[derive(Clone)]
pub struct Services {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The policy in force.
    pub policy: Arc<Policy>,
    /// The policy's notice, rendered once.
    pub notice: Arc<RenderedNotice>,
    /// Personal data in and out, through the gate.
    pub records: Arc<Records>,
    /// The consent ledger.
    pub consents: Arc<Consents>,
    /// Website analytics.
    pub analytics: Arc<Analytics>,
    /// The consent banner script, rendered from the policy.
    pub banner: Arc<Banner>,
    /// The website's forms.
    pub collect: Arc<Collect>,
    /// Accounts.
    pub accounts: Arc<Accounts>,
    /// Marketing campaigns.
    pub campaigns: Arc<Campaigns>,
    /// Rights requests.
    pub rights: Arc<Rights>,
    /// The privacy mailbox: requests by mail.
    pub inbox: Arc<custos_engine::inbox::Inbox>,
    /// Governance: legal holds, retention, disclosures, breaches, legal requests.
    pub governance: Arc<custos_engine::governance::Governance>,
    /// The operator's staff, who use the admin console.
    pub staff: Arc<custos_engine::staff::Staff>,
    /// Partners: keys, uploads, processor duties, aggregates.
    pub partners: Arc<custos_engine::partners::Partners>,
    /// The Data Rights Protocol, when `[drp]` names this business.
    pub drp: Option<Arc<custos_engine::drp::Drp>>,
    /// Calls to other parties (agents' callbacks, portability transfers), when possible.
    pub outbound: Option<custos_engine::outbound::Outbound>,
    /// The address people reach custos at, for links in mail.
    pub public_url: String,
    /// How the privacy center looks.
    pub branding: Arc<Branding>,
    /// Requests per network on the public endpoints.
    pub(crate) limiters: Arc<limits::Limiters>,
    /// The Prometheus registry and the server's own metrics.
    pub metrics: Arc<Metrics>,
    /// Service tokens read in the last two seconds.
    pub(crate) token_cache: Arc<custos_engine::tokens::TokenCache>,
}

impl AppState {
    /// The services, to change while the state is being built (copied if already shared).
    fn services(&mut self) -> &mut Services {
        Arc::make_mut(&mut self.0)
    }

    /// Sets the address people reach custos at and the mailer that confirms closed accounts.
    pub fn with_mail(mut self, mailer: Option<custos_engine::mail::Mailer>, public_url: &str) -> Self {
        let services = self.services();
        services.public_url = public_url.trim_end_matches('/').to_owned();
        services.accounts = Arc::new(Accounts::new(
            services.records.clone(),
            services.store.clone(),
            mailer,
            services.public_url.clone(),
            Arc::new(SystemClock),
        ));
        self
    }

    /// Sets the privacy center's name, logo and colour; an error names the
    /// `[privacy_center]` setting that cannot be used.
    pub fn with_branding(mut self, settings: &BrandingSettings) -> Result<Self, BrandingError> {
        let services = self.services();
        services.branding = Arc::new(Branding::from_settings(&services.policy.controller.name, settings)?);
        Ok(self)
    }

    /// Sets the banner's wording; an error names the `[banner]` setting that cannot be used.
    pub fn with_banner(mut self, settings: &BannerSettings) -> Result<Self, BannerError> {
        let services = self.services();
        services.banner = Arc::new(Banner::with_settings(&services.policy, settings)?);
        Ok(self)
    }

    /// Makes outbound calls under `settings` (call before [`AppState::with_drp`], which
    /// shares the rights requests).
    pub fn with_outbound(
        mut self,
        settings: &custos_engine::outbound::OutboundSettings,
    ) -> Result<Self, custos_engine::outbound::OutboundError> {
        let services = self.services();
        let outbound = custos_engine::outbound::Outbound::new(settings)?;
        services.rights = rights_with(&services.records, &services.consents, &services.policy, Some(outbound.clone()));
        services.inbox = inbox_with(&services.rights, &services.records);
        services.outbound = Some(outbound);
        Ok(self)
    }

    /// Turns the Data Rights Protocol on when `settings` names this business (call after
    /// [`AppState::with_mail`], whose address the verification links use).
    pub fn with_drp(mut self, settings: &DrpSettings) -> Result<Self, custos_engine::drp::DrpConfigError> {
        let services = self.services();
        services.drp = match &settings.business_id {
            Some(business) => Some(Arc::new(custos_engine::drp::Drp::new(
                business,
                &settings.agents,
                services.rights.clone(),
                services.store.clone(),
                &services.public_url,
            )?)),
            None => None,
        };
        Ok(self)
    }

    /// Sets the partner API's limits and aggregation rules.
    pub fn with_partners(mut self, settings: custos_engine::partners::PartnerSettings) -> Self {
        let services = self.services();
        services.partners = Arc::new(custos_engine::partners::Partners::new(
            services.records.clone(),
            services.policy.clone(),
            settings,
            Arc::new(SystemClock),
        ));
        self
    }

    /// Sets the rate limits of the public endpoints (by default [`RateLimits::default`]).
    pub fn with_limits(mut self, limits: RateLimits) -> Self {
        let services = self.services();
        services.limiters = Arc::new(limits::Limiters::new(limits));
        self
    }

    /// State on `store` and `vault` under `policy`, with fresh metrics.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, policy: Policy) -> Self {
        let notice = Arc::new(RenderedNotice::new(&policy, None));
        let policy = Arc::new(policy);
        let records = Arc::new(Records::new(store.clone(), vault.clone(), policy.clone(), Arc::new(SystemClock)));
        let consents = Arc::new(Consents::new(
            store.clone(),
            vault,
            policy.clone(),
            records.auditor().clone(),
            Arc::new(SystemClock),
        ));
        let analytics = Arc::new(Analytics::new(
            store.clone(),
            records.vault().clone(),
            &policy,
            records.auditor(),
            Arc::new(SystemClock),
        ));
        let banner = Arc::new(Banner::new(&policy));
        // Outbound calls under the defaults: public HTTPS destinations, Mozilla's roots.
        let outbound = custos_engine::outbound::Outbound::new(&Default::default())
            .inspect_err(|e| tracing::warn!(error = %e, "outbound calls are off"))
            .ok();
        let rights = rights_with(&records, &consents, &policy, outbound.clone());
        let inbox = inbox_with(&rights, &records);
        let branding = Arc::new(Branding::plain(&policy.controller.name));
        let staff = Arc::new(custos_engine::staff::Staff::new(
            store.clone(),
            records.vault().clone(),
            records.auditor().clone(),
            Arc::new(SystemClock),
        ));
        let campaigns =
            Arc::new(Campaigns::new(store.clone(), policy.clone(), records.auditor().clone(), Arc::new(SystemClock)));
        let collect = Arc::new(Collect::new(records.clone(), consents.clone(), policy.clone(), forms::MAX_ATTACHMENT));
        let partners = Arc::new(custos_engine::partners::Partners::new(
            records.clone(),
            policy.clone(),
            custos_engine::partners::PartnerSettings::default(),
            Arc::new(SystemClock),
        ));
        let governance = Arc::new(custos_engine::governance::Governance::with_partners(
            records.clone(),
            policy.clone(),
            Arc::new(SystemClock),
            Arc::new(custos_engine::governance::breach::PartnerData::new(partners.clone(), &policy)),
        ));
        let public_url = "http://127.0.0.1:8080".to_owned();
        let accounts =
            Arc::new(Accounts::new(records.clone(), store.clone(), None, public_url.clone(), Arc::new(SystemClock)));
        Self(Arc::new(Services {
            store,
            policy,
            notice,
            records,
            consents,
            analytics,
            banner,
            collect,
            accounts,
            campaigns,
            rights,
            inbox,
            governance,
            staff,
            partners,
            drp: None,
            outbound,
            branding,
            public_url,
            limiters: Arc::new(limits::Limiters::new(RateLimits::default())),
            metrics: Arc::new(Metrics::new()),
            token_cache: Arc::new(custos_engine::tokens::TokenCache::default()),
        }))
    }
}

/// Rights requests over `records` and `consents`, sending through `outbound` when given.
fn rights_with(
    records: &Arc<Records>,
    consents: &Arc<Consents>,
    policy: &Arc<Policy>,
    outbound: Option<custos_engine::outbound::Outbound>,
) -> Arc<Rights> {
    let rights = Rights::new(records.clone(), consents.clone(), policy.clone(), Arc::new(SystemClock));
    Arc::new(match outbound {
        Some(outbound) => rights.with_outbound(outbound),
        None => rights,
    })
}

/// The privacy mailbox over `rights`.
fn inbox_with(rights: &Arc<Rights>, records: &Arc<Records>) -> Arc<custos_engine::inbox::Inbox> {
    Arc::new(custos_engine::inbox::Inbox::new(rights.clone(), records, Arc::new(SystemClock)))
}

/// Reads a consent payload as custos reads it from the web, with every check made before
/// the ledger is touched: with `banner`, a `POST /v1/banner/consent` body, otherwise a
/// `POST /v1/consents` body. The handlers call the same functions; this entry point is for
/// the fuzz targets in `fuzz/`.
#[doc(hidden)]
pub fn check_consent_payload(banner: bool, body: &[u8]) -> Result<(), ApiError> {
    if banner { banner::parse_choices(body).map(drop) } else { consents::parse_record(body).map(drop) }
}

/// Every route custos serves, before middleware and state.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(notice::routes())
        .merge(subjects::routes())
        .merge(consents::routes())
        .merge(analytics::routes())
        .merge(banner::routes())
        .merge(forms::routes())
        .merge(accounts::routes())
        .merge(campaigns::routes())
        .merge(rights::routes())
        .merge(rights_pages::routes())
        .merge(drp::routes())
        .merge(unsubscribe::routes())
        .merge(confirm::routes())
        .merge(disclosures::routes())
        .merge(registers::routes())
        .merge(admin::routes())
        .merge(account_pages::routes())
        .merge(cookie_pages::routes())
        .merge(partners::routes())
        .merge(partner_requests::routes())
        .merge(aggregates::routes())
        .merge(openapi::routes())
}

/// Turns `routes` into a service: adds the JSON 404 fallback, the state and the
/// middleware (request ids, tracing, metrics, error bodies).
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let console = admin::AdminContext::new(&state);
    telemetry::layer(routes.fallback(error::not_found).with_state(state).layer(axum::Extension(console)), metrics)
}

/// The full application: [`routes`] through [`finish`].
pub fn app(state: AppState) -> Router {
    finish(routes(), state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
