// Helpers for the consent pages: the company portal (/company/apply, /company/signin, the
// /company dashboard with its offer form and offers table), the operator's vetting
// (/operator/companies: `section.company[data-company][data-status]` with one `form.decision` per
// possible action; /operator/offers: `article.offer[data-offer]` and approve/reject forms), the
// citizen's /offers, /offers/<id> (terms and `#preview`), /consents, receipts and /disclosures,
// and the company's side of the API (client-credentials token, held consents, the disclosure
// endpoint) through Node's fetch.

import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { PASSWORD, clickAndWait, describePage, pathOf, signIn, uniqueEmail, visit } from './portal.js';
import { createStaff } from './staff.js';
import { fundCompany } from './coins.js';

export const COMPANY_PATH = '/company';
export const COMPANY_APPLY_PATH = '/company/apply';
export const COMPANY_SIGNIN_PATH = '/company/signin';
export const OPERATOR_COMPANIES_PATH = '/operator/companies';
export const OPERATOR_OFFERS_PATH = '/operator/offers';
export const OFFERS_PATH = '/offers';
export const CONSENTS_PATH = '/consents';
export const DISCLOSURES_PATH = '/disclosures';

const text = (s) => (s ?? '').trim().replace(/\s+/g, ' ');

/** Asserts where a click landed: the first answer's status and the final path (plus query). */
export async function assertLanded(page, res, firstStatus, where, what) {
  assert.equal(res.firstStatus, firstStatus, `${what} answered ${res.firstStatus}, expected ${firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), where, `${what} should land on ${where} ${await describePage(page)}`);
}

/** The check digit of a 12-digit corporate number base (National Tax Agency rule). */
export function checkDigit(base) {
  assert.match(base, /^\d{12}$/, `a corporate number base has 12 digits, not ${JSON.stringify(base)}`);
  let sum = 0;
  [...base].reverse().forEach((d, i) => {
    sum += Number(d) * (i % 2 === 0 ? 1 : 2);
  });
  return 9 - (sum % 9);
}

/** A valid 13-digit corporate number on a random base (unique per run, as the database needs). */
export function corporateNumber() {
  const base = Array.from({ length: 12 }, () => randomInt(0, 10)).join('');
  return `${checkDigit(base)}${base}`;
}

/** The same number with a wrong check digit. */
export function withWrongCheckDigit(number) {
  const wrong = (Number(number[0]) % 9) + 1; // 1..9, never the right one
  return `${wrong}${number.slice(1)}`;
}

/** A complete, valid application; `overrides` replaces fields. */
export function companyApplication(overrides = {}) {
  const tag = randomBytes(3).toString('hex');
  return {
    legalName: `E2E Data Partners ${tag} K.K.`,
    corporateNumber: corporateNumber(),
    contactEmail: uniqueEmail('privacy-officer', 'partner.example'),
    privacyPolicyUrl: `https://partner-${tag}.example/privacy`,
    certKind: 'ISMS',
    certId: `IS ${randomInt(100000, 999999)}`,
    certExpiresOn: '2099-03-31',
    ...overrides,
  };
}

/** Signed out: the header's #nav-company → /company/signin → its link to /company/apply. */
export async function openCompanyApply(page, base, snap) {
  await visit(page, base, '/', snap, 'start page');
  const nav = page.locator('header #nav-company');
  assert.equal(await nav.count(), 1, `signed out, the header should have one #nav-company link ${await describePage(page)}`);
  const signin = await clickAndWait(page, 'header #nav-company', snap, 'company sign-in page');
  await assertLanded(page, signin, 200, COMPANY_SIGNIN_PATH, 'the header link #nav-company');
  const apply = await clickAndWait(page, `main a[href="${COMPANY_APPLY_PATH}"]`, snap, 'company application form');
  await assertLanded(page, apply, 200, COMPANY_APPLY_PATH, `the link to ${COMPANY_APPLY_PATH}`);
}

/** Fills the application form and clicks #apply-submit; returns clickAndWait's result. */
export async function submitApplication(page, application, snap, step = 'application sent') {
  await page.fill('#legal_name', application.legalName);
  await page.fill('#corporate_number', application.corporateNumber);
  await page.fill('#contact_email', application.contactEmail);
  await page.fill('#privacy_policy_url', application.privacyPolicyUrl);
  await page.selectOption('#cert_kind', application.certKind);
  await page.fill('#cert_id', application.certId);
  await page.fill('#cert_expires_on', application.certExpiresOn);
  return clickAndWait(page, '#apply-submit', snap, step);
}

/** The credentials shown once after applying: { companyId, clientId, clientSecret }. */
export async function readCredentials(page) {
  const where = await describePage(page);
  assert.equal(await page.locator('#credentials').count(), 1, `no #credentials after applying ${where}`);
  const read = async (selector) => text(await page.locator(`#credentials ${selector}`).textContent());
  const credentials = { companyId: await read('#company-id'), clientId: await read('#client-id'), clientSecret: await read('#client-secret') };
  for (const [name, value] of Object.entries(credentials)) assert.match(value, /\S{8,}/, `${name} is shown: ${JSON.stringify(credentials)} ${where}`);
  return credentials;
}

/** Applies through the portal (signed out) and checks the 201 with the credentials. */
export async function applyAsCompany(page, base, snap, application = companyApplication()) {
  await openCompanyApply(page, base, snap);
  const res = await submitApplication(page, application, snap, 'company applied');
  await assertLanded(page, res, 201, COMPANY_APPLY_PATH, `applying as ${application.legalName}`);
  return { application, credentials: await readCredentials(page) };
}

/** Fills /company/signin (opened here) and clicks #company-signin; returns clickAndWait's result. */
export async function submitCompanySignIn(page, base, { clientId, clientSecret }, snap, step = 'company signed in') {
  const form = await visit(page, base, COMPANY_SIGNIN_PATH, snap, `${step} form`);
  assert.equal(form.status, 200, `GET ${COMPANY_SIGNIN_PATH} answered ${form.status} ${await describePage(page)}`);
  await page.fill('#client_id', clientId);
  await page.fill('#client_secret', clientSecret);
  return clickAndWait(page, '#company-signin', snap, step);
}

/** Signs the company in and checks the landing on its dashboard. */
export async function companySignedIn(page, base, credentials, snap, step = 'company dashboard') {
  const res = await submitCompanySignIn(page, base, credentials, snap, step);
  await assertLanded(page, res, 303, COMPANY_PATH, `signing in as company ${credentials.clientId}`);
  return res;
}

/** Opens the company dashboard (the company must be signed in). */
export async function openCompanyDashboard(page, base, snap, step = 'company dashboard') {
  const res = await visit(page, base, COMPANY_PATH, snap, step);
  assert.equal(res.firstStatus, 200, `GET ${COMPANY_PATH} answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), COMPANY_PATH, `the company is not signed in ${await describePage(page)}`);
  return res;
}

/** The dashboard's #company-status[data-status]. */
export async function companyStatus(page) {
  const status = page.locator('#company-status');
  assert.equal(await status.count(), 1, `no #company-status ${await describePage(page)}`);
  return status.getAttribute('data-status');
}

/** The offers table of the dashboard: [{ id, status, title, consents, live, disclosures }] (numbers). */
export async function readCompanyOffers(page) {
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll('#company-offers tr[data-offer]')].map((tr) => ({
      id: tr.getAttribute('data-offer'),
      status: tr.getAttribute('data-status'),
      title: tr.querySelector('td')?.textContent.trim() ?? null,
      consents: tr.querySelector('td.consents')?.textContent.trim() ?? null,
      live: tr.querySelector('td.live')?.textContent.trim() ?? null,
      disclosures: tr.querySelector('td.disclosures')?.textContent.trim() ?? null,
    })),
  );
  return rows.map((r) => ({ ...r, consents: Number(r.consents), live: Number(r.live), disclosures: Number(r.disclosures) }));
}

/** Offer terms for the dashboard's form; `overrides` replaces fields. */
export function offerTerms(overrides = {}) {
  return {
    title: `Local deals ${randomBytes(3).toString('hex')}`,
    description: 'Coupons for shops near where you live, matched to your hobbies.',
    purpose: 'personalised_offers',
    categories: ['residence', 'hobbies'],
    rangeDays: 30,
    access: 'periodic',
    fetchesPerDay: 10,
    retentionDays: 90,
    consentDays: 180,
    reward: 0,
    ...overrides,
  };
}

/**
 * Fills #offer-form and clicks #create-offer; returns clickAndWait's result. `terms.kind`
 * (`records` by default) picks what the offer asks: `categories`, `predicates` ([{ name, params }])
 * or `statistics` ({ dimensions, measures }).
 */
export async function submitOffer(page, terms, snap, step = 'offer sent') {
  await page.fill('#o-title', terms.title);
  await page.fill('#o-description', terms.description);
  await page.selectOption('#o-purpose', terms.purpose);
  const kind = terms.kind ?? 'records';
  await page.check(`#offer-kind input[name=kind][value="${kind}"]`);
  for (const { name, params } of terms.predicates ?? []) {
    const choice = page.locator(`#offer-form .predicate-choice[data-predicate="${name}"]`);
    assert.equal(await choice.count(), 1, `the offer form has no predicate ${name} ${await describePage(page)}`);
    await choice.locator('input[name=predicate]').check();
    for (const [param, value] of Object.entries(params)) {
      const input = choice.locator(`[name="p.${name}.${param}"]`);
      if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(String(value));
      else await input.fill(String(value));
    }
  }
  for (const name of terms.statistics?.dimensions ?? []) await page.check(`#offer-form input[name=dimensions][value="${name}"]`);
  for (const name of terms.statistics?.measures ?? []) await page.check(`#offer-form input[name=measures][value="${name}"]`);
  for (const name of kind === 'records' ? terms.categories : []) {
    const box = page.locator(`#offer-form input[name=categories][data-category="${name}"]`);
    assert.equal(await box.count(), 1, `the offer form has no checkbox for ${name} ${await describePage(page)}`);
    await box.check();
  }
  await page.fill('#o-range', String(terms.rangeDays));
  await page.selectOption('#o-access', terms.access);
  await page.fill('#o-fetches', String(terms.fetchesPerDay));
  await page.fill('#o-retention', String(terms.retentionDays));
  await page.fill('#o-duration', String(terms.consentDays));
  await page.fill('#o-reward', String(terms.reward));
  return clickAndWait(page, '#create-offer', snap, step);
}

/** Sends an offer for review from the dashboard; resolves to the new offer's id (found by its title). */
export async function createOffer(page, terms, snap, step = 'offer sent') {
  const res = await submitOffer(page, terms, snap, step);
  await assertLanded(page, res, 303, `${COMPANY_PATH}?notice=offer_created`, `sending the offer ${terms.title}`);
  const offers = await readCompanyOffers(page);
  const mine = offers.filter((o) => o.title === terms.title);
  assert.equal(mine.length, 1, `the new offer ${terms.title} should be listed once: ${JSON.stringify(offers)} ${await describePage(page)}`);
  assert.equal(mine[0].status, 'pending_review', `a new offer waits for review: ${JSON.stringify(mine[0])}`);
  return mine[0].id;
}

/** A new operator account (CLI): resolves to { email, password, id }. */
export async function newOperator(app, prefix = 'operator') {
  const email = uniqueEmail(prefix);
  const { id } = await createStaff(app, 'operator', email, PASSWORD);
  return { email, password: PASSWORD, id };
}

/** Clicks the header's #signout. */
export async function signOut(page, snap, step = 'signed out') {
  const res = await clickAndWait(page, 'header #signout', snap, step);
  assert.equal(pathOf(page), '/signin?notice=signed_out', `sign-out should land on the sign-in notice ${await describePage(page)}`);
  return res;
}

/** Follows a header link and checks where it led (200). */
export async function followNav(page, id, path, snap, step) {
  const nav = page.locator(`header #${id}`);
  assert.equal(await nav.count(), 1, `expected one header #${id} link ${await describePage(page)}`);
  assert.equal(await nav.getAttribute('href'), path, `#${id} points at ${path}`);
  const res = await clickAndWait(page, `header #${id}`, snap, step);
  await assertLanded(page, res, 200, path, `the header link #${id}`);
  return res;
}

/** The status of a company on /operator/companies (the page must show it). */
export async function operatorCompanyStatus(page, companyId) {
  const section = page.locator(`section.company[data-company="${companyId}"]`);
  assert.equal(await section.count(), 1, `no section.company[data-company="${companyId}"] ${await describePage(page)}`);
  return section.getAttribute('data-status');
}

/**
 * On /operator/companies: types `reason` into the company's form for `decision` and clicks its
 * button. Returns clickAndWait's result (303 → /operator/companies, or 422 with #decision-error).
 */
export async function decideCompany(page, companyId, decision, reason, snap, step = `company ${decision}`) {
  const scope = `section.company[data-company="${companyId}"]`;
  const button = `${scope} button[data-decision="${decision}"]`;
  assert.equal(await page.locator(button).count(), 1, `no ${button} ${await describePage(page)}`);
  await page.fill(`${scope} input[name=reason][data-reason-for="${decision}"]`, reason);
  return clickAndWait(page, button, snap, step);
}

/** On /operator/offers: the reason for `decision` and its button for one offer. */
export async function reviewOffer(page, offerId, decision, reason, snap, step = `offer ${decision}`) {
  const button = `button[data-decision="${decision}"][data-offer="${offerId}"]`;
  assert.equal(await page.locator(button).count(), 1, `no ${button} ${await describePage(page)}`);
  await page.fill(`input[data-reason-for="${decision}"][data-offer="${offerId}"]`, reason);
  return clickAndWait(page, button, snap, step);
}

/** Signs the operator in, approves the company on /operator/companies and signs out. */
export async function operatorApprovesCompany(page, base, operator, companyId, snap, reason = '') {
  await signIn(page, base, operator, snap, 'operator signed in');
  await followNav(page, 'nav-operator-companies', OPERATOR_COMPANIES_PATH, snap, 'operator companies');
  assert.equal(await operatorCompanyStatus(page, companyId), 'applied', 'the application waits for a decision');
  const res = await decideCompany(page, companyId, 'approve', reason, snap, 'company approved');
  await assertLanded(page, res, 303, OPERATOR_COMPANIES_PATH, 'approving the company');
  assert.equal(await operatorCompanyStatus(page, companyId), 'approved', `the company after approval ${await describePage(page)}`);
  await signOut(page, snap, 'operator signed out');
}

/** Signs the operator in, approves the offer on /operator/offers and signs out. */
export async function operatorApprovesOffer(page, base, operator, offerId, snap, reason = 'fits the purpose') {
  await signIn(page, base, operator, snap, 'operator signed in for review');
  await followNav(page, 'nav-operator-offers', OPERATOR_OFFERS_PATH, snap, 'offer review');
  assert.equal(await page.locator(`article.offer[data-offer="${offerId}"]`).count(), 1, `the offer ${offerId} waits for review ${await describePage(page)}`);
  const res = await reviewOffer(page, offerId, 'approve', reason, snap, 'offer approved');
  await assertLanded(page, res, 303, OPERATOR_OFFERS_PATH, 'approving the offer');
  assert.equal(await page.locator(`article.offer[data-offer="${offerId}"]`).count(), 0, `an approved offer leaves the queue ${await describePage(page)}`);
  await signOut(page, snap, 'operator signed out after review');
}

/**
 * Everything before a citizen sees an offer, all through the portal (signed out at the start and
 * at the end; the company stays signed in to its portal): a company applies and signs in, a new
 * operator approves it, the company is funded when the offer has a reward, sends the offer, and
 * the operator approves it. Resolves to { application, credentials, operator, terms, offerId }.
 */
export async function openOffer(app, page, snap, termsOverrides = {}, application = companyApplication()) {
  const terms = offerTerms(termsOverrides);
  const { credentials } = await applyAsCompany(page, app.base, snap, application);
  await companySignedIn(page, app.base, credentials, snap, 'company dashboard (applied)');
  assert.equal(await companyStatus(page), 'applied', `a new company is "applied" ${await describePage(page)}`);
  const operator = await newOperator(app);
  await operatorApprovesCompany(page, app.base, operator, credentials.companyId, snap);
  if (terms.reward > 0) await fundCompany(app, credentials.companyId, terms.reward * 10);
  await openCompanyDashboard(page, app.base, snap, 'company dashboard (approved)');
  assert.equal(await companyStatus(page), 'approved', `the company after approval ${await describePage(page)}`);
  const offerId = await createOffer(page, terms, snap);
  await operatorApprovesOffer(page, app.base, operator, offerId, snap);
  return { application, credentials, operator, terms, offerId };
}

/** One offer on /offers or /offers/<id> as the citizen reads it (runs in the page). */
function readOfferCards() {
  const t = (el) => (el ? el.textContent.trim().replace(/\s+/g, ' ') : null);
  return [...document.querySelectorAll('article.offer[data-offer]')].map((a) => ({
    id: a.getAttribute('data-offer'),
    title: t(a.querySelector('h2')),
    company: t(a.querySelector('.company-name')),
    purpose: t(a.querySelector('dd.purpose')),
    categories: [...a.querySelectorAll('.tag[data-category]')].map((s) => s.getAttribute('data-category')),
    onward: t(a.querySelector('dd.onward')),
    reward: a.querySelector('dd.reward')?.getAttribute('data-reward') ?? null,
    specialWarning: t(a.querySelector('.special-warning')),
    openHref: document.querySelector(`a[data-open-offer="${a.getAttribute('data-offer')}"]`)?.getAttribute('href') ?? null,
  }));
}

/** The offer `offerId` on the page: { id, title, company, purpose, categories, onward, reward (number), specialWarning, openHref }. */
export async function readOffer(page, offerId) {
  const cards = await page.evaluate(readOfferCards);
  const card = cards.find((c) => c.id === offerId);
  assert.ok(card, `no article.offer[data-offer="${offerId}"]: ${JSON.stringify(cards.map((c) => c.id))} ${await describePage(page)}`);
  return { ...card, reward: Number(card.reward) };
}

/** #preview on /offers/<id>: { category → [ { label: value } ] } ([] where the page says p.nothing). */
export async function readPreview(page) {
  const preview = await page.evaluate(() => {
    const t = (el) => el.textContent.trim().replace(/\s+/g, ' ');
    return [...document.querySelectorAll('#preview h3[data-preview-category]')].map((h3) => {
      const next = h3.nextElementSibling;
      const records = next?.matches('ul.preview-records')
        ? [...next.querySelectorAll('li.preview-record')].map((li) =>
            [...li.querySelectorAll('dt')].map((dt) => [t(dt), dt.nextElementSibling ? t(dt.nextElementSibling) : null]),
          )
        : null;
      return { name: h3.getAttribute('data-preview-category'), nothing: !!next?.matches('p.nothing'), records };
    });
  });
  const byName = {};
  for (const c of preview) {
    assert.ok(c.nothing || c.records, `h3[data-preview-category="${c.name}"] is followed by neither ul.preview-records nor p.nothing`);
    byName[c.name] = c.nothing ? [] : c.records.map((pairs) => Object.fromEntries(pairs));
  }
  return byName;
}

/** The rows of #consents: [{ id, status, company, statusLabel, uses (number), actions }]. */
export async function readConsents(page) {
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll('#consents tr[data-consent]')].map((tr) => ({
      id: tr.getAttribute('data-consent'),
      status: tr.getAttribute('data-status'),
      company: tr.querySelector('td')?.textContent.trim() ?? null,
      statusLabel: tr.querySelector('td.status')?.textContent.trim() ?? null,
      uses: tr.querySelector('td.uses')?.textContent.trim() ?? null,
      actions: [...tr.querySelectorAll('[data-action]')].map((el) => el.getAttribute('data-action')),
    })),
  );
  return rows.map((r) => ({ ...r, uses: Number(r.uses) }));
}

/** The one consent row of a citizen who has exactly one. */
export async function onlyConsent(page) {
  const rows = await readConsents(page);
  assert.equal(rows.length, 1, `expected one consent row: ${JSON.stringify(rows)} ${await describePage(page)}`);
  return rows[0];
}

/** Clicks a consent's pause/resume/revoke button on /consents and checks the notice redirect. */
export async function changeConsent(page, consentId, action, snap, step = `consent ${action}`) {
  const res = await clickAndWait(page, `#consents tr[data-consent="${consentId}"] button[data-action="${action}"]`, snap, step);
  const notice = { pause: 'paused', resume: 'resumed', revoke: 'revoked' }[action];
  await assertLanded(page, res, 303, `${CONSENTS_PATH}?notice=${notice}`, `${action} of consent ${consentId}`);
  return res;
}

/** The rows of #disclosures: [{ consent, company, categories }]. */
export async function readDisclosures(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#disclosures tr[data-consent]')].map((tr) => ({
      consent: tr.getAttribute('data-consent'),
      company: tr.querySelector('td.company')?.textContent.trim() ?? null,
      categories: [...tr.querySelectorAll('.tag[data-category]')].map((s) => s.getAttribute('data-category')),
    })),
  );
}

// ---- the company's side of the API ----

async function answer(res) {
  const raw = await res.text();
  let body = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: keep the text for the message
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body, raw };
}

/** POST /api/v1/oauth/token with the client credentials (Basic): { status, contentType, body, raw }. */
export async function requestToken(base, { clientId, clientSecret }) {
  const res = await fetch(`${base}/api/v1/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(10_000),
  });
  return answer(res);
}

/** A company access token; fails clearly when the token endpoint refuses. */
export async function companyToken(base, credentials) {
  const res = await requestToken(base, credentials);
  assert.equal(res.status, 200, `POST /api/v1/oauth/token answered ${res.status}: ${res.raw.slice(0, 300)}`);
  assert.match(res.body?.access_token ?? '', /\S{16,}/, `no access_token: ${res.raw.slice(0, 300)}`);
  return res.body.access_token;
}

/** GET `path` with the company's bearer token: { status, contentType, body, raw }. */
export async function apiGet(base, token, path) {
  const res = await fetch(`${base}${path}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  return answer(res);
}

/** GET /api/v1/consents/<id>/data. */
export function fetchData(base, token, consentId) {
  return apiGet(base, token, `/api/v1/consents/${consentId}/data`);
}

/** Asserts a 403 problem+json with `code`. */
export function assertRefused(res, code, what) {
  assert.equal(res.status, 403, `${what} answered ${res.status}, expected 403 ${code}: ${res.raw.slice(0, 300)}`);
  assert.match(res.contentType, /^application\/problem\+json/, `${what}: the refusal is problem+json, is ${res.contentType}`);
  assert.equal(res.body?.code, code, `${what}: the problem's code: ${res.raw.slice(0, 300)}`);
  assert.equal(res.body?.data, undefined, `${what}: a refusal carries no data`);
}
