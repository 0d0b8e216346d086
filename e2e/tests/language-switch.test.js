// Scenario 3: switching to Japanese persists across pages (cookie), through sign-up, sign-in and
// home, and switching back restores English.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import {
  PASSWORD,
  clickAndWait,
  describePage,
  htmlLang,
  pathOf,
  submitSignIn,
  submitSignUp,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';

const app = useApp();

async function assertLanguage(page, lang) {
  assert.equal(await htmlLang(page), lang, `expected <html lang="${lang}"> ${await describePage(page)}`);
  const other = lang === 'ja' ? 'en' : 'ja';
  assert.equal(await page.locator(`a[data-lang="${other}"]`).count(), 1, `expected a link to switch to ${other} ${await describePage(page)}`);
  assert.equal(await page.locator(`a[data-lang="${lang}"]`).count(), 0, `the current language (${lang}) must not be a link ${await describePage(page)}`);
  const current = page.locator('span.current-lang');
  assert.equal(await current.count(), 1, `expected one span.current-lang ${await describePage(page)}`);
  assert.equal(await current.getAttribute('lang'), lang, 'span.current-lang names the current language');
}

test('language switch to Japanese and back', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    const email = uniqueEmail('lang');
    const displayName = '山田 花子';

    await visit(page, app.base, '/signin', snap, 'signin en');
    await assertLanguage(page, 'en');
    assert.equal(await textOf(page, 'h1#page-title'), 'Sign in');

    const toJa = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'signin ja');
    assert.equal(toJa.firstStatus, 303, `GET /lang/ja answered ${toJa.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), '/signin', `the switch should come back to /signin ${await describePage(page)}`);
    await assertLanguage(page, 'ja');
    assert.equal(await textOf(page, 'h1#page-title'), 'ログイン');
    assert.equal(await textOf(page, 'main form button[type=submit]'), 'ログイン');
    assert.equal(await textOf(page, 'label[for="email"]'), 'メールアドレス');
    const langCookie = (await context.cookies(app.base)).find((c) => c.name === 'lang');
    assert.ok(langCookie, 'no lang cookie after switching language');
    assert.equal(langCookie.value, 'ja');

    // The cookie persists: the sign-up page (reached by the header link) is Japanese too.
    await clickAndWait(page, 'header a[href="/signup"]', snap, 'signup ja');
    assert.equal(pathOf(page), '/signup');
    await assertLanguage(page, 'ja');
    assert.equal(await textOf(page, 'h1#page-title'), 'アカウント作成');

    const created = await submitSignUp(page, { email, displayName, password: PASSWORD }, snap, 'signed up ja');
    assert.equal(created.firstStatus, 303, `POST /signup (ja) answered ${created.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), '/signin?notice=registered', `sign-up did not land on the notice ${await describePage(page)}`);
    await assertLanguage(page, 'ja');
    assert.equal(await textOf(page, 'p.notice[role=status]'), 'アカウントを作成しました。ログインしてください。');

    const signedIn = await submitSignIn(page, { email, password: PASSWORD }, snap, 'home ja');
    assert.equal(signedIn.firstStatus, 303, `POST /signin (ja) answered ${signedIn.firstStatus} ${await describePage(page)}`);
    assert.equal(pathOf(page), '/home');
    await assertLanguage(page, 'ja');
    const h1 = await textOf(page, 'h1#page-title');
    assert.ok(h1.startsWith('ようこそ、'), `Japanese home h1 should start with "ようこそ、", got ${JSON.stringify(h1)}`);
    assert.equal(await textOf(page, '#display-name'), displayName);
    assert.equal(await textOf(page, '#signout'), 'ログアウト');

    const toEn = await clickAndWait(page, 'a[data-lang="en"]', snap, 'home en');
    assert.equal(toEn.firstStatus, 303);
    assert.equal(pathOf(page), '/home', `the switch back should stay on /home ${await describePage(page)}`);
    await assertLanguage(page, 'en');
    const h1en = await textOf(page, 'h1#page-title');
    assert.ok(h1en.startsWith('Welcome,'), `English home h1 should start with "Welcome,", got ${JSON.stringify(h1en)}`);
    assert.equal(await textOf(page, '#signout'), 'Sign out');

    await clickAndWait(page, '#signout', snap, 'signed out en');
    assert.equal(pathOf(page), '/signin?notice=signed_out');
    await assertLanguage(page, 'en');
    assert.equal(await textOf(page, 'h1#page-title'), 'Sign in');
    assert.equal(await textOf(page, 'p.notice[role=status]'), 'You have signed out.');
  });
});
