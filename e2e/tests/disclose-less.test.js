// Disclosing less: a company creates a predicate offer and a statistics offer in its portal; a
// citizen reviews each and sees exactly what it learns ("only whether you are 20 or older, today:
// yes"; "counted in statistics by prefecture, cells of fewer than k people never shown"),
// accepts both, and then finds the answer the company received and the run that counted her in
// her disclosure history.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import { PASSWORD, citizenSignedIn, clickAndWait, describePage, signIn, textOf, uniqueEmail } from '../lib/portal.js';
import { createStaff } from '../lib/staff.js';
import { openCategory, openMyData, saveRecord } from '../lib/mydata.js';
import {
  CONSENTS_PATH,
  DISCLOSURES_PATH,
  OFFERS_PATH,
  apiGet,
  assertLanded,
  companyToken,
  createOffer,
  fetchData,
  followNav,
  offerTerms,
  openCompanyDashboard,
  openOffer,
  operatorApprovesOffer,
  readCompanyOffers,
} from '../lib/consent.js';

const app = useApp();

/** The citizen opens the offer from /offers, reads what it learns, accepts; resolves to { learns, statistics }. */
async function reviewAndAccept(page, offerId, snap, step) {
  await followNav(page, 'nav-offers', OFFERS_PATH, snap, `offers before ${step}`);
  const opened = await clickAndWait(page, `a[data-open-offer="${offerId}"]`, snap, `${step}: offer page`);
  await assertLanded(page, opened, 200, `${OFFERS_PATH}/${offerId}`, `the link to ${step}`);
  const seen = await page.evaluate((id) => {
    const card = document.querySelector(`article.offer[data-offer="${id}"]`);
    const t = (el) => (el ? el.textContent.trim().replace(/\s+/g, ' ') : null);
    return {
      kind: card?.getAttribute('data-kind'),
      learns: [...(card?.querySelectorAll('.learns[data-kind=predicates] li.learned') ?? [])].map(t),
      lead: t(card?.querySelector('.learns[data-kind=predicates] p')),
      statistics: t(card?.querySelector('.learns[data-kind=statistics]')),
      preview: !!document.querySelector('#preview'),
    };
  }, offerId);
  const accepted = await clickAndWait(page, '#accept-offer', snap, `${step}: accepted`);
  await assertLanded(page, accepted, 303, `${CONSENTS_PATH}?notice=granted`, `accepting ${step}`);
  return seen;
}

test('disclose less: a predicate offer and a statistics offer, from the company portal to the citizen history', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    // The company creates a predicate offer in its portal; the operator approves it.
    const predicates = await openOffer(app, page, snap, {
      kind: 'predicates',
      title: `Adults only delivery ${Date.now()}`,
      predicates: [
        { name: 'age_at_least', params: { years: 20 } },
        { name: 'holds_valid', params: { category: 'drivers_license' } },
      ],
      reward: 5,
    });
    // Then a statistics offer, from the same dashboard.
    await openCompanyDashboard(page, app.base, snap, 'company dashboard for the statistics offer');
    const statsTerms = offerTerms({
      kind: 'statistics',
      title: `Spend by prefecture ${Date.now()}`,
      statistics: { dimensions: ['prefecture'], measures: ['spend_sum'] },
    });
    const statsOffer = await createOffer(page, statsTerms, snap, 'statistics offer sent');
    const listed = await readCompanyOffers(page);
    assert.ok(listed.some((o) => o.id === statsOffer), `the statistics offer is listed ${JSON.stringify(listed)}`);
    const kinds = await page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll('#company-offers tr[data-offer]')].map((tr) => [tr.getAttribute('data-offer'), tr.getAttribute('data-kind')])),
    );
    assert.equal(kinds[predicates.offerId], 'predicates', `the predicate offer's kind ${JSON.stringify(kinds)}`);
    assert.equal(kinds[statsOffer], 'statistics', `the statistics offer's kind ${JSON.stringify(kinds)}`);
    await operatorApprovesOffer(page, app.base, predicates.operator, statsOffer, snap, 'aggregates only');

    // A citizen who entrusted her birth date and residence, and no licence.
    await citizenSignedIn(page, app.base, snap, { prefix: 'disclose-less', displayName: 'Sachiko Less' });
    for (const [category, values] of [
      ['birth_date', { date: '1990-04-01' }],
      ['residence', { prefecture: 'Osaka', city: 'Kita', postal_code: '5300001' }],
    ]) {
      await openMyData(page, snap, `my data before ${category}`);
      await openCategory(page, category, snap, `${category} form`);
      const saved = await saveRecord(page, values, snap, `${category} saved`);
      await assertLanded(page, saved, 303, `/data/${category}?notice=saved`, `saving ${category}`);
    }

    // The predicate offer says exactly what the company learns, with her answers today, and
    // shows no records to share.
    const seenPredicates = await reviewAndAccept(page, predicates.offerId, snap, 'the predicate offer');
    assert.equal(seenPredicates.kind, 'predicates');
    assert.ok(seenPredicates.lead?.endsWith('learns only:'), `the lead: ${JSON.stringify(seenPredicates)}`);
    assert.deepEqual(
      seenPredicates.learns,
      [
        'whether you are 20 or older (today: yes)',
        "whether you hold a valid Driver's licence (present and not expired today) (today: not known: you hold no record to decide it)",
      ],
      `what the predicate offer learns: ${JSON.stringify(seenPredicates)}`,
    );
    assert.equal(seenPredicates.preview, false, 'no records preview for a predicate offer');

    // The statistics offer says how she is counted and that small cells are never shown.
    const seenStats = await reviewAndAccept(page, statsOffer, snap, 'the statistics offer');
    assert.equal(seenStats.kind, 'statistics');
    assert.match(seenStats.statistics ?? '', /counted in statistics by prefecture \(number of people, total spend\)\. Cells of fewer than 10 people are never shown/, `the statistics sentence: ${JSON.stringify(seenStats)}`);
    assert.equal(seenStats.preview, false, 'no records preview for a statistics offer');

    // The company reads the answer and runs the statistics over the API.
    const token = await companyToken(app.base, predicates.credentials);
    const consents = await apiGet(app.base, token, '/api/v1/consents');
    const byOffer = Object.fromEntries(consents.body.map((c) => [c.offer_id, c.id]));
    const answer = await fetchData(app.base, token, byOffer[predicates.offerId]);
    assert.equal(answer.status, 200, `the predicate answer: ${answer.raw.slice(0, 300)}`);
    assert.deepEqual(answer.body.predicates.map((p) => p.value), [true, null], answer.raw.slice(0, 400));
    assert.ok(!answer.raw.includes('1990'), 'the birth date never leaves the bank');
    const run = await fetch(`${app.base}/api/v1/offers/${statsOffer}/statistics`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const counted = await run.json();
    assert.equal(run.status, 200, JSON.stringify(counted));
    assert.deepEqual([counted.participants, counted.cells, counted.suppressed_cells], [1, [], 1], JSON.stringify(counted));

    // Her history: the answers the company received, and the run that counted her.
    await followNav(page, 'nav-consents', CONSENTS_PATH, snap, 'consents before the history');
    const history = await clickAndWait(page, '#disclosures-link', snap, 'disclosure history');
    await assertLanded(page, history, 200, DISCLOSURES_PATH, 'the disclosure history link');
    const answers = await page.locator('#disclosures li.answer').allTextContents();
    assert.deepEqual(
      answers.map((a) => a.trim().replace(/\s+/g, ' ')),
      ['whether you are 20 or older: yes', "whether you hold a valid Driver's licence (present and not expired today): not known: you hold no record to decide it"],
      `the answers in the history ${await describePage(page)}`,
    );
    const runs = page.locator('#statistics-runs tr.statistics-run');
    assert.equal(await runs.count(), 1, `one run in the history ${await describePage(page)}`);
    assert.equal(await textOf(page, '#statistics-runs tr.statistics-run td.participants'), '1');
    assert.equal(await runs.first().getAttribute('data-audit-leaf'), counted.audit_leaf_hash, 'the run names its audit leaf');

    // The regulator follows the log page's link to the runs: counts and suppression, no cell.
    await clickAndWait(page, 'header #signout', snap, 'citizen signed out');
    const regulator = { email: uniqueEmail('disclose-less-regulator'), password: PASSWORD };
    await createStaff(app, 'regulator', regulator.email, regulator.password);
    await signIn(page, app.base, regulator, snap, 'regulator signed in');
    await followNav(page, 'nav-audit', '/regulator/log', snap, 'regulator log');
    const opened = await clickAndWait(page, '#statistics-link', snap, 'statistics runs');
    await assertLanded(page, opened, 200, '/regulator/statistics', 'the statistics runs link');
    const row = page.locator(`#statistics-runs tr[data-run="${counted.run_id}"]`);
    assert.equal(await row.count(), 1, `the run is listed ${await describePage(page)}`);
    assert.deepEqual(
      [await row.locator('td.participants').textContent(), await row.locator('td.released').textContent(), await row.locator('td.suppressed').textContent()],
      ['1', '0', '1'],
      'participants, cells shown, cells withheld',
    );
    assert.equal(await textOf(page, '#bank-k'), 'k = 10');
  });
});
