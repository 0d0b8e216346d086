// Page helpers for the infobank portal: navigation that reports statuses, form submission,
// and short page descriptions for assertion messages.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const PASSWORD = 'correct horse battery staple';

/** An email address unique to this run, e.g. `signup-1732528000000-a1b2c3@example.com`. */
export function uniqueEmail(prefix = 'user', domain = 'example.com') {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}@${domain}`;
}

/** "URL + h1 + start of main" of the current page, for assertion messages. */
export async function describePage(page) {
  const url = page.url();
  const info = await page
    .evaluate(() => ({
      lang: document.documentElement.getAttribute('lang'),
      h1: document.querySelector('h1#page-title')?.textContent.trim().replace(/\s+/g, ' ') ?? '(no h1#page-title)',
      main: (document.querySelector('main')?.innerText ?? document.body?.innerText ?? '').trim().replace(/\s+/g, ' ').slice(0, 400),
    }))
    .catch((err) => ({ lang: '?', h1: '?', main: `(could not read page: ${err.message})` }));
  return `[at ${url} | html lang=${info.lang} | h1: ${info.h1} | main: ${info.main}]`;
}

/** The path (plus query) of the page's current URL. */
export function pathOf(page) {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

/** The status of the first response of a redirect chain ending in `response`. */
export async function firstStatus(response) {
  let request = response.request();
  while (request.redirectedFrom()) request = request.redirectedFrom();
  const first = await request.response();
  return first ? first.status() : response.status();
}

/** Navigates to `path`, takes a screenshot, returns { status, firstStatus, response }. */
export async function visit(page, base, path, snap, step) {
  const response = await page.goto(base + path, { waitUntil: 'load' });
  assert.ok(response, `no response for GET ${path}`);
  if (snap) await snap(step ?? `visit ${path}`);
  return { status: response.status(), firstStatus: await firstStatus(response), response };
}

/**
 * Clicks `selector` (a submit button or link) and waits for the navigation it starts, through
 * any redirects. Returns { firstStatus, status, response }: `firstStatus` is the answer to the
 * click itself (e.g. 303 for a POST that redirects, 422 for a re-rendered form), `status` is the
 * final document's.
 */
export async function clickAndWait(page, selector, snap, step) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
  assert.ok(response, `clicking ${selector} gave no navigation response ${await describePage(page)}`);
  if (snap) await snap(step ?? `after ${selector}`);
  return { status: response.status(), firstStatus: await firstStatus(response), response };
}

/** The submit button of the page's main form. */
export const SUBMIT = 'main form button[type=submit]';

/** Text content of `selector`, whitespace collapsed; fails clearly when it is missing. */
export async function textOf(page, selector) {
  const locator = page.locator(selector);
  const count = await locator.count();
  assert.equal(count, 1, `expected exactly one ${selector}, found ${count} ${await describePage(page)}`);
  return (await locator.textContent()).trim().replace(/\s+/g, ' ');
}

export async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.getAttribute('lang'));
}

/** Fills and submits the sign-up form (the page must show it). */
export async function submitSignUp(page, { email, displayName, password }, snap, step = 'signup submitted') {
  await page.fill('#email', email);
  await page.fill('#display_name', displayName);
  await page.fill('#password', password);
  return clickAndWait(page, SUBMIT, snap, step);
}

/** Fills and submits the sign-in form (the page must show it). */
export async function submitSignIn(page, { email, password }, snap, step = 'signin submitted') {
  await page.fill('#email', email);
  await page.fill('#password', password);
  return clickAndWait(page, SUBMIT, snap, step);
}

/** Goes to /signup, creates the account and checks the redirect to the sign-in notice. */
export async function signUp(page, base, account, snap) {
  const form = await visit(page, base, '/signup', snap, 'signup form');
  assert.equal(form.status, 200, `GET /signup answered ${form.status} ${await describePage(page)}`);
  const res = await submitSignUp(page, account, snap);
  assert.equal(res.firstStatus, 303, `POST /signup answered ${res.firstStatus}, expected 303 ${await describePage(page)}`);
  assert.equal(pathOf(page), '/signin?notice=registered', `sign-up did not land on the sign-in notice ${await describePage(page)}`);
  return res;
}

/** Signs in at /signin and checks the landing on /home. */
export async function signIn(page, base, { email, password }, snap, step = 'signed in') {
  const form = await visit(page, base, '/signin', snap, `${step} form`);
  assert.equal(form.status, 200, `GET /signin answered ${form.status} ${await describePage(page)}`);
  const res = await submitSignIn(page, { email, password }, snap, step);
  assert.equal(res.firstStatus, 303, `POST /signin as ${email} answered ${res.firstStatus}, expected 303 ${await describePage(page)}`);
  assert.equal(pathOf(page), '/home', `sign-in as ${email} did not land on /home ${await describePage(page)}`);
  return res;
}

/** A new citizen, signed up and signed in on `page`. Resolves to { email, displayName, password }. */
export async function citizenSignedIn(page, base, snap, { prefix = 'citizen', displayName = 'Test Citizen' } = {}) {
  const account = { email: uniqueEmail(prefix), displayName, password: PASSWORD };
  await signUp(page, base, account, snap);
  await signIn(page, base, account, snap, 'citizen signed in');
  return account;
}

/** The value of the infobank_csrf cookie (what the hidden csrf_token fields carry). */
export async function csrfCookie(context, base) {
  const cookie = (await context.cookies(base)).find((c) => c.name === 'infobank_csrf');
  assert.ok(cookie, 'no infobank_csrf cookie');
  return cookie.value;
}
