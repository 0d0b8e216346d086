// Scenario 10: consent. A company applies in its portal and gets its client credentials once; the
// operator vets it and reviews its offers (reasons needed to refuse); a citizen reads an offer in
// words, previews exactly what would be shared, accepts, and from then on sees every use: the
// consents dashboard (pause, resume, revoke, signed receipts, suspension notices), the disclosure
// history and the coins the disclosure paid. The company reads the data over the API with a
// client-credentials token, and every change the citizen or the operator makes holds on its very
// next request.
//
// The tests share one server (and, with E2E_DATABASE_URL, a database other runs may have used):
// every run uses fresh emails, legal names and corporate numbers, and looks offers, companies and
// consents up by their ids.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import { PASSWORD, citizenSignedIn, clickAndWait, describePage, htmlLang, pathOf, signIn, textOf, uniqueEmail, visit } from '../lib/portal.js';
import { openCategory, openMyData, saveRecord } from '../lib/mydata.js';
import { fundCompany, openCoins, readCoins } from '../lib/coins.js';
import { createStaff, runCli } from '../lib/staff.js';
import {
  COMPANY_APPLY_PATH,
  COMPANY_PATH,
  COMPANY_SIGNIN_PATH,
  CONSENTS_PATH,
  DISCLOSURES_PATH,
  OFFERS_PATH,
  OPERATOR_COMPANIES_PATH,
  OPERATOR_OFFERS_PATH,
  apiGet,
  applyAsCompany,
  assertLanded,
  assertRefused,
  changeConsent,
  companyApplication,
  companySignedIn,
  companyStatus,
  companyToken,
  createOffer,
  decideCompany,
  fetchData,
  followNav,
  newOperator,
  offerTerms,
  onlyConsent,
  openCompanyApply,
  openCompanyDashboard,
  openOffer,
  operatorApprovesCompany,
  operatorApprovesOffer,
  operatorCompanyStatus,
  readCompanyOffers,
  readConsents,
  readDisclosures,
  readOffer,
  readPreview,
  requestToken,
  reviewOffer,
  signOut,
  submitApplication,
  submitCompanySignIn,
  submitOffer,
  withWrongCheckDigit,
} from '../lib/consent.js';

const app = useApp();

const RESIDENCE = { prefecture: 'Tokyo', city: 'Chiyoda', postal_code: '1000001' };
const HOBBIES = { items: 'cycling, go' };
const PURPOSE_EN = 'Offers and advertising chosen for you';
const PURPOSE_JA = 'あなたに合わせた特典や広告';

/** Opens /data through the header link, then a category, and saves a new record there. */
async function entrust(page, category, values, snap, step) {
  await openMyData(page, snap, `my data before ${step}`);
  await openCategory(page, category, snap, `${category} form before ${step}`);
  const saved = await saveRecord(page, values, snap, step);
  await assertLanded(page, saved, 303, `/data/${category}?notice=saved`, `saving a ${category} record (${step})`);
}

/** The citizen opens /offers (header link), then the offer's preview, accepts, lands on /consents; resolves to the consent row. */
async function acceptOffer(page, offerId, snap) {
  await followNav(page, 'nav-offers', OFFERS_PATH, snap, 'offers');
  const opened = await clickAndWait(page, `a[data-open-offer="${offerId}"]`, snap, 'offer preview');
  await assertLanded(page, opened, 200, `${OFFERS_PATH}/${offerId}`, 'the offer link');
  const accepted = await clickAndWait(page, '#accept-offer', snap, 'offer accepted');
  await assertLanded(page, accepted, 303, `${CONSENTS_PATH}?notice=granted`, 'accepting the offer');
  return onlyConsent(page);
}

/** Opens /consents through the header link. */
function openConsents(page, snap, step = 'consents') {
  return followNav(page, 'nav-consents', CONSENTS_PATH, snap, step);
}

test('consent: apply, approve, offer, accept, disclose, coins, revoke', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    // The company applies in its portal; the credentials are shown once.
    const { application, credentials } = await applyAsCompany(page, app.base, snap);
    assert.equal(await page.locator('#credentials').getAttribute('data-company'), credentials.companyId, '#credentials names the company');
    assert.match(credentials.clientId, /^ibc_/, `the client_id: ${credentials.clientId}`);
    assert.equal(await textOf(page, '#credentials .notice[role=status]'), 'Application received. The operator will review it.');

    // It signs in and is "applied"; it may not read anything over the API yet.
    await companySignedIn(page, app.base, credentials, snap, 'company dashboard applied');
    assert.equal(await textOf(page, 'h1#page-title'), application.legalName);
    assert.equal(await companyStatus(page), 'applied', `a new company is applied ${await describePage(page)}`);
    assert.equal(await textOf(page, '#company-id'), credentials.companyId);
    assert.equal(await textOf(page, '#company-offers-empty'), 'No offers yet.');
    const early = await requestToken(app.base, credentials);
    assertRefused(early, 'company_not_approved', 'a token for an applied company');

    // The operator approves it (no reason needed for an approval).
    const operator = await newOperator(app, 'consent-operator');
    await operatorApprovesCompany(page, app.base, operator, credentials.companyId, snap);

    // Funded with 100 coins (CLI), the company sends an offer for residence and hobbies paying 30.
    const funded = await fundCompany(app, credentials.companyId, 100);
    assert.equal(funded.balance, 100, `infobank coins fund printed ${JSON.stringify(funded)}`);
    await openCompanyDashboard(page, app.base, snap, 'company dashboard approved');
    assert.equal(await companyStatus(page), 'approved', `the company after approval ${await describePage(page)}`);

    // The company replaces its client secret in its portal: the new one is shown once, the old one
    // stops working at once, and the session that rotated stays signed in.
    const rotated = await clickAndWait(page, '#rotate-secret', snap, 'client secret rotated');
    assert.equal(rotated.firstStatus, 200, `rotating the secret answered ${rotated.firstStatus} ${await describePage(page)}`);
    const newSecret = await textOf(page, '#new-secret');
    assert.match(newSecret, /^ibs_\S{16,}$/, 'the new secret is shown');
    assert.notEqual(newSecret, credentials.clientSecret);
    const stale = await requestToken(app.base, credentials);
    assert.equal(stale.status, 401, `the old secret after rotation answered ${stale.status}: ${stale.raw.slice(0, 300)}`);
    credentials.clientSecret = newSecret;
    await openCompanyDashboard(page, app.base, snap, 'company dashboard after rotating');
    const terms = offerTerms({ reward: 30, categories: ['residence', 'hobbies'] });
    const offerId = await createOffer(page, terms, snap, 'offer sent for review');
    assert.equal(await textOf(page, '.notice[role=status]'), 'Offer sent for review.');

    // The operator approves the offer in the ethics review.
    await operatorApprovesOffer(page, app.base, operator, offerId, snap);

    // A citizen entrusts a residence, hobbies and a mood (which the offer does not ask for).
    await citizenSignedIn(page, app.base, snap, { prefix: 'consent-walk', displayName: 'Hanako Consent' });
    await entrust(page, 'residence', RESIDENCE, snap, 'residence saved');
    await entrust(page, 'hobbies', HOBBIES, snap, 'hobbies saved');
    await entrust(page, 'daily_mood', { date: '2026-11-20', score: 4, note: 'private' }, snap, 'mood saved');
    await openCoins(page, snap, 'coins before the offer');
    const before = (await readCoins(page)).balance;

    // The offer in words.
    await followNav(page, 'nav-offers', OFFERS_PATH, snap, 'offers');
    const card = await readOffer(page, offerId);
    assert.equal(card.title, terms.title, `the offer's title: ${JSON.stringify(card)}`);
    assert.equal(card.company, application.legalName, `the offer names the company: ${JSON.stringify(card)}`);
    assert.equal(card.purpose, PURPOSE_EN, `the purpose in words: ${JSON.stringify(card)}`);
    assert.deepEqual([...card.categories].sort(), ['hobbies', 'residence'], `the categories asked for: ${JSON.stringify(card)}`);
    assert.equal(card.onward, 'Prohibited', `onward transfer: ${JSON.stringify(card)}`);
    assert.equal(card.reward, 30, `the reward: ${JSON.stringify(card)}`);
    assert.equal(card.specialWarning, null, `no special-care warning for residence and hobbies: ${JSON.stringify(card)}`);
    assert.equal(card.openHref, `${OFFERS_PATH}/${offerId}`, `the preview link: ${JSON.stringify(card)}`);

    // The preview shows exactly the citizen's own residence and hobbies.
    const opened = await clickAndWait(page, `a[data-open-offer="${offerId}"]`, snap, 'offer preview');
    await assertLanded(page, opened, 200, `${OFFERS_PATH}/${offerId}`, 'the offer link');
    assert.equal((await readOffer(page, offerId)).company, application.legalName, 'the preview page repeats the terms');
    const preview = await readPreview(page);
    assert.deepEqual(Object.keys(preview).sort(), ['hobbies', 'residence'], `the preview lists the offer's categories only: ${JSON.stringify(preview)}`);
    assert.equal(preview.residence.length, 1, `one residence in the preview: ${JSON.stringify(preview)}`);
    assert.ok(Object.values(preview.residence[0]).includes('Chiyoda'), `the preview shows the citizen's city: ${JSON.stringify(preview)}`);
    assert.equal(preview.hobbies.length, 1, `one hobbies record in the preview: ${JSON.stringify(preview)}`);
    assert.ok(Object.values(preview.hobbies[0]).some((v) => v.includes('cycling')), `the preview shows the hobbies: ${JSON.stringify(preview)}`);
    assert.ok(!(await page.locator('#preview').innerText()).includes('private'), 'the mood is not in the preview');

    const accepted = await clickAndWait(page, '#accept-offer', snap, 'offer accepted');
    await assertLanded(page, accepted, 303, `${CONSENTS_PATH}?notice=granted`, 'accepting the offer');
    assert.equal(await textOf(page, '.notice[role=status]'), 'Consent given. Your receipt is signed and kept below.');
    const consent = await onlyConsent(page);
    assert.equal(consent.status, 'active', `the new consent: ${JSON.stringify(consent)}`);
    assert.equal(consent.company, application.legalName, `the consent names the company: ${JSON.stringify(consent)}`);
    assert.equal(consent.uses, 0, `not used yet: ${JSON.stringify(consent)}`);
    assert.deepEqual(consent.actions, ['pause', 'revoke', 'receipt'], `what the citizen can do: ${JSON.stringify(consent)}`);

    // The signed receipt.
    const receipt = await clickAndWait(page, `#consents tr[data-consent="${consent.id}"] a[data-action="receipt"]`, snap, 'receipt');
    await assertLanded(page, receipt, 200, `${CONSENTS_PATH}/${consent.id}/receipt`, 'the receipt link');
    const record = await page.locator('#receipt-record').textContent();
    assert.ok(record.includes('"onward_transfer": "prohibited"'), `the receipt forbids onward transfer: ${record.slice(0, 600)}`);
    assert.ok(record.includes('consent.granted'), `the receipt records the grant: ${record.slice(0, 600)}`);
    assert.ok(record.includes(consent.id), 'the receipt names the consent');
    assert.match(await textOf(page, '#receipt-jws'), /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the signed receipt is a compact JWS');
    // The receipt's audit leaf: queued or integrated at first, under a signed tree head within
    // the merge delay (1 s by default); the page says which.
    const firstStatus = await page.locator('#receipt-log').getAttribute('data-status');
    assert.ok(['queued', 'integrated', 'signed'].includes(firstStatus), `the receipt's leaf is known to the log: ${firstStatus}`);
    let logStatus = firstStatus;
    for (let i = 0; i < 20 && logStatus !== 'signed'; i++) {
      await page.waitForTimeout(250);
      await page.reload();
      logStatus = await page.locator('#receipt-log').getAttribute('data-status');
    }
    assert.equal(logStatus, 'signed', `the receipt's leaf is under a signed head within 5 s (first: ${firstStatus})`);

    // Nothing disclosed yet.
    await openConsents(page, snap, 'consents before the fetch');
    await clickAndWait(page, '#disclosures-link', snap, 'disclosures empty');
    assert.equal(pathOf(page), DISCLOSURES_PATH);
    assert.equal(await page.locator('#disclosures-empty').count(), 1, `no disclosures before the company fetches ${await describePage(page)}`);

    // The company reads the data over the API: only the offer's categories.
    const token = await companyToken(app.base, credentials);
    const held = await apiGet(app.base, token, '/api/v1/consents');
    assert.equal(held.status, 200, `GET /api/v1/consents answered ${held.status}: ${held.raw.slice(0, 300)}`);
    assert.equal(held.body.length, 1, `the company holds one consent: ${held.raw.slice(0, 600)}`);
    assert.equal(held.body[0].id, consent.id, `the consent the company holds: ${held.raw.slice(0, 600)}`);
    assert.equal(held.body[0].status, 'active');
    assert.equal(held.body[0].offer_id, offerId);
    assert.match(held.body[0].subject ?? '', /\S/, 'the citizen appears as a pseudonym');
    assert.ok(!held.raw.includes('Hanako') && !held.raw.includes('@example.com'), `no name or email in the company's list: ${held.raw.slice(0, 600)}`);

    const data = await fetchData(app.base, token, consent.id);
    assert.equal(data.status, 200, `GET /api/v1/consents/${consent.id}/data answered ${data.status}: ${data.raw.slice(0, 300)}`);
    assert.equal(data.body.consent_id, consent.id);
    assert.equal(data.body.subject, held.body[0].subject, 'the same pseudonym as in the list');
    assert.equal(data.body.onward_transfer, 'prohibited');
    assert.deepEqual(Object.keys(data.body.data).sort(), ['hobbies', 'residence'], `only the offer's categories: ${data.raw.slice(0, 600)}`);
    assert.equal(data.body.data.residence[0].data.city, RESIDENCE.city, `the city disclosed: ${data.raw.slice(0, 600)}`);
    assert.deepEqual(data.body.data.hobbies[0].data.items, ['cycling', 'go'], `the hobbies disclosed: ${data.raw.slice(0, 600)}`);
    assert.ok(!data.raw.includes('private'), 'the mood is not disclosed');

    // The citizen sees the disclosure, the use and the coins it paid.
    await openConsents(page, snap, 'consents after the fetch');
    assert.equal((await onlyConsent(page)).uses, 1, `one use after the fetch ${await describePage(page)}`);
    await clickAndWait(page, '#disclosures-link', snap, 'disclosures');
    const disclosures = await readDisclosures(page);
    assert.equal(disclosures.length, 1, `one disclosure: ${JSON.stringify(disclosures)} ${await describePage(page)}`);
    assert.equal(disclosures[0].consent, consent.id);
    assert.equal(disclosures[0].company, application.legalName, 'the disclosure names the company');
    assert.deepEqual([...disclosures[0].categories].sort(), ['hobbies', 'residence'], `what was disclosed: ${JSON.stringify(disclosures)}`);

    await openCoins(page, snap, 'coins after the disclosure');
    const coins = await readCoins(page);
    const reward = coins.history.filter((r) => r.reason === 'offer_reward');
    const bonus = coins.history.filter((r) => r.reason === 'breadth_bonus');
    assert.deepEqual(reward.map((r) => r.amount), ['+30'], `the offer reward: ${JSON.stringify(coins.history)}`);
    assert.deepEqual(bonus.map((r) => r.amount), ['+10'], `the breadth bonus (first company this month): ${JSON.stringify(coins.history)}`);
    assert.equal(coins.balance, before + 40, `the balance grew by 30 + 10 (was ${before}) ${await describePage(page)}`);

    // The citizen revokes; the company's next fetch is refused.
    await openConsents(page, snap, 'consents before revoking');
    await changeConsent(page, consent.id, 'revoke', snap, 'consent revoked');
    assert.equal(await textOf(page, '.notice[role=status]'), 'Revoked. The company can no longer read your data.');
    const revoked = await onlyConsent(page);
    assert.equal(revoked.status, 'revoked', `after revoking: ${JSON.stringify(revoked)}`);
    assert.equal(revoked.statusLabel, 'Revoked');
    assert.deepEqual(revoked.actions, ['receipt'], `a revoked consent can only be looked at: ${JSON.stringify(revoked)}`);
    assertRefused(await fetchData(app.base, token, consent.id), 'consent_revoked', 'the fetch after revoking');

    // The company's dashboard counts the consent, none live, and the one disclosure.
    await openCompanyDashboard(page, app.base, snap, 'company dashboard at the end');
    const offers = await readCompanyOffers(page);
    const row = offers.find((o) => o.id === offerId);
    assert.ok(row, `the offer on the dashboard: ${JSON.stringify(offers)}`);
    assert.equal(row.status, 'approved');
    assert.deepEqual([row.consents, row.live, row.disclosures], [1, 0, 1], `consents, live, disclosures: ${JSON.stringify(row)}`);

    // After the scenario a regulator verifies the whole log over HTTP, and the ledger balances.
    const regulator = uniqueEmail('fsa');
    await createStaff(app, 'regulator', regulator, PASSWORD);
    const login = await fetch(`${app.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: regulator, password: PASSWORD }),
    });
    assert.equal(login.status, 200, 'the regulator signs in');
    const { access_token: regulatorToken } = await login.json();
    await new Promise((resolve) => setTimeout(resolve, 1200)); // tree heads are signed at most once a second
    const verified = await runCli(app, ['audit', 'verify', '--url', app.base, '--token', regulatorToken]);
    assert.match(verified.stdout, /^valid: \d+ entries/, `audit verify --url: ${verified.stdout}`);
    const books = await runCli(app, ['coins', 'check']);
    assert.match(books.stdout, /^ledger balances: /, `coins check: ${books.stdout}`);
  });
});

test('consent: pause and resume hold at once; a suspended company reads nothing', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const { application, credentials, operator, offerId } = await openOffer(app, page, snap, { categories: ['residence'], fetchesPerDay: 10 });
    const citizen = await citizenSignedIn(page, app.base, snap, { prefix: 'consent-pause', displayName: 'Pause Resume' });
    await entrust(page, 'residence', RESIDENCE, snap, 'residence saved');
    const consent = await acceptOffer(page, offerId, snap);
    const token = await companyToken(app.base, credentials);

    let res = await fetchData(app.base, token, consent.id);
    assert.equal(res.status, 200, `the first fetch answered ${res.status}: ${res.raw.slice(0, 300)}`);
    assert.equal(res.body.data.residence[0].data.city, RESIDENCE.city);

    // Paused: refused on the very next request.
    await openConsents(page, snap, 'consents before pausing');
    await changeConsent(page, consent.id, 'pause', snap, 'consent paused');
    assert.equal(await textOf(page, '.notice[role=status]'), 'Paused. The company cannot read your data until you resume.');
    let row = await onlyConsent(page);
    assert.deepEqual([row.status, row.statusLabel], ['paused', 'Paused'], `after pausing: ${JSON.stringify(row)}`);
    assert.deepEqual(row.actions, ['resume', 'revoke', 'receipt'], `a paused consent can be resumed or revoked: ${JSON.stringify(row)}`);
    assertRefused(await fetchData(app.base, token, consent.id), 'consent_paused', 'the fetch while paused');

    // Resumed: readable again at once.
    await changeConsent(page, consent.id, 'resume', snap, 'consent resumed');
    assert.equal(await textOf(page, '.notice[role=status]'), 'Resumed.');
    row = await onlyConsent(page);
    assert.equal(row.status, 'active', `after resuming: ${JSON.stringify(row)}`);
    res = await fetchData(app.base, token, consent.id);
    assert.equal(res.status, 200, `the fetch after resuming answered ${res.status}: ${res.raw.slice(0, 300)}`);
    await page.reload({ waitUntil: 'load' });
    assert.equal((await onlyConsent(page)).uses, 2, `two uses (the refused fetch is not one) ${await describePage(page)}`);
    assert.equal(await page.locator('[data-suspended]').count(), 0, 'no suspension notice yet');
    await signOut(page, snap, 'citizen signed out');

    // The operator suspends the company, with a reason.
    await signIn(page, app.base, operator, snap, 'operator signed in to suspend');
    await followNav(page, 'nav-operator-companies', OPERATOR_COMPANIES_PATH, snap, 'operator companies');
    const suspended = await decideCompany(page, credentials.companyId, 'suspend', 'certificate under review', snap, 'company suspended');
    await assertLanded(page, suspended, 303, OPERATOR_COMPANIES_PATH, 'suspending the company');
    assert.equal(await operatorCompanyStatus(page, credentials.companyId), 'suspended');
    assert.ok(
      (await page.locator(`section.company[data-company="${credentials.companyId}"] ul.decisions`).innerText()).includes('certificate under review'),
      `the decision shows its reason ${await describePage(page)}`,
    );
    await signOut(page, snap, 'operator signed out');

    assertRefused(await fetchData(app.base, token, consent.id), 'company_suspended', 'the fetch of a suspended company');

    // The citizen is told; the consent itself stays as it was.
    await signIn(page, app.base, citizen, snap, 'citizen signed in again');
    await openConsents(page, snap, 'consents with the company suspended');
    const notice = page.locator(`[data-suspended="${application.legalName}"]`);
    assert.equal(await notice.count(), 1, `a suspension notice for ${application.legalName} ${await describePage(page)}`);
    assert.equal(
      await textOf(page, '[data-suspended]'),
      `${application.legalName}: this company is suspended by the bank; it cannot read your data while suspended.`,
    );
    assert.equal((await onlyConsent(page)).status, 'active', 'suspension does not change the consent');

    // The company's own portal shows the suspension and the reason.
    await openCompanyDashboard(page, app.base, snap, 'company dashboard suspended');
    assert.equal(await companyStatus(page), 'suspended');
    assert.ok((await textOf(page, 'ul.decisions')).includes('certificate under review'), `the company sees the reason ${await describePage(page)}`);
    // Suspended, it cannot replace its own secret (leaked credentials must not lock it out).
    assert.equal(await page.locator('#rotate-secret').count(), 0, `no rotation while suspended ${await describePage(page)}`);
    assert.equal(await textOf(page, '#secret-by-operator'), 'While the company is not approved, only the operator can issue new credentials.');
  });
});

test('consent: refusals in the portal', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    // A corporate number with a wrong check digit: 422 naming the field, the form kept.
    const application = companyApplication();
    await openCompanyApply(page, app.base, snap);
    const bad = await submitApplication(page, { ...application, corporateNumber: withWrongCheckDigit(application.corporateNumber) }, snap, 'bad corporate number');
    await assertLanded(page, bad, 422, COMPANY_APPLY_PATH, 'an application with a wrong check digit');
    assert.equal(await page.locator('#apply-error li[data-field="corporate_number"]').count(), 1, `#apply-error names corporate_number ${await describePage(page)}`);
    assert.equal(await page.locator('#apply-error').getAttribute('role'), 'alert');
    assert.equal(await page.locator('#credentials').count(), 0, 'no credentials for a refused application');
    assert.equal(await page.inputValue('#legal_name'), application.legalName, 'the legal name is kept');

    // Corrected, it is accepted.
    const fixed = await submitApplication(page, application, snap, 'application corrected');
    await assertLanded(page, fixed, 201, COMPANY_APPLY_PATH, 'the corrected application');
    const credentials = {
      companyId: await textOf(page, '#company-id'),
      clientId: await textOf(page, '#client-id'),
      clientSecret: await textOf(page, '#client-secret'),
    };
    // The same corporate number again is refused.
    await openCompanyApply(page, app.base, snap);
    const twice = await submitApplication(page, { ...companyApplication(), corporateNumber: application.corporateNumber }, snap, 'duplicate corporate number');
    await assertLanded(page, twice, 422, COMPANY_APPLY_PATH, 'a second application with the same corporate number');
    assert.equal(await page.locator('#apply-error li[data-field="corporate_number"]').count(), 1, `#apply-error names corporate_number ${await describePage(page)}`);

    // A wrong secret: 401, not signed in.
    const wrong = await submitCompanySignIn(page, app.base, { ...credentials, clientSecret: `${credentials.clientSecret}x` }, snap, 'wrong secret');
    await assertLanded(page, wrong, 401, COMPANY_SIGNIN_PATH, 'signing in with a wrong secret');
    assert.equal(await textOf(page, '#company-signin-error'), 'client_id or client_secret is wrong.');
    const away = await visit(page, app.base, COMPANY_PATH, snap, 'dashboard not signed in');
    assert.equal(away.firstStatus, 303, `${COMPANY_PATH} without signing in answered ${away.firstStatus}`);
    assert.equal(pathOf(page), COMPANY_SIGNIN_PATH, `${COMPANY_PATH} without signing in leads to the sign-in ${await describePage(page)}`);

    // Not approved yet: no offers.
    await companySignedIn(page, app.base, credentials, snap, 'company dashboard applied');
    assert.equal(await companyStatus(page), 'applied');
    const early = await submitOffer(page, offerTerms(), snap, 'offer refused');
    await assertLanded(page, early, 422, '/company/offers', 'an offer of an unapproved company');
    assert.equal(await textOf(page, '#offer-error'), 'status: Only approved companies can make offers.');
    assert.equal(await page.locator('#company-offers-empty').count(), 1, `no offer was created ${await describePage(page)}`);

    // The operator cannot reject without a reason; the company stays applied. Then approves.
    const operator = await newOperator(app, 'consent-refusals');
    await signIn(page, app.base, operator, snap, 'operator signed in');
    await followNav(page, 'nav-operator-companies', OPERATOR_COMPANIES_PATH, snap, 'operator companies');
    const noReason = await decideCompany(page, credentials.companyId, 'reject', '', snap, 'reject without reason');
    await assertLanded(page, noReason, 422, `${OPERATOR_COMPANIES_PATH}/${credentials.companyId}/reject`, 'rejecting without a reason');
    assert.equal(await textOf(page, '#decision-error'), 'Give a reason for this decision.');
    assert.equal(await operatorCompanyStatus(page, credentials.companyId), 'applied', 'nothing was decided');
    const approved = await decideCompany(page, credentials.companyId, 'approve', '', snap, 'company approved');
    await assertLanded(page, approved, 303, OPERATOR_COMPANIES_PATH, 'approving the company');
    await signOut(page, snap, 'operator signed out');

    // An offer asking for physical condition (special care).
    await openCompanyDashboard(page, app.base, snap, 'company dashboard approved');
    const offerId = await createOffer(page, offerTerms({ title: 'Sleep better', categories: ['physical_condition'], purpose: 'product_development' }), snap);

    // Rejecting it without a reason is refused too; approved, it reaches citizens.
    await signIn(page, app.base, operator, snap, 'operator signed in for review');
    await followNav(page, 'nav-operator-offers', OPERATOR_OFFERS_PATH, snap, 'offer review');
    const rejected = await reviewOffer(page, offerId, 'reject', '', snap, 'offer reject without reason');
    await assertLanded(page, rejected, 303, `${OPERATOR_OFFERS_PATH}?error=reason`, 'rejecting an offer without a reason');
    assert.equal(await textOf(page, '#review-error'), 'Give a reason for this decision.');
    assert.equal(await page.locator(`article.offer[data-offer="${offerId}"]`).count(), 1, 'the offer still waits for review');
    await signOut(page, snap, 'operator signed out before approving');
    await operatorApprovesOffer(page, app.base, operator, offerId, snap);

    await citizenSignedIn(page, app.base, snap, { prefix: 'consent-refusals', displayName: 'Twice Accepting' });
    await followNav(page, 'nav-offers', OFFERS_PATH, snap, 'offers');
    const card = await readOffer(page, offerId);
    assert.deepEqual(card.categories, ['physical_condition']);
    assert.ok(card.specialWarning?.includes('Physical condition'), `the special-care warning names the category: ${JSON.stringify(card)}`);
    assert.equal(await page.locator(`article.offer[data-offer="${offerId}"] .special-warning`).getAttribute('role'), 'note');

    const opened = await clickAndWait(page, `a[data-open-offer="${offerId}"]`, snap, 'special offer preview');
    await assertLanded(page, opened, 200, `${OFFERS_PATH}/${offerId}`, 'the offer link');
    assert.deepEqual(await readPreview(page), { physical_condition: [] }, `nothing held, nothing shared ${await describePage(page)}`);
    assert.equal(await page.locator('#preview p.nothing').count(), 1);
    const first = await clickAndWait(page, '#accept-offer', snap, 'accepted');
    await assertLanded(page, first, 303, `${CONSENTS_PATH}?notice=granted`, 'the first acceptance');

    // A second acceptance of the same offer.
    await visit(page, app.base, `${OFFERS_PATH}/${offerId}`, snap, 'offer again');
    const second = await clickAndWait(page, '#accept-offer', snap, 'accepted twice');
    await assertLanded(page, second, 409, `${OFFERS_PATH}/${offerId}/accept`, 'the second acceptance');
    assert.equal(await textOf(page, '#accept-error'), 'You already consented to this offer.');
    await openConsents(page, snap, 'still one consent');
    assert.equal((await readConsents(page)).length, 1, `still one consent ${await describePage(page)}`);
  });
});

test('consent pages in Japanese', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const { application, offerId } = await openOffer(app, page, snap, { categories: ['residence'] });
    await citizenSignedIn(page, app.base, snap, { prefix: 'ja-consent', displayName: '山田 花子' });
    await entrust(page, 'residence', RESIDENCE, snap, 'residence saved');
    await followNav(page, 'nav-offers', OFFERS_PATH, snap, 'offers en');
    const switched = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'offers ja');
    assert.equal(switched.firstStatus, 303, `GET /lang/ja answered ${switched.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), OFFERS_PATH, `the language switch should come back to ${OFFERS_PATH} ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja', `/offers is not in Japanese ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'オファー');
    assert.equal(await textOf(page, 'header #nav-offers'), 'オファー');
    const card = await readOffer(page, offerId);
    assert.equal(card.company, application.legalName);
    assert.equal(card.purpose, PURPOSE_JA, `the purpose in Japanese: ${JSON.stringify(card)}`);
    assert.equal(card.onward, '禁止', `onward transfer in Japanese: ${JSON.stringify(card)}`);

    const opened = await clickAndWait(page, `a[data-open-offer="${offerId}"]`, snap, 'preview ja');
    await assertLanded(page, opened, 200, `${OFFERS_PATH}/${offerId}`, 'the offer link (ja)');
    assert.equal(await htmlLang(page), 'ja');
    const preview = await readPreview(page);
    assert.ok(Object.values(preview.residence?.[0] ?? {}).includes('Chiyoda'), `the preview (ja) shows the city: ${JSON.stringify(preview)}`);
    const accepted = await clickAndWait(page, '#accept-offer', snap, 'accepted ja');
    await assertLanded(page, accepted, 303, `${CONSENTS_PATH}?notice=granted`, 'accepting (ja)');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await textOf(page, 'h1#page-title'), 'あなたの同意');
    assert.equal(await textOf(page, '.notice[role=status]'), '同意しました。署名付きの同意書が保存されています。');
    const row = await onlyConsent(page);
    assert.deepEqual([row.status, row.statusLabel], ['active', '有効'], `the status in Japanese: ${JSON.stringify(row)}`);
    assert.equal(await textOf(page, `#consents tr[data-consent="${row.id}"] button[data-action="pause"]`), '停止');

    await changeConsent(page, row.id, 'pause', snap, 'paused ja');
    assert.equal(await textOf(page, '.notice[role=status]'), '停止しました。再開するまで企業はデータを読めません。');
    assert.equal((await onlyConsent(page)).statusLabel, '停止中');
    await clickAndWait(page, '#disclosures-link', snap, 'disclosures ja');
    assert.equal(await textOf(page, 'h1#page-title'), '提供履歴');
  });
});
