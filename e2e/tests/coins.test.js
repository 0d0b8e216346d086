// Scenario 9: coins. A citizen earns coins by entrusting data on My data (default policy: the
// first residence record of a calendar month pays 20, a family structure 15, a daily mood 2, once
// per category and month), sees them on /coins (balance, a server-drawn SVG chart per month with
// the numbers behind it in a table, the history with every entry explained), redeems them, and
// can read the published policy (public). Operators see every company's coins on
// /operator/coins; companies are credited with `infobank coins fund` (the CLI, against the test
// server's data).
//
// The chart and the once-a-month rule count calendar months in UTC; a test that runs across the
// turn of a month (UTC) could see its coins split over two months.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import {
  PASSWORD,
  citizenSignedIn,
  clickAndWait,
  describePage,
  htmlLang,
  pathOf,
  signIn,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';
import { openCategory, openMyData, readRecords, saveRecord } from '../lib/mydata.js';
import {
  COINS_PATH,
  OPERATOR_COINS_PATH,
  POLICY_PATH,
  currentMonth,
  fundCompany,
  openCoins,
  openOperatorCoins,
  readCoins,
  readCompanies,
  redeem,
} from '../lib/coins.js';
import { createStaff } from '../lib/staff.js';

const app = useApp();

const CHART_MONTHS = 6;
const RESIDENCE = { prefecture: 'Tokyo', city: 'Chiyoda', postal_code: '1000001' };
const RESIDENCE_EXPLAINED = 'entrusted Residence: 1 unit(s) x weight 20, policy v1';
const RESIDENCE_EXPLAINED_JA = '居住地を預託：1単位 × 重み20、方針 v1';
const CATEGORY_COUNT = 16;

/** Asserts where a form post landed: the first answer's status and the final path. */
async function assertLanded(page, res, firstStatus, where, what) {
  assert.equal(res.firstStatus, firstStatus, `${what} answered ${res.firstStatus}, expected ${firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), where, `${what} should land on ${where} ${await describePage(page)}`);
}

/** Opens /data through the header link, then a category, and saves a new record there. */
async function entrust(page, category, values, snap, step) {
  await openMyData(page, snap, `my data before ${step}`);
  await openCategory(page, category, snap, `${category} form before ${step}`);
  const saved = await saveRecord(page, values, snap, step);
  await assertLanded(page, saved, 303, `/data/${category}?notice=saved`, `saving a ${category} record (${step})`);
}

/** Deletes the only record of a category through its delete button (the page must list it). */
async function deleteOnlyRecord(page, category, snap, step) {
  const records = await readRecords(page);
  assert.equal(records.length, 1, `expected one ${category} record before deleting it ${await describePage(page)}`);
  const deleted = await clickAndWait(page, `li.record[data-id="${records[0].id}"] button.delete-button`, snap, step);
  await assertLanded(page, deleted, 303, `/data/${category}?notice=deleted`, `deleting the ${category} record`);
}

/** The chart's bars and table rows: six months, the current one last, the given totals. */
function assertChart(coins, totals, what) {
  const month = currentMonth();
  const bars = coins.bars.map((b) => b.month);
  assert.equal(bars.length, CHART_MONTHS, `${what}: the chart should have ${CHART_MONTHS} g.bar, has ${JSON.stringify(bars)}`);
  assert.equal(bars[bars.length - 1], month, `${what}: the last bar should be the current month ${month}: ${JSON.stringify(bars)}`);
  assert.deepEqual([...bars].sort(), bars, `${what}: the bars should be oldest first: ${JSON.stringify(bars)}`);
  assert.equal(new Set(bars).size, CHART_MONTHS, `${what}: every bar is another month: ${JSON.stringify(bars)}`);
  assert.deepEqual(coins.chartRows.map((r) => r.month), bars, `${what}: #chart-table has a row for each bar's month`);
  for (const bar of coins.bars) {
    const expected = totals[bar.month] ?? 0;
    assert.equal(bar.total, expected, `${what}: g.bar[data-month="${bar.month}"] data-total`);
    assert.equal(coins.chartRows.find((r) => r.month === bar.month).total, expected, `${what}: #chart-table's ${bar.month} td.total`);
  }
}

test('coins: a new citizen has none, a residence record pays 20', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'coins', displayName: 'Coin Collector' });
    assert.equal(await textOf(page, 'header #nav-coins'), 'Coins');
    await openCoins(page, snap, 'coins empty');
    assert.equal(await textOf(page, 'h1#page-title'), 'Coins');

    let coins = await readCoins(page);
    assert.equal(coins.balance, 0, `a new citizen's balance ${await describePage(page)}`);
    assert.equal(coins.balanceText, '0', '#coin-balance shows the number');
    assert.equal(coins.historyEmpty, 'No coin entries yet. Entrust data on the My data page to earn your first coins.');
    assert.equal(coins.hasHistory, false, 'no #coin-history without entries');
    assert.equal(coins.chartRole, 'img', 'svg#coins-chart has role="img"');
    assertChart(coins, {}, 'no coins yet');
    assert.ok(coins.bars.every((b) => b.titles.length === 0), `no bar segments without coins: ${JSON.stringify(coins.bars)}`);
    assert.equal(await textOf(page, '#chart-empty'), 'No coins earned in these months yet.');

    await entrust(page, 'residence', RESIDENCE, snap, 'residence saved');
    await openCoins(page, snap, 'coins after residence');
    coins = await readCoins(page);
    assert.equal(coins.balance, 20, `the balance after entrusting a residence ${await describePage(page)}`);
    assert.equal(coins.historyEmpty, null, 'no #history-empty once there is an entry');
    const month = currentMonth();
    assertChart(coins, { [month]: 20 }, 'after the residence');
    const bar = coins.bars.find((b) => b.month === month);
    assert.equal(bar.titles.length, 1, `the current month's bar has one segment: ${JSON.stringify(bar)}`);
    assert.equal(bar.titles[0], `${month} · Content x amount: 20`, "the segment's <title> names its month, source and amount");
    assert.equal(await page.locator('#chart-empty').count(), 0, 'no #chart-empty once coins were earned');

    assert.equal(coins.history.length, 1, `one history row ${JSON.stringify(coins.history)}`);
    const [row] = coins.history;
    assert.equal(row.reason, 'entrust_reward', `the row's data-reason: ${JSON.stringify(row)}`);
    assert.equal(row.explanation, RESIDENCE_EXPLAINED, 'the entry explained in words');
    assert.equal(row.amount, '+20', 'the amount is shown with its sign');
  });
});

test('coins: each category pays once a month', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'coins-monthly', displayName: 'Once A Month' });

    await entrust(page, 'daily_mood', { date: '2026-11-20', score: 4, note: 'sunny' }, snap, 'first mood');
    await entrust(page, 'daily_mood', { date: '2026-11-21', score: 3, note: 'cloudy' }, snap, 'second mood');
    assert.equal((await readRecords(page)).length, 2, `two daily mood records ${await describePage(page)}`);

    await entrust(page, 'residence', RESIDENCE, snap, 'residence');
    await openCoins(page, snap, 'coins after moods and residence');
    assert.equal((await readCoins(page)).balance, 22, `a residence and two moods pay 20 + 2 ${await describePage(page)}`);

    // Deleting the residence and entering it again pays nothing more this month.
    await openMyData(page, snap, 'my data before deleting the residence');
    await openCategory(page, 'residence', snap, 'residence before deleting');
    await deleteOnlyRecord(page, 'residence', snap, 'residence deleted');
    await entrust(page, 'residence', { ...RESIDENCE, city: 'Minato', postal_code: '1050011' }, snap, 'residence again');

    await openCoins(page, snap, 'coins at the end');
    const coins = await readCoins(page);
    assert.equal(coins.balance, 22, `still 20 + 2 after re-adding the residence ${await describePage(page)}`);
    const rewards = coins.history.filter((r) => r.reason === 'entrust_reward');
    assert.equal(rewards.length, 2, `two entrust rewards (residence, daily mood): ${JSON.stringify(coins.history)}`);
    assert.deepEqual(rewards.map((r) => r.amount).sort(), ['+2', '+20'], `the rewards: ${JSON.stringify(rewards)}`);
    assert.ok(
      rewards.some((r) => r.explanation === 'entrusted Daily mood: 1 unit(s) x weight 2, policy v1'),
      `the daily mood reward explained: ${JSON.stringify(rewards)}`,
    );
    assertChart(coins, { [currentMonth()]: 22 }, 'once a month');
  });
});

test('coins: redeeming, and asking for more than the balance', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'coins-redeem', displayName: 'Generous Giver' });
    await entrust(page, 'residence', RESIDENCE, snap, 'residence');
    await openCoins(page, snap, 'coins before redeeming');
    assert.equal((await readCoins(page)).balance, 20, `20 coins to start with ${await describePage(page)}`);
    assert.deepEqual(
      await page.locator('#redeem-target option').evaluateAll((els) => els.map((o) => o.value)),
      ['partner_points', 'donation'],
      'the redeem targets',
    );
    assert.equal(await textOf(page, '#redeem-submit'), 'Redeem');

    // What the form sends besides the amount and target (to send the same form again below).
    const hidden = await page.locator('form[action="/coins/redeem"] input[type=hidden]').evaluateAll((els) =>
      Object.fromEntries(els.map((el) => [el.name, el.value])),
    );
    assert.deepEqual(Object.keys(hidden).sort(), ['csrf_token', 'idempotency_key'], `the redeem form's hidden fields: ${JSON.stringify(hidden)}`);

    const done = await redeem(page, 7, 'donation', snap, 'redeemed 7');
    await assertLanded(page, done, 303, `${COINS_PATH}?notice=redeemed`, 'redeeming 7 coins');
    let coins = await readCoins(page);
    assert.equal(coins.notice, 'Redeemed. Your balance is updated.', `the notice ${await describePage(page)}`);
    assert.equal(coins.balance, 13, `20 - 7 ${await describePage(page)}`);
    let redemptions = coins.history.filter((r) => r.reason === 'redemption');
    assert.equal(redemptions.length, 1, `one redemption row: ${JSON.stringify(coins.history)}`);
    assert.equal(redemptions[0].explanation, 'redeemed for Donation', 'the redemption explained');
    assert.equal(redemptions[0].amount, '-7', 'the redemption amount');
    assert.equal(coins.history[0].reason, 'redemption', `the newest row comes first: ${JSON.stringify(coins.history)}`);
    // Redeeming is not earning: the chart still shows the 20 earned.
    assertChart(coins, { [currentMonth()]: 20 }, 'after redeeming');

    // Reloading the page the redemption led to redeems nothing more.
    const reloaded = await page.reload({ waitUntil: 'load' });
    await snap('success page reloaded');
    assert.equal(reloaded.status(), 200, `reloading ${COINS_PATH}?notice=redeemed answered ${reloaded.status()}`);
    coins = await readCoins(page);
    assert.equal(coins.balance, 13, `still 13 after a reload ${await describePage(page)}`);
    redemptions = coins.history.filter((r) => r.reason === 'redemption');
    assert.equal(redemptions.length, 1, `still one redemption after a reload: ${JSON.stringify(coins.history)}`);

    // The same form sent again (a double click, an old tab) redeems once: the same answer, nothing
    // taken; the same form with another amount is refused.
    const again = await page.request.post(`${app.base}/coins/redeem`, { form: { ...hidden, amount: '7', target: 'donation' }, maxRedirects: 0 });
    assert.equal(again.status(), 303, `the same redeem form sent again answered ${again.status()}: ${(await again.text()).slice(0, 300)}`);
    assert.equal(again.headers().location, `${COINS_PATH}?notice=redeemed`, 'the repeated form leads to the same notice');
    const changed = await page.request.post(`${app.base}/coins/redeem`, { form: { ...hidden, amount: '5', target: 'donation' }, maxRedirects: 0 });
    const changedBody = await changed.text();
    assert.equal(changed.status(), 422, `the used form with another amount answered ${changed.status()}: ${changedBody.slice(0, 300)}`);
    assert.ok(changedBody.includes('This form was already used for a different redemption. Please try again.'), 'the used form is refused as expired');
    await page.reload({ waitUntil: 'load' });
    await snap('after sending the form again');
    coins = await readCoins(page);
    assert.equal(coins.balance, 13, `still 13 after sending the form again ${await describePage(page)}`);
    assert.equal(coins.history.filter((r) => r.reason === 'redemption').length, 1, `still one redemption: ${JSON.stringify(coins.history)}`);

    // More than the balance: the form again with the error, nothing taken.
    const refused = await redeem(page, 100, 'partner_points', snap, 'redeem 100 refused');
    await assertLanded(page, refused, 422, '/coins/redeem', 'redeeming 100 of 13 coins');
    assert.equal(refused.status, 422);
    assert.equal(await textOf(page, '#redeem-error'), 'You do not have that many coins.');
    assert.equal(await page.locator('#redeem-error').getAttribute('role'), 'alert', '#redeem-error is an alert');
    assert.equal(await page.inputValue('#redeem-amount'), '100', 'the amount asked for is kept');
    coins = await readCoins(page);
    assert.equal(coins.balance, 13, `the refused redemption left the balance ${await describePage(page)}`);
    assert.equal(coins.notice, null, 'no success notice on a refusal');

    await openCoins(page, snap, 'coins after the refusal');
    coins = await readCoins(page);
    assert.equal(coins.balance, 13, `still 13 on /coins ${await describePage(page)}`);
    assert.equal(coins.history.filter((r) => r.reason === 'redemption').length, 1, `the refusal added no row: ${JSON.stringify(coins.history)}`);
    assert.equal(await page.locator('#redeem-error').count(), 0, 'no #redeem-error on a fresh /coins');
  });
});

test('coins: the policy page, from /coins and signed out; /coins needs signing in', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'coins-policy', displayName: 'Policy Reader' });
    await openCoins(page, snap, 'coins');
    assert.equal(await page.locator('#policy-link').getAttribute('href'), POLICY_PATH, '#policy-link points at the policy');
    assert.equal(await textOf(page, '#policy-link'), 'How coins are computed');
    const opened = await clickAndWait(page, '#policy-link', snap, 'policy from coins');
    await assertLanded(page, opened, 200, POLICY_PATH, '#policy-link');

    /** The policy page's parts, the same signed in and signed out. */
    async function checkPolicy(what) {
      assert.equal(await textOf(page, 'h1#page-title'), 'The reward policy', what);
      assert.match(await textOf(page, '#policy-version'), /\bv1\b/, `${what}: #policy-version names v1`);
      const rules = await page.locator('#policy-rules tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent.trim())),
      );
      assert.equal(rules.length, CATEGORY_COUNT, `${what}: #policy-rules lists every category: ${JSON.stringify(rules)}`);
      const weights = Object.fromEntries(rules.map(([label, weight]) => [label, weight]));
      assert.deepEqual(
        [weights.Residence, weights['Family structure'], weights['Daily mood']],
        ['20', '15', '2'],
        `${what}: the weights of residence, family structure and daily mood: ${JSON.stringify(rules)}`,
      );
      assert.equal(await textOf(page, '#breadth-bonus'), '10', `${what}: #breadth-bonus`);
      const versions = await page.locator('#policy-versions li').count();
      assert.ok(versions >= 1, `${what}: #policy-versions lists at least one version, lists ${versions}`);
    }
    await checkPolicy('signed in');

    await clickAndWait(page, '#signout', snap, 'signed out');
    const publicPolicy = await visit(page, app.base, POLICY_PATH, snap, 'policy signed out');
    assert.equal(publicPolicy.firstStatus, 200, `${POLICY_PATH} signed out answered ${publicPolicy.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), POLICY_PATH, 'the policy is public: no redirect');
    assert.equal(await page.locator('#signout').count(), 0, 'signed out');
    await checkPolicy('signed out');

    const wallet = await visit(page, app.base, COINS_PATH, snap, 'coins signed out');
    assert.equal(wallet.firstStatus, 303, `${COINS_PATH} signed out answered ${wallet.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), '/signin', `${COINS_PATH} signed out should redirect to /signin ${await describePage(page)}`);
    assert.equal(await page.locator('#coin-balance').count(), 0, 'no balance on the sign-in page');
  });
});

test('coins in Japanese', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'ja-coins', displayName: '山田 花子' });
    await entrust(page, 'residence', RESIDENCE, snap, 'residence');
    await openCoins(page, snap, 'coins en');
    const switched = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'coins ja');
    assert.equal(switched.firstStatus, 303, `GET /lang/ja answered ${switched.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), COINS_PATH, `the language switch should come back to ${COINS_PATH} ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja', `/coins is not in Japanese ${await describePage(page)}`);

    assert.equal(await textOf(page, 'h1#page-title'), 'コイン');
    assert.equal(await textOf(page, 'header #nav-coins'), 'コイン');
    assert.equal(await textOf(page, '#policy-link'), 'コインの計算方法');
    assert.equal(await textOf(page, '#balance-title'), '残高');
    assert.equal(await textOf(page, '#redeem-submit'), '交換する');
    assert.equal(await textOf(page, 'label[for="redeem-target"]'), '交換先');
    assert.deepEqual(
      await page.locator('#redeem-target option').evaluateAll((els) => els.map((o) => o.textContent.trim())),
      ['提携先ポイント', '寄付'],
      'the redeem targets in Japanese',
    );
    assert.equal(await textOf(page, '#history-title'), '履歴');

    const coins = await readCoins(page);
    assert.equal(coins.balance, 20, `the balance (ja) ${await describePage(page)}`);
    assert.equal(coins.history.length, 1, `one history row (ja): ${JSON.stringify(coins.history)}`);
    assert.equal(coins.history[0].explanation, RESIDENCE_EXPLAINED_JA, 'the entry explained in Japanese');
    assert.equal(coins.history[0].amount, '+20');

    const refused = await redeem(page, 100, 'donation', snap, 'redeem refused ja');
    await assertLanded(page, refused, 422, '/coins/redeem', 'redeeming 100 of 20 coins (ja)');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await textOf(page, '#redeem-error'), 'コインが足りません。');

    const policy = await visit(page, app.base, POLICY_PATH, snap, 'policy ja');
    assert.equal(policy.status, 200);
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await textOf(page, 'h1#page-title'), '報酬方針');
  });
});

test('operators see the company coins; citizens may not', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const company = randomUUID();
    const funded = await fundCompany(app, company, 300);
    assert.equal(funded.balance, 300, `infobank coins fund printed ${JSON.stringify(funded)}`);
    assert.equal(funded.company_id, company, `the funded company: ${JSON.stringify(funded)}`);

    const operator = uniqueEmail('coins-operator');
    await createStaff(app, 'operator', operator, PASSWORD);
    await signIn(page, app.base, { email: operator, password: PASSWORD }, snap, 'operator home');
    assert.equal(await page.locator('#nav-coins').count(), 0, `an operator has no citizen #nav-coins link ${await describePage(page)}`);
    assert.equal(await textOf(page, 'header #nav-operator-coins'), 'Company coins');
    await openOperatorCoins(page, snap, 'company coins');
    assert.equal(await textOf(page, 'h1#page-title'), 'Company coins');
    assert.equal(await page.locator('#companies-empty').count(), 0, `a funded company exists, so no #companies-empty ${await describePage(page)}`);

    const companies = await readCompanies(page);
    const row = companies[company];
    assert.ok(row, `no tr[data-company="${company}"] on ${OPERATOR_COINS_PATH}: ${JSON.stringify(companies)} ${await describePage(page)}`);
    assert.deepEqual([row.balance, row.reserved], [300, 0], `the company's balance and reserved coins: ${JSON.stringify(row)}`);
    assert.equal(row.href, `${OPERATOR_COINS_PATH}/${company}`, `the company's link: ${JSON.stringify(row)}`);

    const detail = await clickAndWait(page, `#company-coins tr[data-company="${company}"] a`, snap, 'company detail');
    await assertLanded(page, detail, 200, `${OPERATOR_COINS_PATH}/${company}`, "the company's link");
    assert.equal(await textOf(page, '#company-balance'), '300');
    assert.equal(await textOf(page, '#company-reserved'), '0');
    assert.equal(await textOf(page, '#reservations-empty'), 'No reservations.');
    assert.ok((await textOf(page, '#company-title')).includes(company), 'the detail names the company');

    // The citizen's wallet is not for operators.
    const wallet = await visit(page, app.base, COINS_PATH, snap, 'coins as operator');
    assert.equal(wallet.firstStatus, 403, `${COINS_PATH} as an operator answered ${wallet.firstStatus} ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'Not available to your role');
    await clickAndWait(page, '#signout', snap, 'operator signed out');

    // A citizen: no link, and 403 on the list and on a company.
    await citizenSignedIn(page, app.base, snap, { prefix: 'coins-nosy', displayName: 'Nosy Citizen' });
    assert.equal(await page.locator('#nav-operator-coins').count(), 0, `a citizen must not get #nav-operator-coins ${await describePage(page)}`);
    for (const [where, what] of [[OPERATOR_COINS_PATH, 'company coins'], [`${OPERATOR_COINS_PATH}/${company}`, 'company detail']]) {
      const res = await visit(page, app.base, where, snap, `${what} as citizen`);
      assert.equal(res.firstStatus, 403, `${where} as a citizen answered ${res.firstStatus}, expected 403 ${await describePage(page)}`);
      assert.equal(res.status, 403);
      assert.equal(pathOf(page), where, 'the refusal is not a redirect');
      assert.equal(await textOf(page, 'h1#page-title'), 'Not available to your role');
      assert.equal(await page.locator('#company-coins, #companies-empty, #company-balance').count(), 0, `the refusal shows nothing of the company coins ${await describePage(page)}`);
    }
    await clickAndWait(page, '#signout', snap, 'citizen signed out');

    const anonymous = await visit(page, app.base, OPERATOR_COINS_PATH, snap, 'company coins signed out');
    assert.equal(anonymous.firstStatus, 303, `${OPERATOR_COINS_PATH} signed out answered ${anonymous.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), '/signin', `${OPERATOR_COINS_PATH} signed out should redirect to /signin ${await describePage(page)}`);
  });
});
