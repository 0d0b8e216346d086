// Page helpers for the coin pages: the citizen's /coins (balance `#coin-balance[data-balance]`,
// the server-drawn SVG chart `svg#coins-chart > g.bar[data-month][data-total]`, the numbers
// behind it in `#chart-table`, the history `#coin-history tbody tr[data-reason]` with each
// entry's `.explanation` and `td.amount`, and the redeem form), the public policy page
// /coins/policy, the operator's /operator/coins, and `infobank coins fund` through the CLI.

import assert from 'node:assert/strict';
import { clickAndWait, describePage, pathOf } from './portal.js';
import { runCli } from './staff.js';

export const COINS_PATH = '/coins';
export const POLICY_PATH = '/coins/policy';
export const OPERATOR_COINS_PATH = '/operator/coins';


/** The current calendar month in UTC as `YYYY-MM` (the server counts months in UTC). */
export function currentMonth(now = new Date()) {
  return now.toISOString().slice(0, 7);
}

/** Follows the header's #nav-coins link and checks that /coins opened. */
export async function openCoins(page, snap, step = 'coins') {
  const nav = page.locator('header #nav-coins');
  assert.equal(await nav.count(), 1, `a signed-in citizen should have one header #nav-coins link ${await describePage(page)}`);
  assert.equal(await nav.getAttribute('href'), COINS_PATH, '#nav-coins points at /coins');
  const res = await clickAndWait(page, 'header #nav-coins', snap, step);
  assert.equal(res.firstStatus, 200, `GET /coins answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), COINS_PATH, `#nav-coins did not lead to /coins ${await describePage(page)}`);
  return res;
}

/** Everything the coins page shows, read in one go (runs in the page). */
function readCoinsPage() {
  const text = (el) => (el ? el.textContent.trim().replace(/\s+/g, ' ') : null);
  const balance = document.querySelector('#coin-balance');
  return {
    balance: balance ? balance.getAttribute('data-balance') : null,
    balanceText: text(balance),
    notice: text(document.querySelector('.notice[role=status]')),
    error: text(document.querySelector('#redeem-error')),
    historyEmpty: text(document.querySelector('#history-empty')),
    hasHistory: !!document.querySelector('#coin-history'),
    chartRole: document.querySelector('svg#coins-chart')?.getAttribute('role') ?? null,
    bars: [...document.querySelectorAll('svg#coins-chart g.bar')].map((g) => ({
      month: g.getAttribute('data-month'),
      total: g.getAttribute('data-total'),
      titles: [...g.querySelectorAll('rect > title')].map(text),
    })),
    chartRows: [...document.querySelectorAll('#chart-table tbody tr[data-month]')].map((tr) => ({
      month: tr.getAttribute('data-month'),
      total: text(tr.querySelector('td.total')),
      lastCellIsTotal: tr.lastElementChild?.matches('td.total') ?? false,
    })),
    history: [...document.querySelectorAll('#coin-history tbody tr[data-reason]')].map((tr) => ({
      reason: tr.getAttribute('data-reason'),
      entry: tr.getAttribute('data-entry'),
      explanation: text(tr.querySelector('.explanation')),
      amount: text(tr.querySelector('td.amount')),
    })),
  };
}

/**
 * The coins page's state: { balance (number), balanceText, notice, error, historyEmpty,
 * hasHistory, chartRole, bars: [{ month, total (number), titles }], chartRows: [{ month, total
 * (number) }], history: [{ reason, entry, explanation, amount }] }. Checks that the balance and
 * the chart's numbers are integers.
 */
export async function readCoins(page) {
  const state = await page.evaluate(readCoinsPage);
  const where = await describePage(page);
  assert.match(state.balance ?? '', /^-?\d+$/, `#coin-balance[data-balance] should be an integer, is ${JSON.stringify(state.balance)} ${where}`);
  for (const bar of state.bars) {
    assert.match(bar.month ?? '', /^\d{4}-\d{2}$/, `a g.bar's data-month is ${JSON.stringify(bar.month)} ${where}`);
    assert.match(bar.total ?? '', /^\d+$/, `g.bar[data-month="${bar.month}"] has data-total ${JSON.stringify(bar.total)} ${where}`);
  }
  for (const row of state.chartRows) {
    assert.ok(row.lastCellIsTotal, `the last cell of #chart-table's ${row.month} row should be td.total ${where}`);
    assert.match(row.total ?? '', /^\d+$/, `#chart-table's ${row.month} total is ${JSON.stringify(row.total)} ${where}`);
  }
  return {
    ...state,
    balance: Number(state.balance),
    bars: state.bars.map((bar) => ({ ...bar, total: Number(bar.total) })),
    chartRows: state.chartRows.map(({ month, total }) => ({ month, total: Number(total) })),
  };
}

/** The balance /coins (or the re-rendered redeem form) shows. */
export async function balanceOf(page) {
  return (await readCoins(page)).balance;
}

/** Fills the redeem form and clicks #redeem-submit; returns clickAndWait's { firstStatus, status }. */
export async function redeem(page, amount, target, snap, step = `redeem ${amount} for ${target}`) {
  await page.fill('#redeem-amount', String(amount));
  await page.selectOption('#redeem-target', target);
  return clickAndWait(page, '#redeem-submit', snap, step);
}

/** Follows the header's #nav-operator-coins link and checks that /operator/coins opened. */
export async function openOperatorCoins(page, snap, step = 'company coins') {
  const nav = page.locator('header #nav-operator-coins');
  assert.equal(await nav.count(), 1, `a signed-in operator should have one header #nav-operator-coins link ${await describePage(page)}`);
  assert.equal(await nav.getAttribute('href'), OPERATOR_COINS_PATH, '#nav-operator-coins points at /operator/coins');
  const res = await clickAndWait(page, 'header #nav-operator-coins', snap, step);
  assert.equal(res.firstStatus, 200, `GET ${OPERATOR_COINS_PATH} answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), OPERATOR_COINS_PATH, `#nav-operator-coins did not lead to ${OPERATOR_COINS_PATH} ${await describePage(page)}`);
  return res;
}

/** The rows of #company-coins: { companyId → { balance, reserved, href } } (numbers; href of the row's link). */
export async function readCompanies(page) {
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll('#company-coins tbody tr[data-company]')].map((tr) => ({
      id: tr.getAttribute('data-company'),
      balance: tr.querySelector('td.balance')?.textContent.trim() ?? null,
      reserved: tr.querySelector('td.reserved')?.textContent.trim() ?? null,
      href: tr.querySelector('a')?.getAttribute('href') ?? null,
    })),
  );
  const byId = {};
  for (const row of rows) {
    assert.ok(!(row.id in byId), `company ${row.id} is listed twice on ${OPERATOR_COINS_PATH}`);
    assert.match(row.balance ?? '', /^\d+$/, `company ${row.id} has no integer td.balance: ${JSON.stringify(row)}`);
    assert.match(row.reserved ?? '', /^\d+$/, `company ${row.id} has no integer td.reserved: ${JSON.stringify(row)}`);
    byId[row.id] = { ...row, balance: Number(row.balance), reserved: Number(row.reserved) };
  }
  return byId;
}

export { runCli };

/**
 * Credits a company's coin account: `infobank coins fund <companyId> <amount>`. Resolves to the
 * JSON the command prints ({ entry_id, company_id, amount, balance, … }).
 */
export async function fundCompany(app, companyId, amount) {
  const { stdout, stderr } = await runCli(app, ['coins', 'fund', companyId, String(amount)]);
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw new Error(`infobank coins fund ${companyId} ${amount} did not print JSON (${err.message})\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
}
