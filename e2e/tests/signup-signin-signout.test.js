// Scenario 1: sign up → sign in → home shows the name and email → sign out → /home redirects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import {
  PASSWORD,
  SUBMIT,
  clickAndWait,
  describePage,
  pathOf,
  signUp,
  submitSignIn,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';

const app = useApp();

test('sign up, sign in, see home, sign out', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    // Mixed case on purpose: the home page must show it lower-cased.
    const email = uniqueEmail('Flow', 'Example.COM');
    const displayName = 'Ada Lovelace';

    const landing = await visit(page, app.base, '/', snap, 'landing');
    assert.equal(landing.status, 200, `GET / answered ${landing.status} ${await describePage(page)}`);
    assert.equal(await page.locator('main a[href="/signup"]').count() > 0, true, `landing page has no link to /signup ${await describePage(page)}`);
    assert.equal(await page.locator('main a[href="/signin"]').count() > 0, true, `landing page has no link to /signin ${await describePage(page)}`);

    // Not signed in yet: /home sends us to the sign-in page.
    const early = await visit(page, app.base, '/home', snap, 'home before sign-in');
    assert.equal(pathOf(page), '/signin', `/home before sign-in should redirect to /signin ${await describePage(page)}`);
    assert.equal(early.firstStatus, 303, `/home before sign-in answered ${early.firstStatus}, expected a 303 redirect`);

    await signUp(page, app.base, { email, displayName, password: PASSWORD }, snap);
    const notice = page.locator('p.notice[role=status]');
    assert.equal(await notice.count(), 1, `no p.notice[role=status] after sign-up ${await describePage(page)}`);
    assert.equal(await textOf(page, 'p.notice[role=status]'), 'Your account is ready. Please sign in.');
    assert.equal(await textOf(page, 'h1#page-title'), 'Sign in');

    const signedIn = await submitSignIn(page, { email, password: PASSWORD }, snap, 'home after sign-in');
    assert.equal(signedIn.firstStatus, 303, `POST /signin answered ${signedIn.firstStatus}, expected 303 ${await describePage(page)}`);
    assert.equal(pathOf(page), '/home', `sign-in did not land on /home ${await describePage(page)}`);
    assert.equal(signedIn.status, 200);

    const h1 = await textOf(page, 'h1#page-title');
    assert.ok(h1.startsWith('Welcome,'), `home h1 should start with "Welcome,", got ${JSON.stringify(h1)}`);
    assert.equal(await textOf(page, 'h1#page-title #display-name'), displayName);
    assert.equal(await textOf(page, '#account-email'), email.toLowerCase());
    assert.ok(await page.locator('header #signout').isVisible(), `no visible sign-out button in the header ${await describePage(page)}`);
    assert.equal(await textOf(page, '#signout'), 'Sign out');

    // Cookies: the session and CSRF cookies are HttpOnly and SameSite=Strict.
    const cookies = await context.cookies(app.base);
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
    const session = byName.infobank_session;
    assert.ok(session, `no infobank_session cookie after sign-in; cookies: ${cookies.map((c) => c.name).join(', ')}`);
    assert.equal(session.httpOnly, true, 'infobank_session must be HttpOnly');
    assert.equal(session.sameSite, 'Strict', 'infobank_session must be SameSite=Strict');
    assert.ok(session.value.length >= 32, 'infobank_session value looks too short to be a random token');
    const csrf = byName.infobank_csrf;
    assert.ok(csrf, 'no infobank_csrf cookie');
    assert.equal(csrf.httpOnly, true, 'infobank_csrf must be HttpOnly');
    assert.equal(csrf.sameSite, 'Strict', 'infobank_csrf must be SameSite=Strict');
    const hiddenToken = await page.locator('#signout').locator('xpath=..').locator('input[name=csrf_token]').inputValue();
    assert.equal(hiddenToken, csrf.value, 'the sign-out form token must equal the infobank_csrf cookie');

    const out = await clickAndWait(page, '#signout', snap, 'after sign-out');
    assert.equal(out.firstStatus, 303, `POST /signout answered ${out.firstStatus}, expected 303 ${await describePage(page)}`);
    assert.equal(pathOf(page), '/signin?notice=signed_out', `sign-out did not land on the signed-out notice ${await describePage(page)}`);
    assert.equal(await textOf(page, 'p.notice[role=status]'), 'You have signed out.');
    assert.equal(await page.locator('#signout').count(), 0, `the sign-out button is still shown after signing out ${await describePage(page)}`);
    const left = (await context.cookies(app.base)).find((c) => c.name === 'infobank_session');
    assert.ok(!left || left.value === '', `infobank_session cookie still set after sign-out: ${JSON.stringify(left)}`);

    const again = await visit(page, app.base, '/home', snap, 'home after sign-out');
    assert.equal(again.firstStatus, 303, `/home after sign-out answered ${again.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), '/signin', `/home after sign-out should redirect to /signin ${await describePage(page)}`);
    assert.ok(await page.locator(SUBMIT).isVisible(), 'the sign-in form is shown');
  });
});
