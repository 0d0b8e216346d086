// Scenario 2: a wrong password is refused with 401 and an alert, in English and in Japanese.

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

const app = useApp();

test('wrong password shows the error in English and Japanese', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const email = uniqueEmail('wrongpw');
    await signUp(page, app.base, { email, displayName: 'Grace Hopper', password: PASSWORD }, snap);

    const form = await visit(page, app.base, '/signin', snap, 'signin form');
    assert.equal(form.status, 200);
    const en = await submitSignIn(page, { email, password: 'not the right password' }, snap, 'wrong password en');
    assert.equal(en.firstStatus, 401, `wrong password answered ${en.firstStatus}, expected 401 ${await describePage(page)}`);
    assert.equal(pathOf(page), '/signin', `wrong password should stay on /signin ${await describePage(page)}`);
    const alert = page.locator('#signin-error[role=alert]');
    assert.ok(await alert.isVisible(), `no visible #signin-error[role=alert] ${await describePage(page)}`);
    assert.equal(await textOf(page, '#signin-error'), 'Email or password is wrong.');
    assert.equal(await page.inputValue('#email'), email, 'the email field keeps what was typed');
    assert.equal(await page.inputValue('#password'), '', 'the password field is not echoed back');
    assert.equal(await page.locator('#signout').count(), 0, 'not signed in after a wrong password');

    const switched = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'signin in japanese');
    assert.equal(switched.status, 200);
    assert.equal(pathOf(page), '/signin', `the language switch should come back to /signin ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja', `page is not in Japanese after the switch ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'ログイン');

    const ja = await submitSignIn(page, { email, password: 'mada chigau password' }, snap, 'wrong password ja');
    assert.equal(ja.firstStatus, 401, `wrong password (ja) answered ${ja.firstStatus}, expected 401 ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja');
    assert.ok(await page.locator('#signin-error[role=alert]').isVisible(), `no visible #signin-error in Japanese ${await describePage(page)}`);
    assert.equal(await textOf(page, '#signin-error'), 'メールアドレスまたはパスワードが正しくありません。');

    // The right password still works after two failures (no lock-out this early).
    const ok = await submitSignIn(page, { email, password: PASSWORD }, snap, 'right password');
    assert.equal(ok.firstStatus, 303, `right password answered ${ok.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), '/home');
  });
});
