//! Partner companies: the application, the operator's vetting, and client credentials.
//!
//! Lifecycle: `applied -> approved | rejected`, `approved -> suspended -> approved | revoked`
//! (and `approved -> revoked`). Every change has a reason (approval's is optional), is recorded
//! in `company_decisions` and in the audit log. Suspension takes effect on the very next
//! disclosure: nothing caches a company's status.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_crypto::hashing::{constant_time_eq, hex, sha256};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::result::{DatabaseErrorKind, Error as DieselError};
use infobank_db::schema::{companies, company_decisions};
use infobank_db::{DbConnection, write_transaction};
use infobank_db::{LockMode, Lockable, lock_rows};
use serde::Serialize;

use crate::{ConsentError, check_text, corporate_number};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyStatus {
    Applied,
    Approved,
    Rejected,
    Suspended,
    Revoked,
}

impl CompanyStatus {
    pub const ALL: [CompanyStatus; 5] = [
        Self::Applied,
        Self::Approved,
        Self::Rejected,
        Self::Suspended,
        Self::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the operator may move a company from `self` to `to`.
    pub fn may_become(self, to: Self) -> bool {
        use CompanyStatus::*;
        matches!(
            (self, to),
            (Applied, Approved | Rejected) | (Approved, Suspended | Revoked) | (Suspended, Approved | Revoked)
        )
    }

    /// Whether a company in this status may replace its own client secret: an applicant or an
    /// approved company. Credentials that leaked from a suspended one must not let their holder
    /// lock the company out before it is reinstated (the operator resets them instead).
    pub fn may_rotate_own_secret(self) -> bool {
        matches!(self, CompanyStatus::Applied | CompanyStatus::Approved)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certification {
    /// `ISMS` (ISO/IEC 27001) or `PMARK` (Privacy Mark).
    pub kind: String,
    pub id: String,
    pub expires_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Company {
    pub id: String,
    pub legal_name: String,
    pub corporate_number: String,
    pub contact_email: String,
    pub privacy_policy_url: String,
    pub security_certification: Certification,
    pub status: CompanyStatus,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the client secret was last replaced; tokens and portal sessions from before are void.
    #[serde(skip)]
    pub secret_rotated_at: Option<DateTime<Utc>>,
}

impl Company {
    /// The first Unix second a token or portal session of this company may be issued at
    /// ([`session_is_current`]).
    pub fn sessions_valid_from(&self) -> Option<i64> {
        self.secret_rotated_at.map(first_second_after)
    }
}

/// The first whole second at or after `at`: tokens carry whole seconds, and one issued in the
/// same second as a secret replacement, before or after it, cannot be told apart by its `iat`,
/// so none of that second counts (tokens issued right after it are dated the next second).
pub fn first_second_after(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// What a company sends to apply.
#[derive(Debug, Clone)]
pub struct Application {
    pub legal_name: String,
    pub corporate_number: String,
    pub contact_email: String,
    pub privacy_policy_url: String,
    pub certification_kind: String,
    pub certification_id: String,
    pub certification_expires_on: NaiveDate,
}

/// Client credentials. The secret exists only here, once: it is stored as its SHA-256.
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = companies)]
struct CompanyRow {
    id: String,
    legal_name: String,
    corporate_number: String,
    contact_email: String,
    privacy_policy_url: String,
    certification_kind: String,
    certification_id: String,
    certification_expires_on: String,
    status: String,
    client_id: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    secret_rotated_at: Option<NaiveDateTime>,
}

impl TryFrom<CompanyRow> for Company {
    type Error = ConsentError;

    fn try_from(row: CompanyRow) -> Result<Self, ConsentError> {
        Ok(Self {
            status: CompanyStatus::parse(&row.status)
                .ok_or_else(|| ConsentError::Corrupt(format!("company status {}", row.status)))?,
            security_certification: Certification {
                kind: row.certification_kind,
                id: row.certification_id,
                expires_on: row
                    .certification_expires_on
                    .parse()
                    .map_err(|_| ConsentError::Corrupt("certification date".into()))?,
            },
            id: row.id,
            legal_name: row.legal_name,
            corporate_number: row.corporate_number,
            contact_email: row.contact_email,
            privacy_policy_url: row.privacy_policy_url,
            client_id: row.client_id,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            secret_rotated_at: row.secret_rotated_at.map(|t| t.and_utc()),
        })
    }
}

fn new_secret() -> Result<(String, String), ConsentError> {
    let secret = infobank_crypto::random::token_string().map_err(|e| ConsentError::Signing(e.to_string()))?;
    let hash = hex(&sha256(secret.as_bytes()));
    Ok((format!("ibs_{secret}"), hash))
}

fn secret_hash(presented: &str) -> Option<String> {
    presented.strip_prefix("ibs_").map(|s| hex(&sha256(s.as_bytes())))
}

fn https_url(raw: &str) -> bool {
    !raw.chars().any(char::is_control)
        && raw.strip_prefix("https://").is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && host.contains('.') && !raw.chars().any(char::is_whitespace) && raw.len() <= 500
        })
}

fn validate(app: &Application, today: NaiveDate) -> Result<Application, ConsentError> {
    let legal_name = check_text("legal_name", &app.legal_name, 200)?;
    if !corporate_number::is_valid(app.corporate_number.trim()) {
        return Err(ConsentError::invalid(
            "corporate_number",
            "must be 13 digits with a valid check digit (National Tax Agency rule)",
        ));
    }
    let contact_email = infobank_accounts::normalize_email(&app.contact_email)
        .ok_or_else(|| ConsentError::invalid("contact_email", "not a valid email address"))?;
    if !https_url(app.privacy_policy_url.trim()) {
        return Err(ConsentError::invalid("privacy_policy_url", "must be an https:// URL"));
    }
    if !matches!(app.certification_kind.as_str(), "ISMS" | "PMARK") {
        return Err(ConsentError::invalid(
            "security_certification.kind",
            "must be ISMS or PMARK",
        ));
    }
    let certification_id = check_text("security_certification.id", &app.certification_id, 64)?;
    if app.certification_expires_on <= today {
        return Err(ConsentError::invalid(
            "security_certification.expires_on",
            "the certification has expired",
        ));
    }
    Ok(Application {
        legal_name,
        corporate_number: app.corporate_number.trim().to_owned(),
        contact_email,
        privacy_policy_url: app.privacy_policy_url.trim().to_owned(),
        certification_kind: app.certification_kind.clone(),
        certification_id,
        certification_expires_on: app.certification_expires_on,
    })
}

/// A company applies; it gets its client credentials at once, but the token endpoint refuses
/// them until the operator approves the company.
pub fn apply(
    conn: &mut DbConnection,
    app: &Application,
    now: DateTime<Utc>,
) -> Result<(Company, Credentials), ConsentError> {
    let now = now.trunc_subsecs(6);
    let app = validate(app, now.date_naive())?;
    let id = uuid::Uuid::now_v7().to_string();
    let client_id = format!("ibc_{}", uuid::Uuid::now_v7().simple());
    let (client_secret, hash) = new_secret()?;
    write_transaction(conn, |conn| {
        let inserted = diesel::insert_into(companies::table)
            .values((
                companies::id.eq(&id),
                companies::legal_name.eq(&app.legal_name),
                companies::corporate_number.eq(&app.corporate_number),
                companies::contact_email.eq(&app.contact_email),
                companies::privacy_policy_url.eq(&app.privacy_policy_url),
                companies::certification_kind.eq(&app.certification_kind),
                companies::certification_id.eq(&app.certification_id),
                companies::certification_expires_on.eq(app.certification_expires_on.to_string()),
                companies::status.eq(CompanyStatus::Applied.as_str()),
                companies::client_id.eq(&client_id),
                companies::secret_hash.eq(&hash),
                companies::created_at.eq(now.naive_utc()),
                companies::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn);
        match inserted {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(ConsentError::DuplicateCorporateNumber);
            }
            other => other?,
        };
        let event = AuditEvent::new(Action::CompanyApplied, Actor::new("company", &id))
            .company(&id)
            .object("company", &id);
        append(conn, &event, now)?;
        Ok(())
    })?;
    let company = get(conn, &id)?;
    Ok((
        company,
        Credentials {
            client_id,
            client_secret,
        },
    ))
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Company, ConsentError> {
    companies::table
        .find(id)
        .select(CompanyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ConsentError::NotFound)?
        .try_into()
}

/// Companies, oldest first, optionally of one status, after the id `after`.
pub fn list(
    conn: &mut DbConnection,
    status: Option<CompanyStatus>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Company>, ConsentError> {
    let mut query = companies::table
        .select(CompanyRow::as_select())
        .order(companies::id.asc())
        .limit(limit.clamp(1, 200))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(companies::status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(companies::id.gt(after.to_owned()));
    }
    query.load(conn)?.into_iter().map(Company::try_from).collect()
}

/// How many companies are in each status (the operator's queue counts).
pub fn count_by_status(conn: &mut DbConnection) -> Result<std::collections::BTreeMap<String, i64>, ConsentError> {
    let rows: Vec<(String, i64)> = companies::table
        .group_by(companies::status)
        .select((companies::status, infobank_db::diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// One recorded decision about a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

pub fn decisions(conn: &mut DbConnection, company_id: &str) -> Result<Vec<Decision>, ConsentError> {
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = company_decisions::table
        .filter(company_decisions::company_id.eq(company_id))
        .order(company_decisions::decided_at.asc())
        .select((
            company_decisions::from_status,
            company_decisions::to_status,
            company_decisions::reason,
            company_decisions::decided_by,
            company_decisions::decided_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(from, to, reason, decided_by, at)| Decision {
            from,
            to,
            reason,
            decided_by,
            decided_at: at.and_utc(),
        })
        .collect())
}

/// The operator moves a company to `to`, with a reason (required except for approval).
pub fn decide(
    conn: &mut DbConnection,
    company_id: &str,
    to: CompanyStatus,
    reason: Option<&str>,
    operator_id: &str,
    now: DateTime<Utc>,
) -> Result<Company, ConsentError> {
    let now = now.trunc_subsecs(6);
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_none() && to != CompanyStatus::Approved {
        return Err(ConsentError::ReasonRequired);
    }
    if let Some(r) = reason {
        check_text("reason", r, 1000)?;
    }
    write_transaction(conn, |conn| {
        // Disclosures hold the company's row in share mode: a suspension waits for those under
        // way, and every later one sees it.
        lock_rows(conn, Lockable::Companies, &[company_id], LockMode::Update)?;
        let current = get(conn, company_id)?;
        if !current.status.may_become(to) {
            return Err(ConsentError::InvalidTransition {
                from: current.status.as_str().into(),
                to: to.as_str().into(),
            });
        }
        diesel::update(companies::table.find(company_id))
            .set((
                companies::status.eq(to.as_str()),
                companies::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        diesel::insert_into(company_decisions::table)
            .values((
                company_decisions::id.eq(uuid::Uuid::now_v7().to_string()),
                company_decisions::company_id.eq(company_id),
                company_decisions::from_status.eq(current.status.as_str()),
                company_decisions::to_status.eq(to.as_str()),
                company_decisions::reason.eq(reason.unwrap_or_default()),
                company_decisions::decided_by.eq(operator_id),
                company_decisions::decided_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let event = AuditEvent::new(Action::CompanyStatusChanged, Actor::new("operator", operator_id))
            .company(company_id)
            .object("company", company_id)
            .object("from", current.status.as_str())
            .object("to", to.as_str());
        append(conn, &event, now)?;
        get(conn, company_id)
    })
}

/// The company behind client credentials, whatever its status (the company portal shows an
/// applicant its status). A wrong secret and an unknown client answer the same.
pub fn verify_credentials(
    conn: &mut DbConnection,
    client_id: &str,
    client_secret: &str,
) -> Result<Company, ConsentError> {
    let row: Option<(String, String)> = companies::table
        .filter(companies::client_id.eq(client_id))
        .select((companies::id, companies::secret_hash))
        .first(conn)
        .optional()?;
    let presented = secret_hash(client_secret).unwrap_or_default();
    let Some((id, _)) = row.filter(|(_, stored)| constant_time_eq(stored.as_bytes(), presented.as_bytes())) else {
        return Err(ConsentError::InvalidCredentials);
    };
    get(conn, &id)
}

/// The company behind client credentials, if they are right and the company is approved (the
/// token endpoint).
pub fn authenticate_client(
    conn: &mut DbConnection,
    client_id: &str,
    client_secret: &str,
) -> Result<Company, ConsentError> {
    let company = verify_credentials(conn, client_id, client_secret)?;
    if company.status != CompanyStatus::Approved {
        return Err(ConsentError::CompanyNotApproved);
    }
    Ok(company)
}

/// The company replaces its own client secret; the old one stops working at once, and so does
/// every access token and portal session issued before now. Only while
/// [`CompanyStatus::may_rotate_own_secret`] (the operator resets them otherwise, [`reset_secret`]).
pub fn rotate_secret(
    conn: &mut DbConnection,
    company_id: &str,
    now: DateTime<Utc>,
) -> Result<Credentials, ConsentError> {
    replace_secret(conn, company_id, Actor::new("company", company_id), now, |company| {
        if company.status.may_rotate_own_secret() {
            Ok(())
        } else {
            Err(ConsentError::CompanyNotApproved)
        }
    })
}

/// The operator replaces a company's client secret, whatever its status (after a leak, to hand
/// new credentials over out of band): the old secret, its access tokens and every portal session
/// end at once.
pub fn reset_secret(
    conn: &mut DbConnection,
    company_id: &str,
    operator: &str,
    now: DateTime<Utc>,
) -> Result<Credentials, ConsentError> {
    replace_secret(conn, company_id, Actor::new("operator", operator), now, |_| Ok(()))
}

fn replace_secret(
    conn: &mut DbConnection,
    company_id: &str,
    actor: Actor,
    now: DateTime<Utc>,
    allowed: impl FnOnce(&Company) -> Result<(), ConsentError>,
) -> Result<Credentials, ConsentError> {
    let (client_secret, hash) = new_secret()?;
    let now = now.trunc_subsecs(6);
    let client_id = write_transaction(conn, |conn| {
        lock_rows(conn, Lockable::Companies, &[company_id], LockMode::Update)?;
        let company = get(conn, company_id)?;
        allowed(&company)?;
        diesel::update(companies::table.find(company_id))
            .set((
                companies::secret_hash.eq(&hash),
                companies::updated_at.eq(now.naive_utc()),
                companies::secret_rotated_at.eq(Some(now.naive_utc())),
            ))
            .execute(conn)?;
        let event = AuditEvent::new(Action::CompanySecretRotated, actor)
            .company(company_id)
            .object("company", company_id);
        append(conn, &event, now)?;
        Ok::<_, ConsentError>(company.client_id)
    })?;
    Ok(Credentials {
        client_id,
        client_secret,
    })
}

/// Whether a token or portal session of the company issued at `issued_at` (its `iat`, whole
/// seconds) is still good: the company exists and its secret has not been replaced since.
pub fn session_is_current(conn: &mut DbConnection, company_id: &str, issued_at: i64) -> Result<bool, ConsentError> {
    let rotated: Option<Option<NaiveDateTime>> = companies::table
        .find(company_id)
        .select(companies::secret_rotated_at)
        .first(conn)
        .optional()?;
    Ok(match rotated {
        None => false,
        Some(None) => true,
        Some(Some(at)) => first_second_after(at.and_utc()) <= issued_at,
    })
}

#[cfg(test)]
mod tests {
    use super::CompanyStatus::{self, *};

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        let allowed: Vec<(CompanyStatus, CompanyStatus)> = CompanyStatus::ALL
            .into_iter()
            .flat_map(|a| CompanyStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.may_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Applied, Approved),
                (Applied, Rejected),
                (Approved, Suspended),
                (Approved, Revoked),
                (Suspended, Approved),
                (Suspended, Revoked),
            ]
        );
    }
}
