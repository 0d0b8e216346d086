// Scenario 7: the regulator's audit-log pages. Regulators (and operators) are created with the
// CLI (`infobank admin create-regulator`, password on stdin) against the test server's data, then
// sign in through the portal like anyone. The log page shows the signed tree head, the
// regulator's checkpoint, a filter and the entries (newest first, 50 a page); every view of it
// is itself logged as `audit.read`. Nobody else may see it. From it, the regulator reconciles the
// log with the tables (`/regulator/reconciliation`).
//
// A new tree head is signed at most once a second, so a `#tree-size` that must have grown is read
// only after waiting HEAD_INTERVAL_MS.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import {
  PASSWORD,
  clickAndWait,
  describePage,
  htmlLang,
  pathOf,
  signUp,
  submitSignIn,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';
import { createStaff } from '../lib/staff.js';

const app = useApp();

const LOG_PATH = '/regulator/log';
const PAGE_SIZE = 50;
const HEAD_INTERVAL_MS = 1_200;
const ACTIONS = ['account.created', 'account.deleted', 'staff.signed_in', 'audit.read', 'record.created', 'record.updated', 'record.deleted', 'records.imported', 'data.exported', 'reward_policy.published', 'coins.paid', 'coins.funded', 'coins.reserved', 'coins.released', 'coins.redeemed', 'company.applied', 'company.status_changed', 'company.secret_rotated', 'offer.proposed', 'offer.reviewed', 'offer.declined', 'offer.decline_undone', 'consent.granted', 'consent.paused', 'consent.resumed', 'consent.revoked', 'consent.expired', 'data.disclosed', 'statistics.run'];
const FILTER_SUBMIT = 'main form[method="get"] button[type=submit]';
const ROOT_HASH = /^[A-Za-z0-9+/]{43}=$/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything the log page shows, read in one go. */
function readLogPage() {
  const text = (el) => (el ? el.textContent.trim().replace(/\s+/g, ' ') : null);
  const checkpoint = document.querySelector('#checkpoint');
  return {
    treeSize: text(document.querySelector('#tree-head #tree-size')),
    rootHash: text(document.querySelector('#tree-head code#root-hash')),
    checkpointStatus: checkpoint ? checkpoint.getAttribute('data-status') : null,
    checkpointMessage: text(document.querySelector('#checkpoint #checkpoint-message')),
    checkpointSize: text(document.querySelector('#checkpoint #checkpoint-size')),
    hasTable: !!document.querySelector('#log-table'),
    noEntries: text(document.querySelector('#no-entries')),
    older: document.querySelector('a#older')?.getAttribute('href') ?? null,
    newest: document.querySelector('a#newest')?.getAttribute('href') ?? null,
    rows: [...document.querySelectorAll('#log-table tbody tr[data-index]')].map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map(text);
      return {
        dataIndex: tr.getAttribute('data-index'),
        index: cells[0],
        time: cells[1],
        action: text(tr.querySelector('td.action')),
        actor: cells[3],
        company: cells[4],
        objects: cells[5],
      };
    }),
  };
}

/** The log page's state; also checks the parts every log page has. */
async function readLog(page) {
  const log = await page.evaluate(readLogPage);
  const where = await describePage(page);
  assert.match(log.treeSize ?? '', /^\d+$/, `#tree-size should be an integer, is ${JSON.stringify(log.treeSize)} ${where}`);
  assert.ok(['none', 'consistent', 'inconsistent'].includes(log.checkpointStatus), `#checkpoint[data-status] is ${JSON.stringify(log.checkpointStatus)} ${where}`);
  for (const row of log.rows) {
    assert.match(row.dataIndex, /^\d+$/, `a row's data-index is ${JSON.stringify(row.dataIndex)} ${where}`);
    assert.equal(row.index, row.dataIndex, `a row's first cell should be its index ${JSON.stringify(row)}`);
  }
  return {
    ...log,
    treeSize: Number(log.treeSize),
    checkpointSize: log.checkpointSize === null ? null : Number(log.checkpointSize),
    rows: log.rows.map((row) => ({ ...row, index: Number(row.dataIndex) })),
  };
}

/** The rows' indices must be strictly decreasing (newest first). */
function assertNewestFirst(rows, what) {
  for (let i = 1; i < rows.length; i += 1) {
    assert.ok(rows[i].index < rows[i - 1].index, `${what}: rows should be newest first, but index ${rows[i].index} follows ${rows[i - 1].index}`);
  }
}

/** Signs in at /signin and checks the landing on /home. */
async function signIn(page, email, password, snap, step) {
  await visit(page, app.base, '/signin', snap, `${step} form`);
  const res = await submitSignIn(page, { email, password }, snap, step);
  assert.equal(res.firstStatus, 303, `POST /signin as ${email} answered ${res.firstStatus}, expected 303 ${await describePage(page)}`);
  assert.equal(pathOf(page), '/home', `sign-in as ${email} did not land on /home ${await describePage(page)}`);
}

/** A new regulator (via the CLI) signed in on `page`. Resolves to { id, email }. */
async function regulatorSignedIn(page, snap, prefix = 'regulator') {
  const email = uniqueEmail(prefix);
  const { id } = await createStaff(app, 'regulator', email, PASSWORD);
  await signIn(page, email, PASSWORD, snap, 'regulator signed in');
  return { id, email };
}

/** Follows the header's #nav-audit link and checks that the log page opened. */
async function openLogFromNav(page, snap, step = 'audit log') {
  const nav = page.locator('header #nav-audit');
  assert.equal(await nav.count(), 1, `a signed-in regulator should have one header #nav-audit link ${await describePage(page)}`);
  assert.equal(await nav.getAttribute('href'), LOG_PATH, '#nav-audit points at the log page');
  const res = await clickAndWait(page, 'header #nav-audit', snap, step);
  assert.equal(res.firstStatus, 200, `GET ${LOG_PATH} answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), LOG_PATH, `#nav-audit did not lead to ${LOG_PATH} ${await describePage(page)}`);
  return res;
}

/** Signs up a citizen through the portal in a context of its own (someone else's browser). */
async function signUpElsewhere(account) {
  const context = await app.browser.newContext({ locale: 'en-US' });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signUp(page, app.base, account, null);
  } finally {
    await context.close();
  }
}

test('a regulator sees the audit log, without personal data', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const citizens = [
      { email: uniqueEmail('logcitizen'), displayName: 'Emmy Noether', password: PASSWORD },
      { email: uniqueEmail('logcitizen'), displayName: 'Srinivasa Ramanujan', password: PASSWORD },
    ];
    for (const citizen of citizens) await signUp(page, app.base, citizen, snap);

    const regulator = await regulatorSignedIn(page, snap);
    assert.equal(await textOf(page, 'header #nav-audit'), 'Audit log');
    // The page shows the latest *signed* head, and heads are signed at most once a second (the
    // server's background signer may have signed one a moment ago): wait that out first.
    await page.waitForTimeout(1200);
    await openLogFromNav(page, snap, 'audit log');
    assert.equal(await textOf(page, 'h1#page-title'), 'Audit log');

    const log = await readLog(page);
    assert.ok(log.treeSize >= 4, `#tree-size should count at least the two sign-ups, the regulator's creation and sign-in, is ${log.treeSize}`);
    assert.match(log.rootHash ?? '', ROOT_HASH, `#root-hash should be standard base64 of 32 bytes, is ${JSON.stringify(log.rootHash)}`);
    assert.equal(Buffer.from(log.rootHash, 'base64').length, 32, 'the root hash decodes to 32 bytes');
    assert.ok(log.hasTable, `no #log-table ${await describePage(page)}`);
    assertNewestFirst(log.rows, 'first view');

    const created = log.rows.filter((row) => row.action === 'account.created');
    assert.ok(created.length >= 3, `expected at least 3 account.created rows (two citizens, the regulator), found ${created.length}: ${JSON.stringify(log.rows)}`);
    assert.ok(
      created.some((row) => row.objects.includes(`account: ${regulator.id}`)),
      `no account.created row names the regulator's account ${regulator.id}: ${JSON.stringify(created)}`,
    );
    const signIns = log.rows.filter((row) => row.action === 'staff.signed_in');
    const own = signIns.find((row) => row.actor.startsWith('regulator '));
    assert.ok(own, `no staff.signed_in row with a "regulator …" actor: ${JSON.stringify(signIns)}`);
    assert.ok(
      signIns.some((row) => row.actor === `regulator ${regulator.id}`),
      `the regulator's own sign-in (actor "regulator ${regulator.id}") is missing: ${JSON.stringify(signIns)}`,
    );

    // Only ids and roles: no email address or name of the citizens, anywhere on the page.
    const shown = await page.evaluate(() => document.body.innerText);
    const html = await page.content();
    for (const { email, displayName } of citizens) {
      for (const [what, value] of [['email', email], ['display name', displayName]]) {
        assert.ok(!shown.includes(value), `the log page shows a citizen's ${what} ${JSON.stringify(value)}`);
        assert.ok(!html.includes(value), `the log page's HTML contains a citizen's ${what} ${JSON.stringify(value)}`);
      }
    }
    assert.ok(!html.includes(regulator.email), "the log page's HTML contains the regulator's email");

    // Reading the log is logged: after a new head may be signed, a reload shows a larger tree
    // whose newest entry is the previous view.
    await sleep(HEAD_INTERVAL_MS);
    const reloaded = await page.reload({ waitUntil: 'load' });
    await snap('audit log reloaded');
    assert.equal(reloaded.status(), 200, `reloading ${LOG_PATH} answered ${reloaded.status()}`);
    const again = await readLog(page);
    assert.ok(again.treeSize > log.treeSize, `#tree-size should grow when the log is read again: ${log.treeSize} → ${again.treeSize}`);
    const newest = again.rows[0];
    assert.ok(newest, `no rows after reloading ${await describePage(page)}`);
    assert.equal(newest.action, 'audit.read', `the newest row after a reload should be the earlier view: ${JSON.stringify(newest)}`);
    assert.equal(newest.actor, `regulator ${regulator.id}`, 'the audit.read entry names the reading regulator');
    assert.ok(newest.index > log.rows[0].index, `the newest index should grow: ${log.rows[0].index} → ${newest.index}`);
  });
});

test('the audit log filters by action and by company', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await signUp(page, app.base, { email: uniqueEmail('filter'), displayName: 'Lise Meitner', password: PASSWORD }, snap);
    await regulatorSignedIn(page, snap);
    await openLogFromNav(page, snap, 'audit log unfiltered');

    const options = await page.locator('select#action option').evaluateAll((els) => els.map((o) => o.value));
    assert.deepEqual(options, ['', ...ACTIONS], 'the action filter offers "any" and every action');
    assert.equal(await textOf(page, FILTER_SUBMIT), 'Apply');

    await page.selectOption('select#action', 'account.created');
    const filtered = await clickAndWait(page, FILTER_SUBMIT, snap, 'filtered account created');
    assert.equal(filtered.firstStatus, 200, `the filtered log answered ${filtered.firstStatus} ${await describePage(page)}`);
    const url = new URL(page.url());
    assert.equal(url.pathname, LOG_PATH, `the filter stays on ${LOG_PATH} ${await describePage(page)}`);
    assert.ok(url.search.includes('action=account.created'), `the URL should contain action=account.created: ${page.url()}`);
    assert.equal(await page.inputValue('select#action'), 'account.created', 'the select keeps the chosen action');
    const log = await readLog(page);
    assert.ok(log.rows.length >= 2, `expected the citizen's and the regulator's account.created rows, found ${log.rows.length} ${await describePage(page)}`);
    const others = log.rows.filter((row) => row.action !== 'account.created');
    assert.deepEqual(others, [], 'every row of the account.created filter is account.created');
    const cells = await page.locator('#log-table td.action').allTextContents();
    assert.ok(cells.every((c) => c.trim() === 'account.created'), `td.action cells: ${JSON.stringify(cells)}`);
    assertNewestFirst(log.rows, 'account.created filter');

    // A company that does not exist: nothing matches.
    const company = `no-such-company-${Date.now()}`;
    await page.selectOption('select#action', '');
    await page.fill('input#company', company);
    const none = await clickAndWait(page, FILTER_SUBMIT, snap, 'filtered unknown company');
    assert.equal(none.firstStatus, 200, `the company filter answered ${none.firstStatus} ${await describePage(page)}`);
    assert.equal(new URL(page.url()).searchParams.get('company'), company, `the URL should carry the company: ${page.url()}`);
    assert.ok(await page.locator('#no-entries').isVisible(), `no visible #no-entries for an unknown company ${await describePage(page)}`);
    assert.equal(await textOf(page, '#no-entries'), 'No entries match.');
    assert.equal(await page.locator('#log-table').count(), 0, 'no #log-table when nothing matches');
    assert.equal(await page.inputValue('input#company'), company, 'the company field keeps its value');
  });
});

test('the checkpoint: acknowledge a head, then the log grows consistently', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await regulatorSignedIn(page, snap, 'checkpoint');
    await openLogFromNav(page, snap, 'no checkpoint yet');

    let log = await readLog(page);
    assert.equal(log.checkpointStatus, 'none', `a new regulator has no checkpoint ${await describePage(page)}`);
    assert.equal(log.checkpointMessage, 'You have not acknowledged a tree head yet.');
    assert.equal(log.checkpointSize, null, 'no #checkpoint-size before acknowledging');
    assert.equal(await textOf(page, '#checkpoint form button#acknowledge'), 'Acknowledge this head');

    const ack = await clickAndWait(page, '#acknowledge', snap, 'acknowledged');
    assert.equal(ack.firstStatus, 303, `POST /regulator/checkpoint answered ${ack.firstStatus}, expected 303 ${await describePage(page)}`);
    assert.equal(pathOf(page), LOG_PATH, `acknowledging should come back to ${LOG_PATH} ${await describePage(page)}`);
    log = await readLog(page);
    assert.equal(log.checkpointStatus, 'consistent', `after acknowledging, the checkpoint should be consistent ${await describePage(page)}`);
    assert.ok(log.checkpointMessage?.startsWith('Consistent:'), `the message should start with "Consistent:", is ${JSON.stringify(log.checkpointMessage)}`);
    assert.ok(Number.isInteger(log.checkpointSize) && log.checkpointSize >= 1, `#checkpoint-size should be a positive integer, is ${log.checkpointSize}`);
    assert.ok(log.checkpointSize <= log.treeSize, `the acknowledged head (${log.checkpointSize}) cannot be larger than the tree (${log.treeSize})`);
    const acknowledged = log.checkpointSize;

    // Someone else signs up meanwhile; once a new head can be signed, it extends the checkpoint.
    await signUpElsewhere({ email: uniqueEmail('checkpoint-citizen'), displayName: 'Chien-Shiung Wu', password: PASSWORD });
    await sleep(HEAD_INTERVAL_MS);
    const reloaded = await page.reload({ waitUntil: 'load' });
    await snap('grown and still consistent');
    assert.equal(reloaded.status(), 200);
    log = await readLog(page);
    assert.equal(log.checkpointStatus, 'consistent', `the grown log should still be consistent with the checkpoint ${await describePage(page)}`);
    assert.ok(log.checkpointMessage?.startsWith('Consistent:'), `message: ${JSON.stringify(log.checkpointMessage)}`);
    assert.equal(log.checkpointSize, acknowledged, 'the acknowledged size stays until the next acknowledgement');
    assert.ok(log.treeSize > log.checkpointSize, `#tree-size (${log.treeSize}) should now be larger than #checkpoint-size (${log.checkpointSize})`);
  });
});

test('a regulator reconciles the log with the tables', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    // Something to reconcile besides the regulator's own account.
    await signUpElsewhere({ email: uniqueEmail('reconcile-citizen'), displayName: 'Emmy Noether', password: PASSWORD });
    await regulatorSignedIn(page, snap, 'reconcile');
    await openLogFromNav(page, snap, 'log before reconciling');
    const res = await clickAndWait(page, '#reconcile-link', snap, 'reconciliation');
    assert.equal(res.firstStatus, 200, `GET /regulator/reconciliation answered ${res.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), '/regulator/reconciliation', `#reconcile-link did not lead to the reconciliation ${await describePage(page)}`);
    assert.equal(await page.getAttribute('#reconciliation', 'data-mismatches'), '0', `a bank nobody tampered with reconciles ${await describePage(page)}`);
    assert.equal(await textOf(page, '#reconcile-message'), 'Consistent: every row has its leaf and every leaf its row.');
    assert.match(await textOf(page, '#rows'), /\b\d+ accounts\b/, 'the accounts it read are counted');
    assert.ok(Number(await textOf(page, '#leaves')) >= 2, 'it read the leaves');
    assert.equal(await page.locator('#mismatch-table').count(), 0, 'no mismatch table when there is nothing to show');
  });
});

test('the audit log is only for regulators', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    // Not signed in: sent to sign in.
    const anonymous = await visit(page, app.base, LOG_PATH, snap, 'log signed out');
    assert.equal(anonymous.firstStatus, 303, `${LOG_PATH} signed out answered ${anonymous.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), '/signin', `${LOG_PATH} signed out should redirect to /signin ${await describePage(page)}`);

    // A citizen: no link, and 403 when typing the address.
    const email = uniqueEmail('nosy');
    await signUp(page, app.base, { email, displayName: 'Nosy Parker', password: PASSWORD }, snap);
    await signIn(page, email, PASSWORD, snap, 'citizen home');
    assert.equal(await page.locator('#nav-audit').count(), 0, `a citizen must not get a #nav-audit link ${await describePage(page)}`);
    const citizen = await visit(page, app.base, LOG_PATH, snap, 'log as citizen');
    assert.equal(citizen.firstStatus, 403, `${LOG_PATH} as a citizen answered ${citizen.firstStatus}, expected 403 ${await describePage(page)}`);
    assert.equal(citizen.status, 403);
    assert.equal(pathOf(page), LOG_PATH, 'the refusal is not a redirect');
    assert.equal(await textOf(page, 'h1#page-title'), 'Not available to your role');
    assert.equal(await page.locator('#log-table, #tree-head, #checkpoint').count(), 0, `the refusal page shows nothing of the log ${await describePage(page)}`);

    // A citizen with a valid CSRF token still may not acknowledge anything.
    const token = (await context.cookies(app.base)).find((c) => c.name === 'infobank_csrf')?.value;
    assert.ok(token, 'no infobank_csrf cookie for the signed-in citizen');
    const citizenPost = await page.request.post(`${app.base}/regulator/checkpoint`, { form: { csrf_token: token }, maxRedirects: 0 });
    const citizenBody = await citizenPost.text();
    assert.equal(citizenPost.status(), 403, `POST /regulator/checkpoint as a citizen answered ${citizenPost.status()}: ${citizenBody.slice(0, 300)}`);
    assert.match(citizenBody, /<h1 id="page-title">\s*Not available to your role\s*<\/h1>/, 'the citizen is told the page is not for their role');

    // Signed out again: back to the redirect.
    await clickAndWait(page, '#signout', snap, 'citizen signed out');
    const out = await visit(page, app.base, LOG_PATH, snap, 'log after sign-out');
    assert.equal(out.firstStatus, 303, `${LOG_PATH} after signing out answered ${out.firstStatus}`);
    assert.equal(pathOf(page), '/signin', `${LOG_PATH} after signing out should redirect to /signin ${await describePage(page)}`);

    // An operator is staff, but not a regulator.
    const operatorEmail = uniqueEmail('operator');
    await createStaff(app, 'operator', operatorEmail, PASSWORD);
    await signIn(page, operatorEmail, PASSWORD, snap, 'operator home');
    assert.equal(await page.locator('#nav-audit').count(), 0, `an operator must not get a #nav-audit link ${await describePage(page)}`);
    const operator = await visit(page, app.base, LOG_PATH, snap, 'log as operator');
    assert.equal(operator.firstStatus, 403, `${LOG_PATH} as an operator answered ${operator.firstStatus}, expected 403 ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'Not available to your role');
    await clickAndWait(page, '#signout', snap, 'operator signed out');

    // A regulator's acknowledgement without the CSRF token is refused and changes nothing.
    await regulatorSignedIn(page, snap, 'csrf-regulator');
    const noToken = await page.request.post(`${app.base}/regulator/checkpoint`, { form: { acknowledge: '1' }, maxRedirects: 0 });
    const noTokenBody = await noToken.text();
    assert.equal(noToken.status(), 403, `POST /regulator/checkpoint without csrf_token answered ${noToken.status()}: ${noTokenBody.slice(0, 300)}`);
    assert.match(noTokenBody, /<h1 id="page-title">\s*This form has expired\s*<\/h1>/, 'the refusal says the form has expired');
    await openLogFromNav(page, snap, 'log after refused acknowledgement');
    const log = await readLog(page);
    assert.equal(log.checkpointStatus, 'none', `a refused acknowledgement must not record a checkpoint ${await describePage(page)}`);
  });
});

test('the audit log in Japanese', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await regulatorSignedIn(page, snap, 'ja-regulator');
    await openLogFromNav(page, snap, 'audit log en');
    assert.equal(await textOf(page, 'h1#page-title'), 'Audit log');

    const switched = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'audit log ja');
    assert.equal(switched.firstStatus, 303, `GET /lang/ja answered ${switched.firstStatus}, expected a 303 redirect`);
    assert.equal(switched.status, 200);
    assert.equal(pathOf(page), LOG_PATH, `the language switch should come back to ${LOG_PATH} ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja', `the log page is not in Japanese ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), '監査ログ');
    assert.equal(await textOf(page, '#acknowledge'), 'このツリーヘッドを確認済みにする');
    assert.equal(await textOf(page, 'header #nav-audit'), '監査ログ');
    const log = await readLog(page);
    assert.ok(log.rows.length > 0, 'the Japanese page shows the entries too');
    assert.ok(ACTIONS.includes(log.rows[0].action), `action names are not translated: ${JSON.stringify(log.rows[0])}`);
  });
});

test('the audit log pages by 50, newest first', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await regulatorSignedIn(page, snap, 'pager');
    await openLogFromNav(page, snap, 'audit log before filling');

    // Every view appends an audit.read entry: 55 more views make more than a page.
    for (let i = 0; i < PAGE_SIZE + 5; i += 1) {
      const res = await page.request.get(app.base + LOG_PATH, { maxRedirects: 0 });
      assert.equal(res.status(), 200, `view ${i + 1} of ${LOG_PATH} answered ${res.status()}`);
      await res.dispose();
    }

    await visit(page, app.base, LOG_PATH, snap, 'first page');
    const first = await readLog(page);
    assert.equal(first.rows.length, PAGE_SIZE, `the first page should have exactly ${PAGE_SIZE} rows, has ${first.rows.length}`);
    assertNewestFirst(first.rows, 'first page');
    assert.equal(first.newest, null, 'the first page has no #newest link');
    const last = first.rows[first.rows.length - 1].index;
    assert.equal(first.older, `${LOG_PATH}?before=${last}`, `a#older should point at ?before=<last index ${last}>`);
    assert.equal(await textOf(page, 'a#older'), 'Older entries');

    const older = await clickAndWait(page, 'a#older', snap, 'older page');
    assert.equal(older.firstStatus, 200, `the older page answered ${older.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), `${LOG_PATH}?before=${last}`);
    const second = await readLog(page);
    assert.ok(second.rows.length > 0, `the older page should have rows ${await describePage(page)}`);
    assert.ok(second.rows.length <= PAGE_SIZE, `at most ${PAGE_SIZE} rows a page, found ${second.rows.length}`);
    assertNewestFirst(second.rows, 'older page');
    const notOlder = second.rows.filter((row) => row.index >= last);
    assert.deepEqual(notOlder, [], `every row of the older page must have an index below ${last}`);
    assert.equal(second.newest, LOG_PATH, 'pages after the first link back to the newest entries');
    if (second.rows.length < PAGE_SIZE) {
      assert.equal(second.older, null, 'a page that is not full has no a#older link');
    }

    const back = await clickAndWait(page, 'a#newest', snap, 'newest again');
    assert.equal(back.firstStatus, 200);
    assert.equal(pathOf(page), LOG_PATH);
    const again = await readLog(page);
    assert.equal(again.rows.length, PAGE_SIZE, 'the newest page is full again');
    assert.ok(again.rows[0].index > first.rows[0].index, 'the newest page starts after the earlier first page (its views were logged)');
  });
});
