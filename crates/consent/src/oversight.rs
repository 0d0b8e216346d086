//! What the regulator's dashboard and a company's own dashboard count: consents and disclosures
//! as the audit log holds them (integrated leaves, by action, month and company), disclosures
//! per purpose, and refused disclosure attempts from their counters. Counts only: no query here
//! reads a person's data, a pseudonym or a leaf's objects. Months are calendar months in UTC (an
//! event at 08:00 JST on the 1st counts in the month before).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use infobank_audit::Action;
use infobank_db::diesel::dsl::count_star;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{audit_leaves, companies, consents, disclosure_refusals, disclosures, offers};
use infobank_db::{DbConnection, read_snapshot};
use serde::Serialize;

use crate::ConsentError;

/// The actions a dashboard counts, in the order it shows them.
pub const COUNTED: [Action; 7] = [
    Action::ConsentGranted,
    Action::ConsentPaused,
    Action::ConsentResumed,
    Action::ConsentRevoked,
    Action::ConsentExpired,
    Action::DataDisclosed,
    Action::StatisticsRun,
];

/// Counts per action name (`consent.granted` …), every counted action present.
pub type Counts = BTreeMap<String, i64>;

#[derive(Debug, Clone, Serialize)]
pub struct MonthCounts {
    /// `YYYY-MM`.
    pub month: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompanyReport {
    pub company_id: String,
    pub legal_name: String,
    pub status: String,
    pub counts: Counts,
    pub refusals: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The log's size the counts were read at (integrated leaves only).
    pub tree_size: i64,
    pub totals: Counts,
    /// The last months, oldest first, the current month last.
    pub months: Vec<MonthCounts>,
    pub companies: Vec<CompanyReport>,
    /// Disclosures per purpose code, from the disclosures and their offers.
    pub disclosures_by_purpose: BTreeMap<String, i64>,
    /// Refused disclosure attempts per reason (problem code), all months.
    pub refusals_by_reason: BTreeMap<String, i64>,
    /// Refusals because a consent's daily fetch quota was used up.
    pub quota_hits: i64,
}

fn empty_counts() -> Counts {
    COUNTED.iter().map(|a| (a.as_str().to_owned(), 0)).collect()
}

fn action_names() -> Vec<&'static str> {
    COUNTED.iter().map(|a| a.as_str()).collect()
}

/// The first day of the `months` months ending with the month of `now`, oldest first, and the
/// first day of the month after.
fn month_starts(now: DateTime<Utc>, months: u32) -> Vec<NaiveDate> {
    let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let (mut y, mut m) = (now.year(), now.month());
    let mut starts = Vec::new();
    for _ in 0..months {
        starts.extend(first(y, m));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    starts.reverse();
    let next = if now.month() == 12 {
        first(now.year() + 1, 1)
    } else {
        first(now.year(), now.month() + 1)
    };
    starts.extend(next);
    starts
}

/// Counted actions per month for the `months` months up to `now`, of one company or of all.
pub fn monthly(
    conn: &mut DbConnection,
    company_id: Option<&str>,
    now: DateTime<Utc>,
    months: u32,
) -> Result<Vec<MonthCounts>, ConsentError> {
    monthly_up_to(conn, company_id, now, months, i64::MAX)
}

/// [`monthly`] over the leaves before index `size`.
fn monthly_up_to(
    conn: &mut DbConnection,
    company_id: Option<&str>,
    now: DateTime<Utc>,
    months: u32,
    size: i64,
) -> Result<Vec<MonthCounts>, ConsentError> {
    let starts = month_starts(now, months);
    let mut out = Vec::with_capacity(starts.len());
    for window in starts.windows(2) {
        let (from, to) = (window[0], window[1]);
        let mut query = audit_leaves::table
            .filter(audit_leaves::idx.lt(size))
            .filter(audit_leaves::action.eq_any(action_names()))
            .filter(audit_leaves::recorded_at.ge(from.and_time(chrono::NaiveTime::MIN)))
            .filter(audit_leaves::recorded_at.lt(to.and_time(chrono::NaiveTime::MIN)))
            .group_by(audit_leaves::action)
            .select((audit_leaves::action, count_star()))
            .into_boxed();
        if let Some(company) = company_id {
            query = query.filter(audit_leaves::company_id.eq(company.to_owned()));
        }
        let mut counts = empty_counts();
        for (action, n) in query.load::<(String, i64)>(conn)? {
            counts.insert(action, n);
        }
        out.push(MonthCounts {
            month: from.format("%Y-%m").to_string(),
            counts,
        });
    }
    Ok(out)
}

/// The regulator's report: everything the log holds, by month (the last `months`), company and
/// purpose, and the refusal counters, read in one snapshot so that the counts and `tree_size`
/// agree. With `up_to`, only the first `up_to` leaves count (the evidence bundle's signed head).
pub fn report(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    months: u32,
    up_to: Option<u64>,
) -> Result<Report, ConsentError> {
    read_snapshot(conn, |conn| report_in_snapshot(conn, now, months, up_to))
}

fn report_in_snapshot(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    months: u32,
    up_to: Option<u64>,
) -> Result<Report, ConsentError> {
    let integrated: i64 = audit_leaves::table.count().get_result(conn)?;
    let tree_size = up_to.map_or(integrated, |n| integrated.min(i64::try_from(n).unwrap_or(i64::MAX)));
    let mut totals = empty_counts();
    let per_action: Vec<(String, i64)> = audit_leaves::table
        .filter(audit_leaves::idx.lt(tree_size))
        .filter(audit_leaves::action.eq_any(action_names()))
        .group_by(audit_leaves::action)
        .select((audit_leaves::action, count_star()))
        .load(conn)?;
    totals.extend(per_action);

    let per_company: Vec<(Option<String>, String, i64)> = audit_leaves::table
        .filter(audit_leaves::idx.lt(tree_size))
        .filter(audit_leaves::action.eq_any(action_names()))
        .filter(audit_leaves::company_id.is_not_null())
        .group_by((audit_leaves::company_id, audit_leaves::action))
        .select((audit_leaves::company_id, audit_leaves::action, count_star()))
        .load(conn)?;
    let refused: Vec<(String, String, i64)> = disclosure_refusals::table
        .select((
            disclosure_refusals::company_id,
            disclosure_refusals::reason,
            disclosure_refusals::refusals,
        ))
        .load(conn)?;
    let names: Vec<(String, String, String)> = companies::table
        .order(companies::legal_name)
        .select((companies::id, companies::legal_name, companies::status))
        .load(conn)?;
    let mut companies: Vec<CompanyReport> = names
        .into_iter()
        .map(|(company_id, legal_name, status)| CompanyReport {
            company_id,
            legal_name,
            status,
            counts: empty_counts(),
            refusals: 0,
        })
        .collect();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in companies.iter().enumerate() {
        by_id.insert(c.company_id.clone(), i);
    }
    for (company, action, n) in per_company {
        if let Some(&i) = company.as_ref().and_then(|c| by_id.get(c)) {
            companies[i].counts.insert(action, n);
        }
    }
    let mut refusals_by_reason: BTreeMap<String, i64> = BTreeMap::new();
    for (company, reason, n) in refused {
        *refusals_by_reason.entry(reason).or_default() += n;
        if let Some(&i) = by_id.get(&company) {
            companies[i].refusals += n;
        }
    }
    let quota_hits = refusals_by_reason
        .get(crate::NotLive::QuotaExceeded.code())
        .copied()
        .unwrap_or(0);

    let by_purpose: Vec<(String, i64)> = disclosures::table
        .inner_join(consents::table.inner_join(offers::table))
        .group_by(offers::purpose)
        .select((offers::purpose, count_star()))
        .load(conn)?;

    Ok(Report {
        tree_size,
        totals,
        months: monthly_up_to(conn, None, now, months, tree_size)?,
        companies,
        disclosures_by_purpose: by_purpose.into_iter().collect(),
        refusals_by_reason,
        quota_hits,
    })
}

#[cfg(test)]
mod tests {
    use super::month_starts;
    use chrono::{TimeZone as _, Utc};

    #[test]
    fn months_end_with_the_current_one_across_a_year_boundary() {
        let now = Utc.with_ymd_and_hms(2027, 2, 14, 9, 0, 0).unwrap();
        let starts: Vec<String> = month_starts(now, 4).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            starts,
            ["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01"]
        );
        let december = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        let starts: Vec<String> = month_starts(december, 1).iter().map(|d| d.to_string()).collect();
        assert_eq!(starts, ["2026-12-01", "2027-01-01"]);
    }
}
