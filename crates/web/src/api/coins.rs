//! Coins: the published reward policy (public), the citizen's wallet and redemption.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Query};
use chrono::{DateTime, Utc};
use infobank_coins::redemption::{Target, redeem};
use infobank_coins::statement::{Line, MAX_PAGE, history};
use infobank_coins::{Account, PublishedPolicy, ledger, policy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authenticated, Citizen};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The formulas in words; the numbers are the policy's parameters.
pub const FORMULAS: [(&str, &str); 5] = [
    (
        "entrust",
        "weight(category) x min(ceil(records held / records_per_unit), monthly_cap_units); paid once per \
         citizen, category and calendar month (UTC), at the month's first entrust of the category",
    ),
    (
        "breadth",
        "breadth_bonus_per_company x min(n, breadth_max_companies) when the n-th distinct approved company \
         receives the citizen's data in a calendar month",
    ),
    (
        "offer_reward",
        "the coins the offer promises, reserved from the company's funding account at consent and paid to \
         the citizen at the first disclosure (released to the company if the consent ends without one)",
    ),
    (
        "predicate_answers",
        "predicate_answer x the predicates answered (true or false, not null); paid once per consent and \
         calendar month, at the month's first answer (since policy version 2)",
    ),
    (
        "statistics_participation",
        "statistics_participation, paid once per citizen, statistics offer and calendar month, at the first \
         run that counts the citizen (since policy version 2)",
    ),
];

#[derive(Serialize, ToSchema)]
pub struct PolicyVersion {
    pub version: i32,
    pub published_at: DateTime<Utc>,
}

/// A published reward policy.
#[derive(Serialize, ToSchema)]
pub struct RewardPolicyView {
    pub version: i32,
    pub published_at: DateTime<Utc>,
    /// Each formula in words.
    #[schema(value_type = Object)]
    pub formulas: Value,
    /// Per category: `{weight, records_per_unit, monthly_cap_units}`.
    #[schema(value_type = Object)]
    pub categories: Value,
    pub breadth_bonus_per_company: i64,
    pub breadth_max_companies: i64,
    /// Coins per predicate answered (0 before version 2).
    pub predicate_answer: i64,
    /// Coins per statistics offer and month a citizen is counted in (0 before version 2).
    pub statistics_participation: i64,
    /// Every version ever published, oldest first.
    pub versions: Vec<PolicyVersion>,
}

#[derive(Deserialize, IntoParams)]
pub struct PolicyQuery {
    /// A past version (default: the current one).
    pub version: Option<i32>,
}

fn policy_view(published: PublishedPolicy, versions: Vec<(i32, DateTime<Utc>)>) -> RewardPolicyView {
    RewardPolicyView {
        version: published.version,
        published_at: published.published_at,
        formulas: FORMULAS.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect(),
        categories: json!(published.policy.categories),
        breadth_bonus_per_company: published.policy.breadth_bonus_per_company,
        breadth_max_companies: published.policy.breadth_max_companies,
        predicate_answer: published.policy.predicate_answer,
        statistics_participation: published.policy.statistics_participation,
        versions: versions
            .into_iter()
            .map(|(version, published_at)| PolicyVersion { version, published_at })
            .collect(),
    }
}

/// The published reward policy: what every payout is computed from.
#[utoipa::path(get, path = "/api/v1/reward-policy", tag = "coins", params(PolicyQuery), responses(
    (status = 200, body = RewardPolicyView),
    (status = 404, description = "no such version", body = crate::error::Problem),
))]
pub async fn reward_policy(
    state: Data<AppState>,
    query: Query<PolicyQuery>,
) -> Result<Json<RewardPolicyView>, ApiError> {
    let wanted = query.version;
    let (published, versions) = state
        .db(move |conn, _| {
            let published = match wanted {
                Some(v) => policy::version(conn, v)?,
                None => policy::latest(conn)?,
            };
            Ok::<_, infobank_coins::CoinsError>((published, policy::versions(conn)?))
        })
        .await?;
    let published = published.ok_or_else(|| ApiError::not_found().detail("no such reward policy version"))?;
    Ok(Json(policy_view(published, versions)))
}

/// One line of the wallet's statement.
#[derive(Serialize, ToSchema)]
pub struct CoinEntryView {
    pub id: String,
    /// Coins in (positive) or out (negative).
    pub amount: i64,
    pub balance_after: i64,
    /// `entrust_reward`, `breadth_bonus`, `offer_reward` or `redemption`.
    pub reason: String,
    /// What the entry is about: `{kind, id}` (a record, an import's audit leaf, a consent, a redemption).
    #[serde(rename = "ref")]
    #[schema(value_type = Object)]
    pub reference: Value,
    /// The reward policy version a payout was computed under.
    pub policy_version: Option<i32>,
    /// The recorded inputs of the computation.
    #[schema(value_type = Object)]
    pub inputs: Value,
    /// The audit leaf (hash, hex) of this entry, and of the event it pays for: proofs by
    /// `GET /api/v1/audit/proof/inclusion?leaf_hash=`.
    pub audit_leaf_hash: String,
    pub event_leaf_hash: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<Line> for CoinEntryView {
    fn from(line: Line) -> Self {
        let e = line.entry;
        Self {
            id: e.id,
            amount: line.amount,
            balance_after: line.balance_after,
            reason: e.reason.as_str().to_owned(),
            reference: json!({ "kind": e.ref_kind, "id": e.ref_id }),
            policy_version: e.policy_version,
            inputs: e.inputs,
            audit_leaf_hash: infobank_audit::merkle::to_hex(&e.audit_leaf),
            event_leaf_hash: e.event_leaf.as_ref().map(infobank_audit::merkle::to_hex),
            at: e.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Wallet {
    pub balance: i64,
    /// Newest first.
    pub entries: Vec<CoinEntryView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct WalletQuery {
    /// The `next_before` of the previous page.
    pub before: Option<String>,
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The citizen's balance and coin history.
#[utoipa::path(get, path = "/api/v1/me/coins", tag = "coins", params(WalletQuery), security(("citizen" = [])), responses(
    (status = 200, body = Wallet),
    (status = 401, body = crate::error::Problem),
))]
pub async fn wallet(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    query: Query<WalletQuery>,
) -> Result<Json<Wallet>, ApiError> {
    let WalletQuery { before, limit } = query.into_inner();
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to {MAX_PAGE}"),
        ));
    }
    let (balance, lines) = state
        .db(move |conn, _| {
            let account = Account::Citizen(&who.account_id);
            let lines = history(conn, account, before.as_deref(), limit)?;
            Ok::<_, infobank_coins::CoinsError>((ledger::balance(conn, account)?, lines))
        })
        .await?;
    let next_before = (lines.len() as i64 == limit)
        .then(|| lines.last().map(|l| l.entry.id.clone()))
        .flatten();
    Ok(Json(Wallet {
        balance,
        entries: lines.into_iter().map(CoinEntryView::from).collect(),
        next_before,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    /// Whole coins, at least 1.
    pub amount: i64,
    /// Chosen by the client (1 to 128 visible ASCII characters); a retry with the same key
    /// returns the first redemption and spends nothing more.
    pub idempotency_key: String,
    /// `partner_points` (default) or `donation`.
    pub target: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Redeemed {
    pub entry: CoinEntryView,
    pub balance: i64,
    /// `partner_points` or `donation`.
    pub target: String,
}

pub fn parse_target(raw: Option<&str>) -> Result<Target, ApiError> {
    match raw {
        None => Ok(Target::PartnerPoints),
        Some(s) => Target::parse(s).ok_or_else(|| {
            ApiError::validation(vec![FieldError {
                field: "target".into(),
                code: "unknown_target".into(),
                message: "must be partner_points or donation".into(),
            }])
        }),
    }
}

/// Redeem coins. 201 for a new redemption, 200 for a retry of one already made.
#[utoipa::path(post, path = "/api/v1/me/coins/redeem", tag = "coins", request_body = Redeem, security(("citizen" = [])), responses(
    (status = 201, body = Redeemed),
    (status = 200, description = "a retry: the first redemption under this idempotency_key", body = Redeemed),
    (status = 409, description = "insufficient_coins, or idempotency_key_reused with a different amount or target", body = crate::error::Problem),
    (status = 422, description = "validation_failed (amount, idempotency_key, target)", body = crate::error::Problem),
))]
pub async fn redeem_coins(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    body: Json<Redeem>,
) -> Result<HttpResponse, ApiError> {
    let Redeem {
        amount,
        idempotency_key,
        target,
    } = body.into_inner();
    let target = parse_target(target.as_deref())?;
    let now = crate::clock::now();
    let (posted, balance) = state
        .db(move |conn, _| {
            let posted = redeem(conn, &who.account_id, amount, target, &idempotency_key, now)?;
            let balance = ledger::balance(conn, Account::Citizen(&who.account_id))?;
            Ok::<_, infobank_coins::CoinsError>((posted, balance))
        })
        .await?;
    let status = if posted.is_replay() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let entry = posted.into_entry();
    let amount = entry.postings.iter().find(|p| p.account_id.starts_with("citizen:"));
    let line = Line {
        amount: amount.map_or(0, |p| p.amount),
        balance_after: amount.map_or(0, |p| p.balance_after),
        entry,
    };
    Ok(HttpResponse::build(status).json(Redeemed {
        target: target.as_str().to_owned(),
        entry: line.into(),
        balance,
    }))
}
