// Scenario 5: a POST without the CSRF token, or with a wrong one, is refused with 403; the same
// credentials with the right token work, so the token is what matters.

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
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';

const app = useApp();

const EXPIRED_H1 = /<h1 id="page-title">\s*This form has expired\s*<\/h1>/;

test('CSRF: posts without the right token are refused', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    const email = uniqueEmail('csrf');
    await signUp(page, app.base, { email, displayName: 'Alan Turing', password: PASSWORD }, snap);

    await visit(page, app.base, '/signin', snap, 'signin form');
    const cookie = (await context.cookies(app.base)).find((c) => c.name === 'infobank_csrf');
    assert.ok(cookie, 'the sign-in page should have set the infobank_csrf cookie');
    const token = await page.inputValue('main form input[name=csrf_token]');
    assert.equal(token, cookie.value, 'the hidden csrf_token must equal the infobank_csrf cookie');

    const post = (form) => page.request.post(`${app.base}/signin`, { form, maxRedirects: 0 });

    const missing = await post({ email, password: PASSWORD });
    const missingBody = await missing.text();
    assert.equal(missing.status(), 403, `POST /signin without csrf_token answered ${missing.status()}: ${missingBody.slice(0, 300)}`);
    assert.match(missingBody, EXPIRED_H1, 'the refusal page says the form has expired');

    const wrong = await post({ csrf_token: 'x'.repeat(token.length), email, password: PASSWORD });
    const wrongBody = await wrong.text();
    assert.equal(wrong.status(), 403, `POST /signin with a wrong csrf_token answered ${wrong.status()}: ${wrongBody.slice(0, 300)}`);
    assert.match(wrongBody, EXPIRED_H1, 'the refusal page says the form has expired');

    const empty = await post({ csrf_token: '', email, password: PASSWORD });
    assert.equal(empty.status(), 403, `POST /signin with an empty csrf_token answered ${empty.status()}`);

    let names = (await context.cookies(app.base)).map((c) => c.name);
    assert.ok(!names.includes('infobank_session'), `a refused post must not sign in; cookies: ${names.join(', ')}`);

    // In the browser too: tamper with the hidden field and submit the real form.
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.evaluate(() => {
      document.querySelector('main form input[name=csrf_token]').value = 'tampered-token-tampered-token-tampered';
    });
    const tampered = await clickAndWait(page, SUBMIT, snap, 'tampered form refused');
    assert.equal(tampered.firstStatus, 403, `a tampered form answered ${tampered.firstStatus} ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'This form has expired');

    // The same credentials with the right token work.
    const good = await post({ csrf_token: token, email, password: PASSWORD });
    assert.equal(good.status(), 303, `POST /signin with the right csrf_token answered ${good.status()}: ${(await good.text()).slice(0, 300)}`);
    assert.equal(good.headers().location, '/home', 'a good sign-in redirects to /home');
    names = (await context.cookies(app.base)).map((c) => c.name);
    assert.ok(names.includes('infobank_session'), `no infobank_session after a good post; cookies: ${names.join(', ')}`);

    const home = await visit(page, app.base, '/home', snap, 'home after token post');
    assert.equal(home.firstStatus, 200, `GET /home after signing in answered ${home.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), '/home');
    assert.equal(await textOf(page, '#account-email'), email);

    // Signing out without the token is refused too, and leaves the session alive.
    const signout = await page.request.post(`${app.base}/signout`, { form: {}, maxRedirects: 0 });
    assert.equal(signout.status(), 403, `POST /signout without csrf_token answered ${signout.status()}`);
    await visit(page, app.base, '/home', snap, 'still signed in');
    assert.equal(pathOf(page), '/home', `a refused sign-out must not end the session ${await describePage(page)}`);
  });
});
