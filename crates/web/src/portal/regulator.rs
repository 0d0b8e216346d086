//! The regulator's pages: the log browser, the signed tree head, the checkpoint check, and the
//! log reconciled with the tables.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Form, Query};
use askama::Template;
use base64::Engine as _;
use infobank_accounts::Role;
use infobank_audit::checkpoint::{self, CheckpointStatus};
use infobank_audit::{Action, AuditError, Filter, log, record_read, sth};
use serde::Deserialize;

use super::context::PortalContext;
use super::pages::{CsrfOnly, Layout, csrf_refused, refuse, render};
use crate::error::ApiError;

const PAGE_SIZE: u64 = 50;

/// One row of the log table, with the leaf's JSON opened up for reading.
struct Row {
    index: u64,
    time: String,
    action: String,
    actor: String,
    company: String,
    objects: String,
}

impl Row {
    fn from_entry(e: &log::Entry) -> Self {
        let leaf: serde_json::Value = serde_json::from_str(&e.leaf).unwrap_or_default();
        let actor = format!(
            "{} {}",
            leaf["actor"]["role"].as_str().unwrap_or_default(),
            leaf["actor"]["id"].as_str().unwrap_or_default()
        );
        let objects = leaf["objects"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        Self {
            index: e.index,
            time: e.recorded_at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            action: e.action.clone(),
            actor,
            company: e.company_id.clone().unwrap_or_default(),
            objects,
        }
    }
}

struct HeadView {
    tree_size: u64,
    root_hash: String,
    signed_at: String,
    key_id: String,
}

#[derive(Template)]
#[template(path = "regulator_log.html")]
struct LogPage<'a> {
    l: Layout<'a>,
    head: HeadView,
    /// `none`, `consistent` or `inconsistent`.
    checkpoint_status: &'static str,
    checkpoint_size: Option<u64>,
    checkpoint_reason: String,
    actions: Vec<&'static str>,
    filter_action: String,
    filter_company: String,
    rows: Vec<Row>,
    older_link: Option<String>,
    is_first_page: bool,
}

#[derive(Deserialize)]
pub struct LogQuery {
    action: Option<String>,
    company: Option<String>,
    before: Option<u64>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub async fn log_page(ctx: PortalContext, query: Query<LogQuery>) -> Result<HttpResponse, ApiError> {
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    let LogQuery {
        action,
        company,
        before,
    } = query.into_inner();
    // Unknown actions filter nothing rather than everything: only known names reach the query.
    let action = non_empty(action).filter(|a| Action::parse(a).is_some());
    let company = non_empty(company);
    let filter = Filter {
        action: action.clone(),
        company_id: company.clone(),
    };
    let now = crate::clock::now();
    let signer = ctx.state.log_signer.clone();
    let (head, status, entries) = ctx
        .state
        .db(move |conn, _| {
            let entries = log::browse(conn, &filter, before, PAGE_SIZE)?;
            record_read(conn, &regulator_id, "portal log page", now)?;
            let head = sth::current(conn, &signer, now)?;
            let status = checkpoint::check(conn, &regulator_id, &head)?;
            Ok::<_, AuditError>((head, status, entries))
        })
        .await?;

    let (checkpoint_status, checkpoint_size, checkpoint_reason) = match &status {
        CheckpointStatus::NoCheckpoint => ("none", None, String::new()),
        CheckpointStatus::Consistent { checkpoint, .. } => ("consistent", Some(checkpoint.tree_size), String::new()),
        CheckpointStatus::Inconsistent { checkpoint, reason } => {
            ("inconsistent", Some(checkpoint.tree_size), reason.clone())
        }
    };
    let rows: Vec<Row> = entries.iter().map(Row::from_entry).collect();
    let older_link = (rows.len() as u64 == PAGE_SIZE).then(|| {
        let last = rows.last().map_or(0, |r| r.index);
        let mut link = format!("/regulator/log?before={last}");
        if let Some(a) = &action {
            link.push_str(&format!("&action={a}"));
        }
        if let Some(c) = &company {
            link.push_str(&format!("&company={}", urlencode(c)));
        }
        link
    });
    let page = LogPage {
        l: Layout::of(&ctx),
        head: HeadView {
            tree_size: head.tree_size,
            root_hash: base64::engine::general_purpose::STANDARD.encode(head.root_hash),
            signed_at: head
                .timestamp()
                .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
                .unwrap_or_default(),
            key_id: head.key_id.clone(),
        },
        checkpoint_status,
        checkpoint_size,
        checkpoint_reason,
        actions: Action::ALL.iter().map(|a| a.as_str()).collect(),
        filter_action: action.unwrap_or_default(),
        filter_company: company.unwrap_or_default(),
        rows,
        older_link,
        is_first_page: before.is_none(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn acknowledge(ctx: PortalContext, form: Form<CsrfOnly>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    let signer = ctx.state.log_signer.clone();
    ctx.state
        .db(move |conn, _| {
            let head = sth::current(conn, &signer, now)?;
            checkpoint::acknowledge(conn, &regulator_id, &head, now)?;
            Ok::<_, AuditError>(())
        })
        .await?;
    Ok(ctx.redirect("/regulator/log").finish())
}

#[derive(Template)]
#[template(path = "regulator_reconcile.html")]
struct ReconcilePage<'a> {
    l: Layout<'a>,
    leaves: u64,
    /// Rows read, as `12 consents, 40 disclosures, …`.
    rows: String,
    mismatch_count: u64,
    mismatches: Vec<infobank_audit::reconcile::Mismatch>,
}

/// `infobank audit reconcile` in the portal: the log against the tables it speaks for.
pub async fn reconciliation(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    let outcome = ctx
        .state
        .db(move |conn, _| {
            let outcome = infobank_audit::reconcile::reconcile(conn)?;
            record_read(conn, &regulator_id, "portal reconciliation", now)?;
            Ok::<_, AuditError>(outcome)
        })
        .await?;
    let page = ReconcilePage {
        l: Layout::of(&ctx),
        leaves: outcome.leaves,
        rows: outcome.rows_read(),
        mismatch_count: outcome.mismatch_count,
        mismatches: outcome.mismatches,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "regulator_statistics.html")]
struct StatisticsPage<'a> {
    l: Layout<'a>,
    runs: Vec<infobank_consent::statistics::run::RunSummary>,
    k: i64,
}

/// Every statistics run, newest first: which company ran which offer over how many people,
/// how many cells it was shown and how many were withheld. Counts only; the read is logged.
pub async fn statistics(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    let runs = ctx
        .state
        .db(move |conn, _| {
            let runs =
                infobank_consent::statistics::run::list(conn, None, infobank_consent::statistics::run::MAX_PAGE)?;
            record_read(conn, &regulator_id, "portal statistics runs", now)?;
            Ok::<_, infobank_consent::ConsentError>(runs)
        })
        .await?;
    let page = StatisticsPage {
        l: Layout::of(&ctx),
        runs,
        k: ctx.state.disclose_less.statistics_k,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}
