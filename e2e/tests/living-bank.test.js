// A living bank: `infobank serve --demo` seeds a bank on first run and prints one sign-in per role.
// The test signs in as each of the four roles with exactly what was printed, checks every
// dashboard's figures against the API, saves a screenshot of each dashboard into docs/, and walks
// every page of every role in Japanese and English looking for catalogue keys and internal codes
// shown as text.
//
// Always on SQLite: the demo seeds only an empty database, and the PostgreSQL database of the
// e2e run is shared by every test file.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { E2E_DIR, useApp, withPage } from '../lib/server.js';
import { describePage, signIn, visit } from '../lib/portal.js';
import { apiGet, companySignedIn, companyToken } from '../lib/consent.js';

const app = useApp({ args: ['--demo'], sqlite: true, readyTimeoutMs: 180_000 });
const SCREENSHOTS = path.resolve(E2E_DIR, '../docs/screenshots');

/** The sign-ins `serve --demo` printed: { citizen: [email, password], company: [id, secret], … }. */
function printedSignIns() {
  const out = app.server.stdout();
  const signIns = {};
  for (const m of out.matchAll(/^ {2}(citizen|company|operator|regulator)\s+(\S+)\s+(\S+)\s+at\s/gm)) {
    signIns[m[1]] = [m[2], m[3]];
  }
  assert.deepEqual(Object.keys(signIns).sort(), ['citizen', 'company', 'operator', 'regulator'], `the demo printed:\n${out}`);
  assert.match(out, /demo bank seeded in [\d.]+ s: 200 citizens/, `the demo printed:\n${out}`);
  return signIns;
}

async function apiToken(email, password) {
  const res = await fetch(`${app.base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `login as ${email}: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function getJson(token, p) {
  const res = await apiGet(app.base, token, p);
  assert.equal(res.status, 200, `GET ${p}: ${res.raw.slice(0, 300)}`);
  return res.body;
}

/** Every page of a list API that pages with `?before=<id>` (200 per page). */
async function allPages(token, p) {
  const all = [];
  let before = null;
  for (;;) {
    const page = await getJson(token, before ? `${p}?before=${before}` : p);
    all.push(...page);
    if (page.length < 200) return all;
    before = page[page.length - 1].id;
  }
}

const number = async (page, selector) => {
  const text = await page.locator(selector).first().textContent();
  return Number(text.trim());
};

async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// ---- the catalogue scan -------------------------------------------------------------------

/** `section.key` of every message, and the codes that must never show on a Japanese page. */
function catalogue() {
  const text = readFileSync(path.resolve(E2E_DIR, '../crates/web/locales/en.toml'), 'utf8');
  const keys = new Set();
  const codes = new Set();
  let section = '';
  for (const line of text.split('\n')) {
    const head = line.match(/^\[([a-z_]+)\]$/);
    if (head) section = head[1];
    const entry = line.match(/^([A-Za-z_0-9]+) = /);
    if (entry) {
      keys.add(`${section}.${entry[1]}`);
      // Values shown by code somewhere in the bank: choices, relations, statuses, reasons.
      // (Brands and ISO currency codes are the same in both languages.)
      if (['option', 'company_status', 'offer_status', 'refusal', 'merchant'].includes(section) && !['visa', 'jcb', 'mastercard', 'JPY', 'USD', 'EUR'].includes(entry[1])) {
        codes.add(entry[1]);
      }
    }
  }
  for (const status of ['active', 'paused', 'revoked', 'expired', 'pending_review']) codes.add(status);
  return { keys, codes };
}

/** The codes that appear as words of `text` (not inside a URL, an address or a file name). */
function codesIn(text, codes) {
  return text
    .split(/\s+/)
    .filter((word) => !/[.@:/]/.test(word))
    .flatMap((word) => word.match(/[A-Za-z_]+/g) ?? [])
    .filter((token) => codes.has(token));
}

/** The visible text of <main>, without code samples and form fields. */
function visibleText(page) {
  return page.evaluate(() => {
    const skip = new Set(['CODE', 'PRE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'INPUT', 'SELECT']);
    const main = document.querySelector('main');
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        for (let el = node.parentElement; el && el !== main; el = el.parentElement) {
          if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    const parts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) parts.push(n.textContent);
    return parts.join(' ');
  });
}

/**
 * Visits each path in `lang` and fails on any catalogue key shown as text; on Japanese pages
 * also on any internal code shown as a word (except on the pages that show the log's raw
 * leaves or a receipt's JSON, by design for now).
 */
async function scan(page, lang, paths, { keys, codes }, problems) {
  const switched = await visit(page, app.base, `/lang/${lang}?next=/home`);
  assert.equal(switched.status, 200, `switching to ${lang} ${await describePage(page)}`);
  for (const p of paths) {
    const res = await visit(page, app.base, p);
    assert.equal(res.status, 200, `GET ${p} in ${lang} answered ${res.status} ${await describePage(page)}`);
    assert.equal(await page.getAttribute('html', 'lang'), lang, `${p} is not in ${lang}`);
    const text = await visibleText(page);
    for (const m of text.matchAll(/\b[a-z_]+\.[a-z_0-9]+\b/g)) {
      if (keys.has(m[0])) problems.push(`${lang} ${p}: catalogue key "${m[0]}" shown as text`);
    }
    const raw = p.startsWith('/regulator/log') || p.endsWith('/receipt');
    if (lang === 'ja' && !raw) {
      for (const code of codesIn(text, codes)) problems.push(`ja ${p}: code "${code}" shown as text`);
    }
  }
}

/** The links in the navigation and on the page that stay within the portal, once each. */
async function portalLinks(page) {
  return page.evaluate(() => [
    ...new Set(
      [...document.querySelectorAll('header nav a[href^="/"], main a[href^="/"]')]
        .map((a) => a.getAttribute('href'))
        .filter((h) => !h.startsWith('/lang/') && !h.startsWith('/api/') && !h.endsWith('/evidence') && !h.includes('/export')),
    ),
  ]);
}

test('serve --demo: four roles sign in with what it printed, and each dashboard agrees with the API', async (t) => {
  const signIns = printedSignIns();
  const cat = catalogue();
  const problems = [];

  // The citizen.
  await withPage(app, t, async ({ page, snap }) => {
    const [email, password] = signIns.citizen;
    await signIn(page, app.base, { email, password }, snap, 'citizen signed in');
    const token = await apiToken(email, password);
    const wallet = await getJson(token, '/api/v1/me/coins');
    assert.equal(await number(page, '#dash-balance'), wallet.balance, 'the balance is the wallet API\'s');
    const consents = await getJson(token, '/api/v1/me/consents');
    const live = consents.filter((c) => ['active', 'paused'].includes(c.status));
    assert.ok(live.length >= 3, `the printed citizen has live consents: ${consents.length}`);
    assert.equal(await number(page, '#dash-live'), live.length, 'live consents');
    const next = live.map((c) => c.expires_at).sort()[0].slice(0, 10);
    assert.match(await page.textContent('#dash-next-expiry'), new RegExp(next), 'the next expiry is the soonest live one');
    const open = await getJson(token, '/api/v1/offers');
    const decided = new Set(consents.map((c) => c.offer_id));
    assert.equal(await number(page, '#dash-waiting'), open.filter((o) => !decided.has(o.id)).length, 'offers waiting');
    const notices = await getJson(token, '/api/v1/me/notices');
    assert.ok(notices.unread >= 2, `the demo reminds the printed citizen (90 days, expiring soon): ${JSON.stringify(notices)}`);
    assert.equal(await number(page, '#nav-unread'), notices.unread, 'the unread count in the navigation');
    const kinds = new Set(notices.notices.map((n) => n.kind));
    assert.ok(kinds.has('consent_review') && kinds.has('consent_expiring'), `notice kinds ${[...kinds]}`);
    const exported = await getJson(token, '/api/v1/me/export');
    assert.equal(await number(page, '#dash-records'), exported.records.length, 'entrusted records are the export\'s');
    const disclosures = await getJson(token, '/api/v1/me/disclosures');
    assert.equal(await page.locator('#dash-disclosures li').count(), Math.min(5, disclosures.length), 'latest disclosures');
    assert.equal(await page.locator('#dash-consents button[data-action=revoke]').count(), Math.min(5, live.length), 'one click to revoke each');
    await screenshot(page, 'dashboard-citizen');
    const paths = ['/home', ...(await portalLinks(page))];
    await visit(page, app.base, '/data');
    paths.push(...(await portalLinks(page)));
    await visit(page, app.base, '/offers');
    paths.push(...(await portalLinks(page)));
    await visit(page, app.base, '/consents');
    paths.push(...(await portalLinks(page)));
    const unique = [...new Set(paths)];
    for (const lang of ['ja', 'en']) await scan(page, lang, unique, cat, problems);
  });

  // The company.
  await withPage(app, t, async ({ page, snap }) => {
    const [clientId, clientSecret] = signIns.company;
    await companySignedIn(page, app.base, { clientId, clientSecret }, snap);
    const token = await companyToken(app.base, { clientId, clientSecret });
    const coins = await getJson(token, '/api/v1/companies/me/coins');
    assert.equal(await number(page, '#company-balance'), coins.balance, 'coins available');
    assert.equal(await number(page, '#company-reserved'), coins.reserved, 'coins in escrow');
    assert.equal(await number(page, '#company-paid'), coins.rewards_paid, 'rewards paid');
    assert.ok(coins.rewards_paid > 0, 'the demo retailer has paid rewards');
    const held = await allPages(token, '/api/v1/consents');
    for (const status of ['active', 'paused', 'revoked', 'expired']) {
      assert.equal(await number(page, `#company-consents dd[data-status=${status}]`), held.filter((c) => c.status === status).length, `${status} consents`);
    }
    const uses = held.reduce((sum, c) => sum + c.uses, 0);
    const perMonth = await page.$$eval('#chart-activity-table tbody tr', (rows) => rows.map((r) => Number(r.querySelectorAll('td')[1].textContent)));
    assert.equal(perMonth.reduce((a, b) => a + b, 0), uses, 'disclosures over time add up to the consents\' uses');
    await screenshot(page, 'dashboard-company');
    for (const lang of ['ja', 'en']) {
      await visit(page, app.base, `/lang/${lang}?next=/company`);
      const text = await visibleText(page);
      for (const m of text.matchAll(/\b[a-z_]+\.[a-z_0-9]+\b/g)) {
        if (cat.keys.has(m[0])) problems.push(`${lang} /company: catalogue key "${m[0]}"`);
      }
      if (lang === 'ja') {
        for (const code of codesIn(text, cat.codes)) problems.push(`ja /company: code "${code}"`);
      }
    }
  });

  // The operator.
  await withPage(app, t, async ({ page, snap }) => {
    const [email, password] = signIns.operator;
    await signIn(page, app.base, { email, password }, snap, 'operator signed in');
    const token = await apiToken(email, password);
    const applied = await getJson(token, '/api/v1/companies?status=applied');
    const pending = await getJson(token, '/api/v1/operator/offers');
    assert.equal(await number(page, '#queue-companies'), applied.length, 'companies waiting for vetting');
    assert.equal(await number(page, '#queue-offers'), pending.length, 'offers waiting for review');
    assert.ok(applied.length === 1 && pending.length === 1, 'the demo leaves one of each in the queues');
    await screenshot(page, 'dashboard-operator');
    const paths = ['/home', ...(await portalLinks(page))];
    for (const lang of ['ja', 'en']) await scan(page, lang, [...new Set(paths)], cat, problems);
  });

  // The regulator.
  await withPage(app, t, async ({ page, snap }) => {
    const [email, password] = signIns.regulator;
    await signIn(page, app.base, { email, password }, snap, 'regulator signed in');
    await visit(page, app.base, '/regulator', snap, 'oversight dashboard');
    const token = await apiToken(email, password);
    const report = await getJson(token, '/api/v1/audit/statistics');
    for (const [action, n] of Object.entries(report.totals)) {
      assert.equal(await number(page, `[data-total="${action}"] .figure`), n, `total ${action}`);
    }
    const refusals = Object.values(report.refusals_by_reason).reduce((a, b) => a + b, 0);
    assert.ok(refusals > 0, 'the demo has refused fetches');
    assert.equal(await number(page, '[data-total="refusals"] .figure'), refusals, 'refusals');
    assert.equal(await number(page, '[data-total="quota_hits"] .figure'), report.quota_hits, 'quota hits');
    const months = await page.$$eval('#chart-consents-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-key')));
    assert.deepEqual(months, report.months.map((m) => m.month), 'the trend covers the report\'s months');
    for (const company of report.companies) {
      const row = page.locator(`#oversight-companies tr[data-company="${company.legal_name}"] td.num`);
      assert.equal(Number(await row.nth(3).textContent()), company.counts['data.disclosed'], `${company.legal_name} disclosures`);
    }
    const bundle = await fetch(`${app.base}/api/v1/audit/evidence`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(bundle.status, 200);
    assert.equal(bundle.headers.get('content-type'), 'application/x-tar');
    await screenshot(page, 'dashboard-regulator');
    const paths = ['/home', '/regulator', ...(await portalLinks(page))];
    for (const lang of ['ja', 'en']) await scan(page, lang, [...new Set(paths)], cat, problems);
  });

  assert.deepEqual(problems, [], `untranslated text:\n${problems.join('\n')}`);
});
