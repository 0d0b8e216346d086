//! "My data": the citizen's categories, records, upload, export and account deletion.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::HttpResponse;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::web::{Form, Path, Query};
use askama::Template;
use futures_util::StreamExt as _;
use infobank_accounts::{Role, end_session};
use infobank_vault::categories::{CATEGORIES, Cardinality, Category, Sensitivity, category};
use infobank_vault::import::{ImportBody, MAX_IMPORT_BYTES, RejectedRow};
use infobank_vault::validate::FieldError;
use infobank_vault::{Record, VaultError, import, records};
use serde::Deserialize;
use serde_json::Value;

use super::context::{PortalContext, SESSION_COOKIE, cookie};
use super::forms::{FieldView, display_value, field_views, form_to_data, t_owned};
use super::pages::{CsrfOnly, Layout, csrf_refused, error_page, refuse, render};
use crate::error::ApiError;

const PAGE_SIZE: i64 = 50;

fn sensitivity_key(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Normal => "sensitivity.normal",
        Sensitivity::Sensitive => "sensitivity.sensitive",
        Sensitivity::Special => "sensitivity.special",
    }
}

struct CategoryLink {
    name: &'static str,
    label: String,
    sensitivity: &'static str,
    sensitivity_label: String,
    count: i64,
}

struct GroupView {
    label: String,
    categories: Vec<CategoryLink>,
}

#[derive(Template)]
#[template(path = "mydata_index.html")]
struct IndexPage<'a> {
    l: Layout<'a>,
    groups: Vec<GroupView>,
    notice: Option<&'static str>,
}

pub async fn index(ctx: PortalContext, query: Query<NoticeQuery>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let counts: HashMap<String, i64> = ctx
        .state
        .db(move |conn, _| records::count_by_category(conn, &citizen))
        .await?
        .into_iter()
        .collect();
    let t = ctx.t();
    let groups = ["attributes", "personal", "financial", "registrable"]
        .iter()
        .map(|group| GroupView {
            label: t_owned(&t, &format!("group.{group}")),
            categories: CATEGORIES
                .iter()
                .filter(|c| c.group == *group)
                .map(|c| CategoryLink {
                    name: c.name,
                    label: t_owned(&t, &format!("category.{}", c.name)),
                    sensitivity: sensitivity_key(c.sensitivity).trim_start_matches("sensitivity."),
                    sensitivity_label: t_owned(&t, sensitivity_key(c.sensitivity)),
                    count: counts.get(c.name).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    let notice = notice_key(query.notice.as_deref());
    Ok(render(
        &ctx,
        StatusCode::OK,
        &IndexPage {
            l: Layout::of(&ctx),
            groups,
            notice,
        },
    ))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
    after: Option<String>,
}

fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice {
        Some("saved") => Some("data.saved"),
        Some("deleted") => Some("data.deleted"),
        _ => None,
    }
}

struct RecordRow {
    id: String,
    version: i32,
    cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "mydata_category.html")]
struct CategoryPage<'a> {
    l: Layout<'a>,
    name: &'static str,
    label: String,
    sensitivity: &'static str,
    sensitivity_label: String,
    special: bool,
    rows: Vec<RecordRow>,
    older_link: Option<String>,
    /// The add form, or the edit form when `editing` is set.
    fields: Vec<FieldView>,
    editing: Option<String>,
    /// A single-record category that already has its record: no add form.
    single_taken: bool,
    form_error: Option<String>,
    notice: Option<&'static str>,
}

fn row_view(ctx: &PortalContext, cat: &Category, record: &Record) -> RecordRow {
    let t = ctx.t();
    let cells = cat
        .fields
        .iter()
        .filter_map(|f| {
            let value = record.data.get(f.name)?;
            let shown = display_value(&t, f, value);
            let shown = match f.unit {
                Some(unit) if !shown.is_empty() => format!("{shown} {unit}"),
                _ => shown,
            };
            Some((t_owned(&t, &format!("field.{}", f.name)), shown))
        })
        .collect();
    RecordRow {
        id: record.id.clone(),
        version: record.version,
        cells,
    }
}

struct PageInput {
    values: Value,
    errors: Vec<FieldError>,
    editing: Option<String>,
    form_error: Option<String>,
    status: StatusCode,
}

async fn category_page(
    ctx: &PortalContext,
    cat: &'static Category,
    after: Option<String>,
    notice: Option<&'static str>,
    input: PageInput,
) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(ctx));
    };
    let name = cat.name;
    let list = ctx
        .state
        .db(move |conn, keys| records::list(conn, keys, &citizen, Some(name), after.as_deref(), PAGE_SIZE))
        .await?;
    let t = ctx.t();
    let rows: Vec<RecordRow> = list.iter().map(|r| row_view(ctx, cat, r)).collect();
    let older_link = (list.len() as i64 == PAGE_SIZE)
        .then(|| format!("/data/{}?after={}", cat.name, list.last().map_or("", |r| r.id.as_str())));
    let single_taken = cat.cardinality == Cardinality::Single && !list.is_empty() && input.editing.is_none();
    let page = CategoryPage {
        l: Layout::of(ctx),
        name: cat.name,
        label: t_owned(&t, &format!("category.{}", cat.name)),
        sensitivity: sensitivity_key(cat.sensitivity).trim_start_matches("sensitivity."),
        sensitivity_label: t_owned(&t, sensitivity_key(cat.sensitivity)),
        special: cat.sensitivity == Sensitivity::Special,
        rows,
        older_link,
        fields: field_views(&t, cat, &input.values, &input.errors),
        editing: input.editing,
        single_taken,
        form_error: input.form_error,
        notice,
    };
    Ok(render(ctx, input.status, &page))
}

fn not_found(ctx: &PortalContext) -> HttpResponse {
    error_page(ctx, StatusCode::NOT_FOUND, "error.not_found_title", "error.not_found")
}

fn fresh() -> PageInput {
    PageInput {
        values: Value::Null,
        errors: Vec::new(),
        editing: None,
        form_error: None,
        status: StatusCode::OK,
    }
}

pub async fn show_category(
    ctx: PortalContext,
    name: Path<String>,
    query: Query<NoticeQuery>,
) -> Result<HttpResponse, ApiError> {
    if ctx.account_id_as(Role::Citizen).is_none() {
        return Ok(refuse(&ctx));
    }
    let Some(cat) = category(&name) else {
        return Ok(not_found(&ctx));
    };
    let NoticeQuery { notice, after } = query.into_inner();
    category_page(&ctx, cat, after, notice_key(notice.as_deref()), fresh()).await
}

pub async fn edit_form(ctx: PortalContext, path: Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    if ctx.account_id_as(Role::Citizen).is_none() {
        return Ok(refuse(&ctx));
    }
    let (name, id) = path.into_inner();
    let Some(cat) = category(&name) else {
        return Ok(not_found(&ctx));
    };
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let record_id = id.clone();
    let record = ctx
        .state
        .db(move |conn, keys| records::get(conn, keys, &citizen, &record_id))
        .await;
    match record {
        Ok(r) if r.category == cat.name => {
            category_page(
                &ctx,
                cat,
                None,
                None,
                PageInput {
                    values: r.data,
                    editing: Some(id),
                    ..fresh()
                },
            )
            .await
        }
        _ => Ok(error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        )),
    }
}

/// The outcome of a save, turned into a page: a redirect, inline errors, or a conflict message.
async fn after_save(
    ctx: &PortalContext,
    cat: &'static Category,
    form: HashMap<String, String>,
    editing: Option<String>,
    result: Result<Record, VaultError>,
) -> Result<HttpResponse, ApiError> {
    let values = form_to_data(cat, &form);
    let conflict = |key: &str| PageInput {
        values: values.clone(),
        editing: editing.clone(),
        status: StatusCode::CONFLICT,
        form_error: Some(t_owned(&ctx.t(), key)),
        errors: Vec::new(),
    };
    let input = match result {
        Ok(_) => return Ok(ctx.redirect(&format!("/data/{}?notice=saved", cat.name)).finish()),
        Err(VaultError::Invalid(errors)) => PageInput {
            values,
            errors,
            editing,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            form_error: None,
        },
        Err(VaultError::SingleRecordExists(_)) => conflict("verr.single_record_exists"),
        Err(VaultError::DuplicateTransaction) => conflict("verr.duplicate_transaction"),
        Err(VaultError::NotFound) => return Ok(not_found(ctx)),
        Err(other) => return Err(other.into()),
    };
    category_page(ctx, cat, None, None, input).await
}

/// Runs a vault write on the blocking pool, keeping the domain error for the page to explain.
async fn vault_write<F>(ctx: &PortalContext, work: F) -> Result<Result<Record, VaultError>, ApiError>
where
    F: FnOnce(&mut infobank_db::DbConnection, &infobank_crypto::KeyRing) -> Result<Record, VaultError> + Send + 'static,
{
    ctx.state
        .db(move |conn, keys| Ok::<_, ApiError>(work(conn, keys)))
        .await
}

pub async fn create(
    ctx: PortalContext,
    name: Path<String>,
    form: Form<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    if !ctx.csrf_matches(form.get("csrf_token").map_or("", String::as_str)) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(cat) = category(&name) else {
        return Ok(not_found(&ctx));
    };
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let data = form_to_data(cat, &form);
    let now = crate::clock::now();
    let result = vault_write(&ctx, move |conn, keys| {
        records::create(conn, keys, &citizen, cat.name, &data, now)
    })
    .await?;
    after_save(&ctx, cat, form, None, result).await
}

pub async fn update(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    if !ctx.csrf_matches(form.get("csrf_token").map_or("", String::as_str)) {
        return Ok(csrf_refused(&ctx));
    }
    let (name, id) = path.into_inner();
    let Some(cat) = category(&name) else {
        return Ok(not_found(&ctx));
    };
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let data = form_to_data(cat, &form);
    let now = crate::clock::now();
    let record_id = id.clone();
    let result = vault_write(&ctx, move |conn, keys| {
        records::update(conn, keys, &citizen, &record_id, &data, now)
    })
    .await?;
    after_save(&ctx, cat, form, Some(id), result).await
}

pub async fn delete(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<CsrfOnly>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let (name, id) = path.into_inner();
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    match ctx
        .state
        .db(move |conn, _| records::delete(conn, &citizen, &id, now))
        .await
    {
        Ok(()) => Ok(ctx.redirect(&format!("/data/{name}?notice=deleted")).finish()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Ok(error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        )),
        Err(e) => Err(e),
    }
}

/// The upload result lives at the POST's URL; a GET there (the language switch, a reload after
/// the fact) goes back to the overview rather than answering 405.
pub async fn upload_page(ctx: PortalContext) -> HttpResponse {
    ctx.redirect("/data").finish()
}

pub async fn export(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    let document = ctx
        .state
        .db(move |conn, keys| infobank_consent::account::export(conn, keys, &citizen, now))
        .await?;
    let body = serde_json::to_string_pretty(&document).map_err(ApiError::internal)?;
    Ok(ctx
        .respond(StatusCode::OK)
        .content_type("application/json")
        .insert_header(("Content-Disposition", "attachment; filename=\"infobank-export.json\""))
        .body(body))
}

struct RejectedView {
    row: usize,
    message: String,
}

#[derive(Template)]
#[template(path = "mydata_import.html")]
struct ImportPage<'a> {
    l: Layout<'a>,
    imported: usize,
    rejected: Vec<RejectedView>,
    bad_file: bool,
}

/// The CSRF token field's size at most (a token is 43 characters); an upload's other fields are
/// the file and nothing else.
const MAX_CSRF_FIELD_BYTES: usize = 256;

/// The upload form posts `multipart/form-data` with `csrf_token` and `file`. The session is
/// checked before the body is read, and the whole body is bounded, not only each field: a
/// visitor cannot make the server buffer an upload it would refuse anyway.
pub async fn upload(ctx: PortalContext, mut multipart: Multipart) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let unreadable = || ApiError::bad_request("malformed_body", "unreadable upload");
    let mut csrf = String::new();
    let mut file: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = match name.as_str() {
            "csrf_token" => MAX_CSRF_FIELD_BYTES,
            "file" => MAX_IMPORT_BYTES,
            _ => {
                return Err(ApiError::bad_request(
                    "malformed_body",
                    "an upload has a file and a csrf_token only",
                ));
            }
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if bytes.len() + chunk.len() > limit || total > MAX_IMPORT_BYTES + MAX_CSRF_FIELD_BYTES {
                return Err(ApiError::payload_too_large("an upload is at most 10 MiB"));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            _ => file = bytes,
        }
    }
    if !ctx.csrf_matches(&csrf) {
        return Ok(csrf_refused(&ctx));
    }
    let now = crate::clock::now();
    let outcome = ctx
        .state
        .db(move |conn, keys| {
            Ok::<_, ApiError>(import::import(
                conn,
                keys,
                &citizen,
                "payment_history",
                ImportBody::Csv(&file),
                now,
            ))
        })
        .await?;
    let t = ctx.t();
    let (status, page) = match outcome {
        Ok(o) => (
            StatusCode::OK,
            ImportPage {
                l: Layout::of(&ctx),
                imported: o.imported,
                rejected: o
                    .rejected
                    .iter()
                    .map(|r: &RejectedRow| RejectedView {
                        row: r.row,
                        message: t_owned(&t, &format!("verr.{}", r.code)),
                    })
                    .collect(),
                bad_file: false,
            },
        ),
        Err(VaultError::MalformedImport(_)) => (
            StatusCode::BAD_REQUEST,
            ImportPage {
                l: Layout::of(&ctx),
                imported: 0,
                rejected: Vec::new(),
                bad_file: true,
            },
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(render(&ctx, status, &page))
}

#[derive(Template)]
#[template(path = "account_delete.html")]
struct DeletePage<'a> {
    l: Layout<'a>,
    mismatch: bool,
}

pub async fn delete_account_form(ctx: PortalContext) -> HttpResponse {
    if ctx.account_id_as(Role::Citizen).is_none() {
        return refuse(&ctx);
    }
    render(
        &ctx,
        StatusCode::OK,
        &DeletePage {
            l: Layout::of(&ctx),
            mismatch: false,
        },
    )
}

#[derive(Deserialize)]
pub struct DeleteAccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete_account(ctx: PortalContext, form: Form<DeleteAccountForm>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    if form.confirm.trim() != "DELETE" {
        return Ok(render(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            &DeletePage {
                l: Layout::of(&ctx),
                mismatch: true,
            },
        ));
    }
    let now = crate::clock::now();
    let token = ctx.session_token.clone();
    let tokens = ctx.state.tokens.clone();
    ctx.state
        .db(move |conn, _| {
            if let Some(token) = token {
                end_session(conn, &token)?;
            }
            infobank_consent::account::delete_account(conn, &tokens, &citizen, now).map_err(ApiError::from)
        })
        .await?;
    let mut gone = cookie(SESSION_COOKIE, String::new(), CookieDuration::ZERO, ctx.secure());
    gone.make_removal();
    Ok(ctx.redirect("/signin?notice=account_deleted").cookie(gone).finish())
}
