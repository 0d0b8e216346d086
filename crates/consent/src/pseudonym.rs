//! How a company sees a citizen: a pseudonym stable for that company and different for every
//! other, so two companies cannot join what they hold on a shared id. It is an HMAC-SHA256 of the
//! citizen's id under a per-company key, itself derived from the bank's pseudonym secret.

use infobank_crypto::KeyRing;

pub fn subject(keys: &KeyRing, company_id: &str, citizen_id: &str) -> String {
    let per_company = keys.blind_index(&format!("pseudonym/company/{company_id}"));
    format!("psn_{}", &per_company.index(citizen_id)[..40])
}
