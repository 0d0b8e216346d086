// Scenario 4: sign-up validation errors are shown inline and the form keeps what was typed;
// a duplicate email is refused.

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
  submitSignUp,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';

const app = useApp();

test('sign-up validation: short password and duplicate email', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const email = uniqueEmail('validation');
    const displayName = 'Katherine Johnson';

    await visit(page, app.base, '/signup', snap, 'signup form');
    const short = await submitSignUp(page, { email, displayName, password: 'short' }, snap, 'short password');
    assert.equal(short.firstStatus, 422, `a short password answered ${short.firstStatus}, expected 422 ${await describePage(page)}`);
    assert.equal(pathOf(page), '/signup');
    assert.ok(await page.locator('#error-summary[role=alert]').isVisible(), `no visible #error-summary[role=alert] ${await describePage(page)}`);
    assert.ok(await page.locator('#password-error').isVisible(), `no visible #password-error ${await describePage(page)}`);
    assert.equal(await textOf(page, '#password-error'), 'Use between 12 and 128 characters.');
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true', '#password should be aria-invalid');
    assert.match((await page.getAttribute('#password', 'aria-describedby')) ?? '', /\bpassword-error\b/, '#password should be described by #password-error');
    assert.equal(await page.locator('#email-error').count(), 0, 'a valid email must not get an error');
    assert.equal(await page.locator('#display_name-error').count(), 0, 'a valid name must not get an error');
    assert.equal(await page.inputValue('#email'), email, 'the email field keeps its value');
    assert.equal(await page.inputValue('#display_name'), displayName, 'the name field keeps its value');
    assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');

    // Just over the upper limit (129 characters) is refused by the server too. The input's
    // maxlength="128" makes the browser cut typed text at 128, so set the value from script.
    await page.fill('#email', email);
    await page.fill('#display_name', displayName);
    await page.fill('#password', 'x'.repeat(129));
    assert.equal((await page.inputValue('#password')).length, 128, 'the browser keeps typed passwords to maxlength=128');
    await page.evaluate(() => {
      document.querySelector('#password').value = 'x'.repeat(129);
    });
    const long = await clickAndWait(page, SUBMIT, snap, 'long password');
    assert.equal(long.firstStatus, 422, `a 129-character password answered ${long.firstStatus}, expected 422 ${await describePage(page)}`);
    assert.equal(await textOf(page, '#password-error'), 'Use between 12 and 128 characters.');

    // Everything wrong at once: one error per field.
    const all = await submitSignUp(page, { email: 'not-an-email', displayName: '', password: 'short' }, snap, 'all invalid');
    assert.equal(all.firstStatus, 422, `an all-invalid form answered ${all.firstStatus}, expected 422`);
    for (const id of ['#email-error', '#display_name-error', '#password-error']) {
      assert.ok(await page.locator(id).isVisible(), `no visible ${id} ${await describePage(page)}`);
    }
    assert.equal(await page.inputValue('#email'), 'not-an-email', 'the invalid email is kept for correction');
    assert.equal(await page.locator('#error-summary li').count(), 3, 'the summary lists the three problems');

    // A valid sign-up, then the same email again.
    await signUp(page, app.base, { email, displayName, password: PASSWORD }, snap);
    await visit(page, app.base, '/signup', snap, 'signup form again');
    const dup = await submitSignUp(page, { email, displayName: 'Someone Else', password: PASSWORD }, snap, 'duplicate email');
    assert.equal(dup.firstStatus, 409, `a duplicate email answered ${dup.firstStatus}, expected 409 ${await describePage(page)}`);
    assert.ok(await page.locator('#email-error').isVisible(), `no visible #email-error ${await describePage(page)}`);
    assert.equal(await textOf(page, '#email-error'), 'An account with this email already exists.');
    assert.equal(await page.inputValue('#email'), email, 'the email field keeps its value');

    // Emails are compared case-insensitively: the same address in capitals is a duplicate too.
    const upper = await submitSignUp(page, { email: email.toUpperCase(), displayName: 'Someone Else', password: PASSWORD }, snap, 'duplicate email upper case');
    assert.equal(upper.firstStatus, 409, `the same email in capitals answered ${upper.firstStatus}, expected 409 ${await describePage(page)}`);
    assert.equal(await textOf(page, '#email-error'), 'An account with this email already exists.');
  });
});
