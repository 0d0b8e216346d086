//! The citizen's side of consent: the offers inbox with a preview of exactly what would be
//! shared, the consents dashboard (pause, resume, revoke, receipts), and the disclosure history.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Form, Path, Query};
use askama::Template;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use infobank_accounts::Role;
use infobank_consent::consents::{self, Change, ConsentSummary};
use infobank_consent::disclosure::{self, DisclosedRecord, DisclosureRecord};
use infobank_consent::offers::{self, Ask, Offer};
use infobank_consent::purposes::purpose;
use infobank_consent::statistics::run::{CountedIn, counted_in};
use infobank_consent::{ConsentError, companies, declines};
use infobank_vault::categories::category;
use serde::Deserialize;

use super::context::PortalContext;
use super::disclose_less::{answer, question, statistics_sentence};
use super::forms::{display_value, t_owned};
use super::i18n::{Lang, Messages};
use super::pages::{CsrfOnly, Layout, csrf_refused, error_page, refuse, render};
use crate::error::ApiError;

/// A consent this close to its end gets a notice on the dashboard.
const EXPIRY_NOTICE_DAYS: i64 = 14;

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn purpose_label(lang: Lang, code: &str) -> String {
    purpose(code).map_or_else(
        || code.to_owned(),
        |p| match lang {
            Lang::En => p.label_en.to_owned(),
            Lang::Ja => p.label_ja.to_owned(),
        },
    )
}

fn category_labels(t: &Messages<'_>, names: &[String]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| (n.clone(), t_owned(t, &format!("category.{n}"))))
        .collect()
}

/// One thing a predicate offer learns, and (on the offer page) the citizen's answer today.
pub struct Learned {
    pub question: String,
    pub today: Option<String>,
}

/// An offer as the citizen reads it: every term in words.
pub struct OfferCard {
    pub id: String,
    /// `records`, `predicates` or `statistics`.
    pub kind: &'static str,
    /// For predicates: the questions, and nothing else is learned.
    pub learns: Vec<Learned>,
    /// For statistics: what the citizen is counted in, in one sentence.
    pub statistics: Option<String>,
    pub company: String,
    pub title: String,
    pub description: String,
    pub purpose: String,
    pub categories: Vec<(String, String)>,
    pub special: Vec<String>,
    pub data_range_days: i32,
    pub one_time: bool,
    pub max_fetches_per_day: i32,
    pub retention_days: i32,
    pub consent_days: i32,
    pub reward_coins: i64,
}

pub(super) fn card(ctx: &PortalContext, offer: Offer, company: String) -> OfferCard {
    let t = ctx.t();
    let learns = match &offer.ask {
        Ask::Predicates { predicates } => predicates
            .iter()
            .map(|p| Learned {
                question: question(&t, ctx.lang, p),
                today: None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let statistics = match &offer.ask {
        Ask::Statistics { statistics } => Some(statistics_sentence(
            &t,
            ctx.lang,
            statistics,
            ctx.state.disclose_less.statistics_k,
        )),
        _ => None,
    };
    OfferCard {
        kind: offer.ask.kind(),
        learns,
        statistics,
        purpose: purpose_label(ctx.lang, &offer.purpose),
        categories: category_labels(&t, &offer.categories),
        special: offer
            .special_categories
            .iter()
            .map(|n| t_owned(&t, &format!("category.{n}")))
            .collect(),
        id: offer.id,
        company,
        title: offer.title,
        description: offer.description,
        data_range_days: offer.data_range_days,
        one_time: offer.access == "one_time",
        max_fetches_per_day: offer.max_fetches_per_day,
        retention_days: offer.retention_days,
        consent_days: offer.consent_days,
        reward_coins: offer.reward_coins,
    }
}

#[derive(Template)]
#[template(path = "offers.html")]
struct OffersPage<'a> {
    l: Layout<'a>,
    offers: Vec<OfferCard>,
    /// The open offers she declined: (id, title), each with a way back.
    declined: Vec<(String, String)>,
    /// Just declined one.
    notice: bool,
}

/// The inbox: every open offer.
pub async fn inbox(ctx: PortalContext, query: Query<NoticeQuery>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let (list, declined) = ctx
        .state
        .db(move |conn, _| {
            let declined = declines::declined_ids(conn, &citizen)?;
            let open = offers::open(conn, offers::MAX_PAGE)?;
            let (hidden, shown): (Vec<Offer>, Vec<Offer>) = open.into_iter().partition(|o| declined.contains(&o.id));
            let shown = shown
                .into_iter()
                .map(|o| {
                    let name = companies::get(conn, &o.company_id)?.legal_name;
                    Ok::<_, ConsentError>((o, name))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let hidden: Vec<(String, String)> = hidden.into_iter().map(|o| (o.id, o.title)).collect();
            Ok::<_, ConsentError>((shown, hidden))
        })
        .await?;
    let offers = list.into_iter().map(|(o, name)| card(&ctx, o, name)).collect();
    Ok(render(
        &ctx,
        StatusCode::OK,
        &OffersPage {
            l: Layout::of(&ctx),
            offers,
            declined,
            notice: query.notice.as_deref() == Some("declined"),
        },
    ))
}

struct PreviewCategory {
    name: String,
    label: String,
    records: Vec<Vec<(String, String)>>,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage<'a> {
    l: Layout<'a>,
    offer_id: String,
    /// One offer (a list, so the page shares the terms template with the inbox).
    offers: Vec<OfferCard>,
    preview: Vec<PreviewCategory>,
    error: Option<&'static str>,
    /// The citizen declined it (it is out of her inbox; she may undo).
    declined: bool,
}

fn preview_view(
    t: &Messages<'_>,
    data: BTreeMap<String, Vec<DisclosedRecord>>,
    order: &[String],
) -> Vec<PreviewCategory> {
    order
        .iter()
        .map(|name| {
            let records = data
                .get(name)
                .map(|records| {
                    records
                        .iter()
                        .map(|r| {
                            let fields = category(name).map(|c| c.fields).unwrap_or_default();
                            fields
                                .iter()
                                .filter(|f| !r.data[f.name].is_null())
                                .map(|f| {
                                    (
                                        t_owned(t, &format!("field.{}", f.name)),
                                        display_value(t, f, &r.data[f.name]),
                                    )
                                })
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default();
            PreviewCategory {
                name: name.clone(),
                label: t_owned(t, &format!("category.{name}")),
                records,
            }
        })
        .collect()
}

async fn offer_page(ctx: &PortalContext, id: String, error: Option<&'static str>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(ctx));
    };
    let now = crate::clock::now();
    let found = ctx
        .state
        .db(move |conn, keys| {
            let preview = match disclosure::preview(conn, keys, &citizen, &id, now) {
                Ok(found) => found,
                Err(ConsentError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            let name = companies::get(conn, &preview.offer.company_id)?.legal_name;
            let declined = declines::declined_ids(conn, &citizen)?.contains(&id);
            Ok::<_, ConsentError>(Some((preview, name, declined)))
        })
        .await?;
    let Some((found, name, declined)) = found else {
        return Ok(error_page(
            ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        ));
    };
    let t = ctx.t();
    // Only a records offer has records to show; the others say what they learn in the terms.
    let preview = match found.offer.ask {
        Ask::Records => preview_view(&t, found.would_share, &found.offer.categories),
        _ => Vec::new(),
    };
    let mut offer_card = card(ctx, found.offer, name);
    for (learned, a) in offer_card.learns.iter_mut().zip(found.would_answer.iter().flatten()) {
        learned.today = Some(answer(&t, a.value));
    }
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = OfferPage {
        l: Layout::of(ctx),
        offer_id: offer_card.id.clone(),
        offers: vec![offer_card],
        preview,
        error,
        declined,
    };
    Ok(render(ctx, status, &page))
}

/// Declines the offer (`/offers/{id}/decline`) or undoes that (`/offers/{id}/undecline`); back to
/// the inbox, or to the offer after an undo.
pub async fn decline(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<CsrfOnly>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let (id, action) = path.into_inner();
    let now = crate::clock::now();
    let offer = id.clone();
    let to = match action.as_str() {
        "decline" => {
            let done = ctx
                .state
                .db(move |conn, _| Ok::<_, ApiError>(declines::decline(conn, &citizen, &offer, now)))
                .await?;
            match done {
                Ok(_) => "/offers?notice=declined".to_owned(),
                Err(ConsentError::NotFound) => {
                    return Ok(error_page(
                        &ctx,
                        StatusCode::NOT_FOUND,
                        "error.not_found_title",
                        "error.not_found",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        "undecline" => {
            ctx.state
                .db(move |conn, _| declines::undo(conn, &citizen, &offer, now))
                .await?;
            format!("/offers/{id}")
        }
        _ => {
            return Ok(error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "error.not_found_title",
                "error.not_found",
            ));
        }
    };
    Ok(ctx.redirect(&to).finish())
}

/// One offer with the preview of exactly what the citizen would share.
pub async fn show(ctx: PortalContext, id: Path<String>) -> Result<HttpResponse, ApiError> {
    offer_page(&ctx, id.into_inner(), None).await
}

pub async fn accept(ctx: PortalContext, id: Path<String>, form: Form<CsrfOnly>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let offer_id = id.into_inner();
    let now = crate::clock::now();
    let tokens = ctx.state.tokens.clone();
    let wanted = offer_id.clone();
    let result = ctx
        .state
        .db(move |conn, keys| Ok::<_, ApiError>(consents::accept(conn, keys, &tokens, &citizen, &wanted, now)))
        .await?;
    let refused = match result {
        Ok(_) => return Ok(ctx.redirect("/consents?notice=granted").finish()),
        Err(ConsentError::AlreadyConsented) => "consents.already",
        Err(ConsentError::OfferNotOpen) => "consents.not_open",
        Err(ConsentError::Coins(infobank_coins::CoinsError::OfferNotFunded { .. })) => "consents.not_funded",
        Err(e) => return Err(e.into()),
    };
    offer_page(&ctx, offer_id, Some(refused)).await
}

struct ConsentRow {
    id: String,
    company: String,
    offer_title: String,
    purpose: String,
    categories: Vec<(String, String)>,
    status: String,
    status_label: String,
    granted: String,
    expires: String,
    uses: i64,
    last_used: String,
    company_suspended: bool,
    expiring_soon: bool,
    can_pause: bool,
    can_resume: bool,
    can_revoke: bool,
}

#[derive(Template)]
#[template(path = "consents.html")]
struct ConsentsPage<'a> {
    l: Layout<'a>,
    rows: Vec<ConsentRow>,
    notice: Option<&'static str>,
    suspended: Vec<String>,
    expiring: Vec<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn consent_row(ctx: &PortalContext, s: ConsentSummary, now: DateTime<Utc>) -> ConsentRow {
    let t = ctx.t();
    let c = s.consent;
    let live = matches!(c.status.as_str(), "active" | "paused");
    ConsentRow {
        status_label: t_owned(&t, &format!("consents.status_{}", c.status)),
        company_suspended: live && s.company_status == "suspended",
        expiring_soon: live && c.expires_at - now <= Duration::days(EXPIRY_NOTICE_DAYS),
        can_pause: c.status == "active",
        can_resume: c.status == "paused",
        can_revoke: live,
        granted: date(c.granted_at),
        expires: date(c.expires_at),
        uses: c.uses,
        last_used: c.last_used_at.map(date).unwrap_or_else(|| "—".into()),
        purpose: purpose_label(ctx.lang, &s.purpose),
        categories: category_labels(&t, &s.categories),
        status: c.status,
        id: c.id,
        company: s.company_name,
        offer_title: s.offer_title,
    }
}

/// The consents dashboard.
pub async fn dashboard(ctx: PortalContext, query: Query<NoticeQuery>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let list = ctx.state.db(move |conn, _| consents::dashboard(conn, &citizen)).await?;
    let now = crate::clock::now();
    let rows: Vec<ConsentRow> = list.into_iter().map(|s| consent_row(&ctx, s, now)).collect();
    let notice = match query.notice.as_deref() {
        Some("granted") => Some("consents.granted"),
        Some("paused") => Some("consents.paused"),
        Some("resumed") => Some("consents.resumed"),
        Some("revoked") => Some("consents.revoked"),
        _ => None,
    };
    let mut suspended: Vec<String> = rows
        .iter()
        .filter(|r| r.company_suspended)
        .map(|r| r.company.clone())
        .collect();
    suspended.dedup();
    let expiring = rows
        .iter()
        .filter(|r| r.expiring_soon)
        .map(|r| r.offer_title.clone())
        .collect();
    let page = ConsentsPage {
        l: Layout::of(&ctx),
        rows,
        notice,
        suspended,
        expiring,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

/// Pause, resume or revoke from the dashboard.
pub async fn change(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<CsrfOnly>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let (id, action) = path.into_inner();
    let (what, notice) = match action.as_str() {
        "pause" => (Change::Pause, "paused"),
        "resume" => (Change::Resume, "resumed"),
        "revoke" => (Change::Revoke, "revoked"),
        _ => {
            return Ok(error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "error.not_found_title",
                "error.not_found",
            ));
        }
    };
    let now = crate::clock::now();
    let tokens = ctx.state.tokens.clone();
    let result = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(consents::change(conn, &tokens, &citizen, &id, what, now)))
        .await?;
    match result {
        Ok(_) => Ok(ctx.redirect(&format!("/consents?notice={notice}")).finish()),
        Err(ConsentError::NotFound) => Ok(error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        )),
        Err(ConsentError::InvalidTransition { .. }) => Ok(ctx.redirect("/consents").finish()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    l: Layout<'a>,
    consent_id: String,
    jws: String,
    pretty: String,
    leaf_hash: String,
    /// `signed`, `integrated`, `queued` or `unknown` (see `receipt_log_status`).
    log_status: &'static str,
    log_message: &'static str,
    log_index: u64,
    log_size: u64,
}

/// Where the receipt's audit leaf stands: queued, integrated, or under a signed head.
fn receipt_log_status(
    conn: &mut infobank_db::DbConnection,
    leaf_hash: &str,
) -> Result<(&'static str, u64, u64), infobank_audit::AuditError> {
    let Some(hash) = infobank_audit::merkle::from_hex(leaf_hash) else {
        return Ok(("unknown", 0, 0));
    };
    Ok(match infobank_audit::log::leaf_status(conn, &hash)? {
        infobank_audit::LeafStatus::Unknown => ("unknown", 0, 0),
        infobank_audit::LeafStatus::Queued => ("queued", 0, 0),
        infobank_audit::LeafStatus::Integrated(index) => {
            match infobank_audit::sth::latest(conn)?.filter(|head| head.tree_size > index) {
                Some(head) => ("signed", index, head.tree_size),
                None => ("integrated", index, 0),
            }
        }
    })
}

/// The consent's latest receipt: the signed JWS and the record it carries.
pub async fn receipt(ctx: PortalContext, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let id = id.into_inner();
    let found = ctx
        .state
        .db(move |conn, _| match consents::get_for_citizen(conn, &citizen, &id) {
            Ok(c) => Ok(Some(c)),
            Err(ConsentError::NotFound) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    let Some(consent) = found else {
        return Ok(error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        ));
    };
    let record = consent
        .receipt
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let payload = record
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_default();
    let leaf_hash = record
        .as_ref()
        .and_then(|v| v["audit_leaf_hash"].as_str())
        .unwrap_or_default()
        .to_owned();
    let lookup = leaf_hash.clone();
    let (log_status, log_index, log_size) = ctx.state.db(move |conn, _| receipt_log_status(conn, &lookup)).await?;
    let page = ReceiptPage {
        l: Layout::of(&ctx),
        consent_id: consent.id,
        jws: consent.receipt,
        pretty: payload,
        leaf_hash,
        log_status,
        log_message: match log_status {
            "signed" => "receipt.log_signed",
            "integrated" => "receipt.log_integrated",
            "queued" => "receipt.log_queued",
            _ => "receipt.log_unknown",
        },
        log_index,
        log_size,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

struct DisclosureRow {
    at: String,
    company: String,
    categories: Vec<(String, String)>,
    /// For a predicate answer: each question and what the company was told.
    answers: Vec<(String, String)>,
    records: i32,
    consent_id: String,
    audit_leaf_hash: String,
}

#[derive(Template)]
#[template(path = "disclosures.html")]
struct DisclosuresPage<'a> {
    l: Layout<'a>,
    rows: Vec<DisclosureRow>,
    runs: Vec<RunRow>,
}

/// A statistics run that counted the citizen.
struct RunRow {
    at: String,
    company: String,
    offer: String,
    participants: i32,
    released: i32,
    suppressed: i32,
    subject: String,
    audit_leaf_hash: String,
}

impl From<CountedIn> for RunRow {
    fn from(c: CountedIn) -> Self {
        Self {
            at: c.run.ran_at.format("%Y-%m-%d %H:%M").to_string(),
            company: c.run.company_name,
            offer: c.run.offer_title,
            participants: c.run.participants,
            released: c.run.released_cells,
            suppressed: c.run.suppressed_cells,
            subject: c.subject,
            audit_leaf_hash: c.run.audit_leaf_hash,
        }
    }
}

/// Who received what, when, under which consent.
pub async fn disclosures(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let (list, runs): (Vec<DisclosureRecord>, Vec<CountedIn>) = ctx
        .state
        .db(move |conn, keys| {
            let list = disclosure::for_citizen(conn, keys, &citizen, None, disclosure::MAX_PAGE)?;
            let runs = counted_in(conn, &citizen, Some(infobank_consent::statistics::run::MAX_PAGE))?;
            Ok::<_, ConsentError>((list, runs))
        })
        .await?;
    let t = ctx.t();
    let rows = list
        .into_iter()
        .map(|d| DisclosureRow {
            answers: d
                .answers
                .iter()
                .flatten()
                .map(|a| (question(&t, ctx.lang, &a.predicate()), answer(&t, a.value)))
                .collect(),
            at: d.disclosed_at.format("%Y-%m-%d %H:%M").to_string(),
            company: d.company_name,
            categories: category_labels(&t, &d.categories),
            records: d.record_count,
            consent_id: d.consent_id,
            audit_leaf_hash: d.audit_leaf_hash,
        })
        .collect();
    Ok(render(
        &ctx,
        StatusCode::OK,
        &DisclosuresPage {
            l: Layout::of(&ctx),
            rows,
            runs: runs.into_iter().map(RunRow::from).collect(),
        },
    ))
}
