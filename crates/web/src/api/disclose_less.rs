//! Disclosing less: the predicate and statistics catalogues, running a statistics offer, and the
//! runs as the company, the regulator and the citizens counted in them see them.

use actix_web::web::{Data, Json, Path};
use infobank_consent::predicates::{PredicateSpec, catalogue};
use infobank_consent::statistics::catalogue::{DIMENSIONS, Dimension, MEASURES, Measure};
use infobank_consent::statistics::run::{self, CountedIn, RunAnswer, RunSummary};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authenticated, Citizen, Company, Regulator};
use crate::error::ApiError;
use crate::state::AppState;

/// The predicates an offer may ask: name, typed parameters, the categories each reads, and the
/// question in English and Japanese (`{param}` stands for a parameter's value).
#[utoipa::path(get, path = "/api/v1/predicates", tag = "offers", responses((status = 200, body = Vec<Object>)))]
pub async fn predicates() -> Json<&'static [PredicateSpec]> {
    Json(catalogue())
}

#[derive(Serialize, ToSchema)]
pub struct StatisticsCatalogue {
    /// The bank's threshold: a cell is released only with at least this many people.
    pub k: i64,
    #[schema(value_type = Vec<Object>)]
    pub dimensions: &'static [Dimension],
    #[schema(value_type = Vec<Object>)]
    pub measures: &'static [Measure],
}

/// The dimensions and measures a statistics offer may ask, and the bank's `k`.
#[utoipa::path(get, path = "/api/v1/statistics/catalogue", tag = "offers", responses((status = 200, body = StatisticsCatalogue)))]
pub async fn statistics_catalogue(state: Data<AppState>) -> Json<StatisticsCatalogue> {
    Json(StatisticsCatalogue {
        k: state.disclose_less.statistics_k,
        dimensions: DIMENSIONS,
        measures: MEASURES,
    })
}

/// Runs a statistics offer over the citizens whose consent is live now. Only cells of at least
/// `k` people are released; complementary cells are suppressed so that none can be recovered
/// by subtraction; a run whose participants differ from an earlier run of the company by fewer
/// than `k` people (but not none) is refused. Each run has one audit leaf.
#[utoipa::path(post, path = "/api/v1/offers/{id}/statistics", tag = "offers", params(("id" = String, Path)), security(("company" = [])), responses(
    (status = 200, body = Object),
    (status = 403, description = "company_suspended, offer_withdrawn, quota_exceeded (runs per day)", body = crate::error::Problem),
    (status = 404, description = "not this company's offer", body = crate::error::Problem),
    (status = 409, description = "not_a_statistics_offer, statistics_too_close, participants_changed", body = crate::error::Problem),
))]
pub async fn run_statistics(
    state: Data<AppState>,
    who: Authenticated<Company>,
    id: Path<String>,
) -> Result<Json<RunAnswer>, ApiError> {
    crate::limits::enforce(state.limits.disclosure.as_ref(), &who.account_id)?;
    let id = id.into_inner();
    let k = state.disclose_less.statistics_k;
    let now = crate::clock::now();
    let answer = state
        .db(move |conn, keys| run::run(conn, keys, &who.account_id, &id, k, now))
        .await?;
    Ok(Json(answer))
}

/// Statistics runs, newest first: a company's own (company token) or every company's
/// (regulator token). Counts only: no cell is listed here.
#[utoipa::path(get, path = "/api/v1/statistics/runs", tag = "offers", security(("company" = []), ("regulator" = [])), responses(
    (status = 200, body = Vec<Object>),
    (status = 401, body = crate::error::Problem),
))]
pub async fn runs(
    state: Data<AppState>,
    company: Result<Authenticated<Company>, ApiError>,
    regulator: Result<Authenticated<Regulator>, ApiError>,
) -> Result<Json<Vec<RunSummary>>, ApiError> {
    let (company_id, regulator_id) = match (company, regulator) {
        (Ok(c), _) => (Some(c.account_id), None),
        (Err(_), Ok(r)) => (None, Some(r.account_id)),
        (Err(as_company), Err(as_regulator)) => {
            return Err(if as_regulator.code == "wrong_role" {
                as_company
            } else {
                as_regulator
            });
        }
    };
    let now = crate::clock::now();
    let list = state
        .db(move |conn, _| {
            let list = run::list(conn, company_id.as_deref(), run::MAX_PAGE)?;
            // A regulator's reads are logged, as every read of the audit endpoints is.
            if let Some(regulator) = regulator_id {
                infobank_audit::record_read(conn, &regulator, "statistics runs", now)?;
            }
            Ok::<_, infobank_consent::ConsentError>(list)
        })
        .await?;
    Ok(Json(list))
}

/// The statistics runs that counted the citizen, each with her pseudonym, its leaf index and an
/// RFC 6962 inclusion proof to the run's `participants_root` (named in the run's audit leaf).
#[utoipa::path(get, path = "/api/v1/me/statistics-runs", tag = "consents", security(("citizen" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn counted_in(state: Data<AppState>, who: Authenticated<Citizen>) -> Result<Json<Vec<CountedIn>>, ApiError> {
    let list = state
        .db(move |conn, _| run::counted_in(conn, &who.account_id, Some(run::MAX_PAGE)))
        .await?;
    Ok(Json(list))
}
