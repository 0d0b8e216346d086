//! The citizen's inbox: what the bank told her on its own (`infobank_consent::notices`), newest
//! first, each linking to the consent it is about; one button marks them all read.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Form;
use askama::Template;
use infobank_accounts::Role;
use infobank_consent::notices::{self, Notice};

use super::context::PortalContext;
use super::forms::t_owned;
use super::i18n::Messages;
use super::pages::{CsrfOnly, Layout, csrf_refused, refuse, render};
use crate::error::ApiError;

pub struct NoticeView {
    pub kind: &'static str,
    pub text: String,
    pub when: String,
    pub read: bool,
}

/// The notice in the page's language: `inbox.<kind>` with the company, offer and end date put in.
pub fn notice_view(t: &Messages<'_>, n: &Notice) -> NoticeView {
    NoticeView {
        kind: n.kind.as_str(),
        text: t_owned(t, &format!("inbox.{}", n.kind.as_str()))
            .replace("{company}", &n.company_name)
            .replace("{offer}", &n.offer_title)
            .replace("{date}", &n.expires_at.format("%Y-%m-%d").to_string()),
        when: n.created_at.format("%Y-%m-%d").to_string(),
        read: n.read,
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage<'a> {
    l: Layout<'a>,
    notices: Vec<NoticeView>,
}

pub async fn index(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let list = ctx
        .state
        .db(move |conn, _| notices::for_citizen(conn, &citizen, 200))
        .await?;
    let t = ctx.t();
    let notices = list.iter().map(|n| notice_view(&t, n)).collect();
    Ok(render(
        &ctx,
        StatusCode::OK,
        &InboxPage {
            l: Layout::of(&ctx),
            notices,
        },
    ))
}

pub async fn mark_read(ctx: PortalContext, form: Form<CsrfOnly>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let now = crate::clock::now();
    ctx.state
        .db(move |conn, _| notices::mark_read(conn, &citizen, now))
        .await?;
    Ok(ctx.redirect("/inbox").finish())
}
