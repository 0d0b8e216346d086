// Scenario 8: the citizen's "My data" pages (server-rendered, no JavaScript): the category
// overview on /data, a category's records and its generated form (add, edit, delete, inline
// validation errors, the card-number rule, single-record categories), the payment-history upload,
// the JSON export, account deletion, the pages in Japanese, and who may see them.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS_DIR, slug, useApp, withPage } from '../lib/server.js';
import {
  PASSWORD,
  citizenSignedIn,
  clickAndWait,
  csrfCookie,
  describePage,
  htmlLang,
  pathOf,
  signIn,
  submitSignIn,
  textOf,
  uniqueEmail,
  visit,
} from '../lib/portal.js';
import {
  DATA_PATH,
  categoryCount,
  formValues,
  openCategory,
  openMyData,
  readCategories,
  readImportResult,
  readRecords,
  saveRecord,
  uploadCsv,
} from '../lib/mydata.js';
import { createStaff } from '../lib/staff.js';

const app = useApp();

const CATEGORIES = {
  birth_date: { label: 'Date of birth', badge: 'sensitive' },
  residence: { label: 'Residence', badge: 'sensitive' },
  family_structure: { label: 'Family structure', badge: 'sensitive' },
  hobbies: { label: 'Hobbies', badge: 'normal' },
  preferences: { label: 'Preferences', badge: 'normal' },
  daily_mood: { label: 'Daily mood', badge: 'sensitive' },
  physical_condition: { label: 'Physical condition', badge: 'special' },
  payment_history: { label: 'Payment history', badge: 'sensitive' },
  education: { label: 'Education' },
  employment: { label: 'Employment' },
  drivers_license: { label: "Driver's licence" },
  vehicle: { label: 'Vehicle' },
  real_estate: { label: 'Real estate' },
  insurance: { label: 'Insurance', badge: 'sensitive' },
  credit_card: { label: 'Credit card', badge: 'sensitive' },
  identity_document: { label: 'Identity document' },
};

const MOOD = { date: '2026-11-20', score: 4, note: 'sunny' };
const CONDITION = { date: '2026-11-21', sleep_hours: 7.5, steps: 8000, weight_kg: 61.2, body_temp_c: 36.5 };
const FULL_CARD_NUMBER = '4111111111111111';

const PAYMENTS_CSV = [
  'date,merchant,amount,currency,method,merchant_category',
  '2026-11-01,Lawson,480,JPY,qr,grocery',
  '2026-11-02,Bad,lots,JPY,qr,grocery',
  '2026-11-03,Aeon,2980,JPY,card,grocery',
  '',
].join('\n');

/** Asserts where a form post landed: the first answer's status and the final path. */
async function assertLanded(page, res, firstStatus, where, what) {
  assert.equal(res.firstStatus, firstStatus, `${what} answered ${res.firstStatus}, expected ${firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), where, `${what} should land on ${where} ${await describePage(page)}`);
}

/** The attributes of a form control that matter here (runs in the page). */
function controlOf(el) {
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute('type'),
    name: el.getAttribute('name'),
    min: el.getAttribute('min'),
    max: el.getAttribute('max'),
    step: el.getAttribute('step'),
    maxlength: el.getAttribute('maxlength'),
    invalid: el.getAttribute('aria-invalid'),
    options: el.tagName === 'SELECT' ? [...el.options].map((o) => o.value) : null,
  };
}

async function control(page, selector) {
  const locator = page.locator(selector);
  assert.equal(await locator.count(), 1, `expected exactly one ${selector} ${await describePage(page)}`);
  return { selector, ...(await locator.evaluate(controlOf)) };
}

/** Opens /data through the header link and a category from there. */
async function openCategoryFromNav(page, name, snap, step) {
  await openMyData(page, snap, `my data before ${step}`);
  await openCategory(page, name, snap, step);
}

test('my data: add, edit and delete a daily mood record', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'mood', displayName: 'Marie Curie' });
    assert.equal(await textOf(page, 'header #nav-data'), 'My data');
    await openMyData(page, snap, 'my data empty');
    assert.equal(await textOf(page, 'h1#page-title'), 'My data');

    // The overview: four groups, every category with a link, a zero count and a badge.
    const groups = await page.locator('main section:has(ul.category-list)').count();
    assert.equal(groups, 4, `/data should show four groups of categories, shows ${groups} ${await describePage(page)}`);
    const categories = await readCategories(page);
    assert.deepEqual(Object.keys(categories).sort(), Object.keys(CATEGORIES).sort(), 'the categories listed on /data');
    for (const [name, expected] of Object.entries(CATEGORIES)) {
      const shown = categories[name];
      assert.equal(shown.href, `/data/${name}`, `the link of ${name}`);
      assert.equal(shown.label, expected.label, `the label of ${name}`);
      assert.equal(shown.count, 0, `a new citizen has no ${name} records: ${JSON.stringify(shown)}`);
      assert.ok(['normal', 'sensitive', 'special'].includes(shown.badge), `${name} has no sensitivity badge: ${JSON.stringify(shown)}`);
      if (expected.badge) assert.equal(shown.badge, expected.badge, `the sensitivity badge of ${name}: ${JSON.stringify(shown)}`);
    }
    const special = Object.values(categories).filter((c) => c.badge === 'special').map((c) => c.name);
    assert.deepEqual(special, ['physical_condition'], 'only the health category needs special care');
    assert.equal(categories.physical_condition.badgeText, 'Special care (health)');

    // The other parts of /data: upload form, export link, account deletion link.
    const file = await control(page, 'main form input#import-file');
    assert.deepEqual([file.type, file.name], ['file', 'file'], `the upload input: ${JSON.stringify(file)}`);
    assert.equal(await page.locator('main form:has(#import-file)').getAttribute('enctype'), 'multipart/form-data', 'the upload form is multipart');
    assert.equal(await textOf(page, '#import-submit'), 'Upload');
    assert.equal(await page.locator('a#export-link').getAttribute('href'), '/data/export', 'a#export-link points at /data/export');
    assert.equal(await page.locator('a#delete-account-link').getAttribute('href'), '/account/delete', 'a#delete-account-link points at /account/delete');

    // Add.
    await openCategory(page, 'daily_mood', snap, 'daily mood empty');
    assert.equal(await textOf(page, 'h1#page-title'), 'Daily mood');
    assert.match((await page.locator('#sensitivity').getAttribute('class')) ?? '', /\bbadge-sensitive\b/, 'daily mood is sensitive');
    assert.equal(await page.locator('#special-warning').count(), 0, 'no special-care warning for daily mood');
    assert.equal(await textOf(page, '#no-records'), 'Nothing entrusted here yet.');
    assert.equal(await page.locator('ul#records').count(), 0, 'no ul#records without records');
    assert.equal(await textOf(page, 'h2#form-title'), 'Add');
    assert.equal(await textOf(page, 'form#record-form button#save'), 'Save');
    assert.equal((await control(page, '#f-date')).type, 'date', 'the date is a date picker');
    const score = await control(page, '#f-score');
    assert.deepEqual([score.type, score.min, score.max, score.step], ['number', '1', '5', '1'], `the score input: ${JSON.stringify(score)}`);

    const added = await saveRecord(page, MOOD, snap, 'mood added');
    await assertLanded(page, added, 303, '/data/daily_mood?notice=saved', 'adding a daily mood');
    assert.equal(await textOf(page, '#notice'), 'Saved.');
    let records = await readRecords(page);
    assert.equal(records.length, 1, `one record after adding ${await describePage(page)}`);
    const [record] = records;
    assert.match(record.id ?? '', /\S/, 'the record has a data-id');
    assert.equal(record.version, 1, 'a new record is version 1');
    assert.deepEqual(record.facts, { Date: '2026-11-20', 'Score (1–5)': '4', Note: 'sunny' }, 'the record shows what was entered');
    assert.equal(record.editHref, `/data/daily_mood/${record.id}/edit`, 'the edit link');
    assert.ok(record.hasDelete, 'the record has a delete button');
    assert.equal(await page.locator('#no-records').count(), 0, 'no #no-records once there is a record');

    await openMyData(page, snap, 'my data with one mood');
    assert.equal(await categoryCount(page, 'daily_mood'), 1, 'the daily mood count after adding');
    assert.equal((await readCategories(page)).daily_mood.countText, '1 records');

    // Edit.
    await openCategory(page, 'daily_mood', snap, 'daily mood with one record');
    const editing = await clickAndWait(page, `li.record[data-id="${record.id}"] a.edit-link`, snap, 'edit form');
    await assertLanded(page, editing, 200, `/data/daily_mood/${record.id}/edit`, 'the edit link');
    assert.equal(await textOf(page, 'h2#form-title'), 'Edit');
    assert.equal(await page.locator('form#record-form').getAttribute('action'), `/data/daily_mood/${record.id}`, 'the edit form posts to the record');
    assert.deepEqual(await formValues(page), { date: '2026-11-20', score: '4', note: 'sunny' }, 'the edit form is prefilled');

    const edited = await saveRecord(page, { score: 2, note: 'rain' }, snap, 'mood edited');
    await assertLanded(page, edited, 303, '/data/daily_mood?notice=saved', 'saving the edit');
    assert.equal(await textOf(page, '#notice'), 'Saved.');
    records = await readRecords(page);
    assert.equal(records.length, 1, `still one record after editing ${await describePage(page)}`);
    assert.equal(records[0].id, record.id, 'editing keeps the record id');
    assert.equal(records[0].version, 2, 'an edit makes version 2');
    assert.equal(await page.locator(`li.record[data-id="${record.id}"][data-version="2"]`).count(), 1, 'li.record[data-version="2"]');
    assert.deepEqual(records[0].facts, { Date: '2026-11-20', 'Score (1–5)': '2', Note: 'rain' }, 'the record shows the edit');

    // Delete.
    const deleted = await clickAndWait(page, `li.record[data-id="${record.id}"] button.delete-button`, snap, 'mood deleted');
    await assertLanded(page, deleted, 303, '/data/daily_mood?notice=deleted', 'deleting the record');
    assert.equal(await textOf(page, '#notice'), 'Deleted.');
    assert.equal(await textOf(page, '#no-records'), 'Nothing entrusted here yet.');
    assert.equal(await page.locator('li.record').count(), 0, 'no records left');

    await openMyData(page, snap, 'my data after delete');
    assert.equal(await categoryCount(page, 'daily_mood'), 0, 'the daily mood count after deleting');
  });
});

test('my data: inline validation errors, the card-number rule, single-record categories', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'validation', displayName: 'Rosalind Franklin' });

    // Out of range: 422, the error next to the field, everything typed is kept.
    await openCategoryFromNav(page, 'daily_mood', snap, 'daily mood form');
    const bad = await saveRecord(page, { date: '2026-11-20', score: 9, note: 'too happy' }, snap, 'score out of range');
    await assertLanded(page, bad, 422, '/data/daily_mood', 'a score of 9');
    assert.equal(bad.status, 422);
    assert.equal(await textOf(page, '#f-score-error'), 'The value is outside the allowed range.');
    assert.equal((await control(page, '#f-score')).invalid, 'true', '#f-score is marked aria-invalid');
    assert.equal(await page.locator('.field-error').count(), 1, `only the score has an error ${await describePage(page)}`);
    assert.deepEqual(await formValues(page), { date: '2026-11-20', score: '9', note: 'too happy' }, 'the typed values are kept');
    assert.equal(await textOf(page, '#no-records'), 'Nothing entrusted here yet.');

    const fixed = await saveRecord(page, { score: 5 }, snap, 'score fixed');
    await assertLanded(page, fixed, 303, '/data/daily_mood?notice=saved', 'the corrected score');
    assert.deepEqual((await readRecords(page)).map((r) => r.facts['Note']), ['too happy'], 'the corrected record is saved');

    // A full card number is refused and never sent back.
    await openCategoryFromNav(page, 'credit_card', snap, 'credit card form');
    const brand = await control(page, '#f-brand');
    assert.equal(brand.tag, 'select', 'the brand is a select');
    for (const option of ['visa', 'mastercard', 'jcb', 'amex']) {
      assert.ok(brand.options.includes(option), `the brand select offers ${option}: ${JSON.stringify(brand.options)}`);
    }
    const last4 = await control(page, '#f-last4');
    assert.equal(last4.maxlength, '4', `#f-last4 should have maxlength=4: ${JSON.stringify(last4)}`);
    // The browser would cut the number to four digits; a client that ignores maxlength (an old
    // browser, a script) sends all of it, so the attribute is removed to test the server's rule.
    await page.locator('#f-last4').evaluate((el) => el.removeAttribute('maxlength'));
    await page.fill('#f-issuer', 'Rakuten Card');
    await page.selectOption('#f-brand', 'visa');
    await page.fill('#f-last4', FULL_CARD_NUMBER);
    assert.equal(await page.inputValue('#f-last4'), FULL_CARD_NUMBER, 'the full number is in the field before submitting');
    const refused = await clickAndWait(page, 'form#record-form button#save', snap, 'full card number refused');
    await assertLanded(page, refused, 422, '/data/credit_card', 'a full card number');
    assert.equal(await textOf(page, '#f-last4-error'), 'Never enter a full card number: the last four digits only.');
    const body = await refused.response.text();
    assert.ok(body.includes('id="f-last4-error"'), 'the response body is the re-rendered form');
    assert.ok(!body.includes(FULL_CARD_NUMBER), `the card number must not appear in the returned HTML; around it: ${JSON.stringify(body.slice(Math.max(0, body.indexOf(FULL_CARD_NUMBER) - 200), body.indexOf(FULL_CARD_NUMBER) + 50))}`);
    assert.ok(!(await page.content()).includes(FULL_CARD_NUMBER), 'the card number must not appear in the page');
    assert.equal(await page.inputValue('#f-last4'), '', 'the refused number is not put back into its field');
    assert.equal(await page.inputValue('#f-issuer'), 'Rakuten Card', 'the other fields are kept');
    assert.equal(await page.inputValue('#f-brand'), 'visa', 'the brand is kept');

    const card = await saveRecord(page, { last4: '4242' }, snap, 'card saved');
    await assertLanded(page, card, 303, '/data/credit_card?notice=saved', 'a card with its last four digits');
    const cards = await readRecords(page);
    assert.equal(cards.length, 1, `one card ${await describePage(page)}`);
    assert.deepEqual(cards[0].facts, { Issuer: 'Rakuten Card', Brand: 'Visa', 'Last four digits': '4242' }, 'the card as shown, the brand by its label');
    assert.ok(!(await page.content()).includes(FULL_CARD_NUMBER), 'the card number is nowhere on the card page');

    // A single-record category: once there is a residence, no add form, edit instead.
    await openCategoryFromNav(page, 'residence', snap, 'residence form');
    assert.equal(await page.locator('#single-taken').count(), 0, 'no #single-taken before the first record');
    const residence = await saveRecord(page, { prefecture: 'Tokyo', city: 'Chiyoda', postal_code: '1000001' }, snap, 'residence saved');
    await assertLanded(page, residence, 303, '/data/residence?notice=saved', 'a residence with postal code 1000001');
    const homes = await readRecords(page);
    assert.equal(homes.length, 1, `one residence ${await describePage(page)}`);
    assert.equal(homes[0].facts['Postal code'], '100-0001', `1000001 is stored and shown as 100-0001: ${JSON.stringify(homes[0].facts)}`);
    assert.ok(await page.locator('#single-taken').isVisible(), `a second residence is not offered: no visible #single-taken ${await describePage(page)}`);
    assert.equal(await textOf(page, '#single-taken'), 'You have this record: use its Edit link to change it.');
    assert.equal(await page.locator('form#record-form').count(), 0, 'no add form once the residence exists');

    // Posting a second one anyway (say, from an older tab) is refused with a conflict and
    // changes nothing.
    const second = await page.request.post(`${app.base}/data/residence`, {
      form: { csrf_token: await csrfCookie(context, app.base), prefecture: 'Osaka', city: 'Kita', postal_code: '530-0001' },
      maxRedirects: 0,
    });
    const secondBody = await second.text();
    assert.equal(second.status(), 409, `a second residence answered ${second.status()}: ${secondBody.slice(0, 300)}`);
    assert.ok(secondBody.includes('id="single-taken"'), 'the conflict page shows #single-taken');
    assert.ok(!secondBody.includes('Osaka'), 'the conflict page does not list the refused residence');
    await visit(page, app.base, '/data/residence', snap, 'residence after the conflict');
    assert.equal((await readRecords(page)).length, 1, `still one residence after the conflict ${await describePage(page)}`);

    const edit = await clickAndWait(page, `li.record[data-id="${homes[0].id}"] a.edit-link`, snap, 'residence edit form');
    await assertLanded(page, edit, 200, `/data/residence/${homes[0].id}/edit`, 'the residence edit link');
    assert.equal(await textOf(page, 'h2#form-title'), 'Edit');
    assert.equal(await page.locator('#single-taken').count(), 0, 'the edit page shows the form, not #single-taken');
    assert.deepEqual(await formValues(page), { prefecture: 'Tokyo', city: 'Chiyoda', postal_code: '100-0001' }, 'the residence edit form is prefilled');
    const moved = await saveRecord(page, { city: 'Minato', postal_code: '105-0011' }, snap, 'residence edited');
    await assertLanded(page, moved, 303, '/data/residence?notice=saved', 'editing the residence');
    const after = await readRecords(page);
    assert.deepEqual(after.map((r) => [r.id, r.version, r.facts.City]), [[homes[0].id, 2, 'Minato']], 'the residence was edited in place');
  });
});

test('my data: physical condition shows the special-care warning, number inputs and units', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'health' });
    await openCategoryFromNav(page, 'physical_condition', snap, 'physical condition form');
    assert.equal(await textOf(page, 'h1#page-title'), 'Physical condition');
    assert.match((await page.locator('#sensitivity').getAttribute('class')) ?? '', /\bbadge-special\b/, '#sensitivity is badge-special');
    assert.ok(await page.locator('#special-warning').isVisible(), `no visible #special-warning ${await describePage(page)}`);

    const inputs = {
      date: await control(page, '#f-date'),
      sleep: await control(page, '#f-sleep_hours'),
      steps: await control(page, '#f-steps'),
      weight: await control(page, '#f-weight_kg'),
      temp: await control(page, '#f-body_temp_c'),
    };
    assert.equal(inputs.date.type, 'date', 'the date is a date picker');
    assert.deepEqual([inputs.sleep.type, inputs.sleep.min, inputs.sleep.max, inputs.sleep.step], ['number', '0', '24', 'any'], `sleep: ${JSON.stringify(inputs.sleep)}`);
    assert.deepEqual([inputs.steps.type, inputs.steps.step], ['number', '1'], `steps: ${JSON.stringify(inputs.steps)}`);
    assert.deepEqual([inputs.weight.type, inputs.weight.step], ['number', 'any'], `weight: ${JSON.stringify(inputs.weight)}`);
    assert.deepEqual([inputs.temp.type, inputs.temp.step], ['number', 'any'], `temperature: ${JSON.stringify(inputs.temp)}`);
    assert.equal(await textOf(page, 'label[for="f-weight_kg"]'), 'Weight (kg)', 'the unit is in the label');

    const saved = await saveRecord(page, CONDITION, snap, 'condition saved');
    await assertLanded(page, saved, 303, '/data/physical_condition?notice=saved', 'a physical condition');
    const [record] = await readRecords(page);
    assert.deepEqual(
      record?.facts,
      { Date: '2026-11-21', Sleep: '7.5 h', Steps: '8000 steps', Weight: '61.2 kg', 'Body temperature': '36.5 °C' },
      'the values are shown with their units',
    );
  });
});

test('my data: payment history upload with a bad row, duplicates and a wrong header', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'upload' });
    await openMyData(page, snap, 'my data before upload');
    assert.equal(await categoryCount(page, 'payment_history'), 0, 'no payments before the upload');

    const first = await uploadCsv(page, PAYMENTS_CSV, snap, 'first upload');
    assert.equal(first.firstStatus, 200, `the upload answered ${first.firstStatus} ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'Upload payment history');
    let result = await readImportResult(page);
    assert.equal(result.imported, 2, `#imported-count ${await describePage(page)}`);
    assert.equal(result.rejectedCount, 1, `#rejected-count ${await describePage(page)}`);
    assert.deepEqual(Object.keys(result.rejected), ['2'], 'only data row 2 (amount "lots") is rejected');
    assert.ok(result.rejected['2'].includes('Enter a whole number.'), `row 2's reason: ${JSON.stringify(result.rejected['2'])}`);

    const listed = await clickAndWait(page, 'main a[href="/data/payment_history"]', snap, 'payments after upload');
    await assertLanded(page, listed, 200, '/data/payment_history', 'the link to the payments');
    const payments = await readRecords(page);
    const shown = payments.map((r) => `${r.facts.Date} ${r.facts.Merchant} ${r.facts.Amount}`).sort();
    assert.deepEqual(shown, ['2026-11-01 Lawson 480', '2026-11-03 Aeon 2980'], `the imported payments: ${JSON.stringify(payments)}`);

    await openMyData(page, snap, 'my data after upload');
    assert.equal(await categoryCount(page, 'payment_history'), 2, 'the payment count after the upload');

    // The same file again: nothing new, the two good rows are duplicates, row 2 still bad.
    await uploadCsv(page, PAYMENTS_CSV, snap, 'second upload');
    result = await readImportResult(page);
    assert.equal(result.imported, 0, `nothing is imported twice ${await describePage(page)}`);
    assert.equal(result.rejectedCount, 3, `all three rows are reported ${await describePage(page)}`);
    assert.deepEqual(Object.keys(result.rejected).sort(), ['1', '2', '3'], 'rows 1 to 3 are reported');
    for (const row of ['1', '3']) {
      assert.ok(result.rejected[row].includes('This transaction is already in your data.'), `row ${row} is a duplicate: ${JSON.stringify(result.rejected[row])}`);
    }
    assert.ok(result.rejected['2'].includes('Enter a whole number.'), `row 2 is still not a number: ${JSON.stringify(result.rejected['2'])}`);
    await openMyData(page, snap, 'my data after second upload');
    assert.equal(await categoryCount(page, 'payment_history'), 2, 'still two payments');

    // A file without the expected header: 400, nothing imported.
    const wrong = await uploadCsv(page, 'when,shop,price\n2026-11-05,Lawson,480\n', snap, 'wrong header', 'wrong.csv');
    assert.equal(wrong.firstStatus, 400, `a wrong header answered ${wrong.firstStatus}, expected 400 ${await describePage(page)}`);
    assert.equal(wrong.status, 400);
    result = await readImportResult(page);
    assert.equal(result.badFile, 'The file could not be read. Check the header row and try again.', `#import-bad-file ${await describePage(page)}`);
    assert.equal(result.imported, null, 'no #imported-count for an unreadable file');
    await openMyData(page, snap, 'my data after wrong header');
    assert.equal(await categoryCount(page, 'payment_history'), 2, 'still two payments after the wrong file');
  });
});

test('my data: export downloads everything as JSON', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    const account = await citizenSignedIn(page, app.base, snap, { prefix: 'export', displayName: 'Ada Export' });
    await openCategoryFromNav(page, 'daily_mood', snap, 'daily mood form');
    await assertLanded(page, await saveRecord(page, MOOD, snap, 'mood saved'), 303, '/data/daily_mood?notice=saved', 'a daily mood');
    await openCategoryFromNav(page, 'physical_condition', snap, 'condition form');
    await assertLanded(page, await saveRecord(page, CONDITION, snap, 'condition saved'), 303, '/data/physical_condition?notice=saved', 'a physical condition');

    await openMyData(page, snap, 'my data before export');
    const link = page.locator('a#export-link');
    assert.equal(await link.getAttribute('href'), '/data/export', 'a#export-link points at /data/export');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'infobank-export.json', 'the download is named infobank-export.json');
    const failure = await download.failure();
    assert.equal(failure, null, `the download failed: ${failure}`);
    const saved = path.join(ARTIFACTS_DIR, `${slug(t.name)}-infobank-export.json`);
    await download.saveAs(saved);
    await snap('after export');
    assert.equal(pathOf(page), DATA_PATH, 'the download does not leave /data');

    const text = await readFile(saved, 'utf8');
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      assert.fail(`the export is not JSON (${err.message}): ${text.slice(0, 300)}`);
    }
    assert.equal(doc.format, 'infobank-export-v1', 'the export format');
    assert.equal(doc.account?.email, account.email, `the export names the account: ${JSON.stringify(doc.account)}`);
    assert.ok(!text.includes(PASSWORD), 'the export does not contain the password');
    assert.ok(Array.isArray(doc.records), `records is an array: ${JSON.stringify(doc.records)}`);
    const byCategory = Object.fromEntries(doc.records.map((r) => [r.category, r]));
    assert.deepEqual(doc.records.map((r) => r.category).sort(), ['daily_mood', 'physical_condition'], 'the exported records');
    assert.deepEqual(byCategory.daily_mood.data, MOOD, 'the daily mood as entrusted');
    assert.deepEqual(byCategory.physical_condition.data, CONDITION, 'the physical condition as entrusted');
    for (const r of doc.records) {
      assert.match(String(r.id ?? ''), /\S/, `an exported record has an id: ${JSON.stringify(r)}`);
      assert.equal(r.version, 1, `an exported record's version: ${JSON.stringify(r)}`);
    }
  });
});

test('my data: deleting the account needs DELETE typed, then the sign-in fails', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    const account = await citizenSignedIn(page, app.base, snap, { prefix: 'leaver', displayName: 'Leaving Soon' });
    await openCategoryFromNav(page, 'daily_mood', snap, 'daily mood form');
    await assertLanded(page, await saveRecord(page, MOOD, snap, 'mood saved'), 303, '/data/daily_mood?notice=saved', 'a daily mood');

    await openMyData(page, snap, 'my data');
    const form = await clickAndWait(page, 'a#delete-account-link', snap, 'delete account form');
    await assertLanded(page, form, 200, '/account/delete', 'a#delete-account-link');
    assert.equal(await textOf(page, 'h1#page-title'), 'Delete my account');

    await page.fill('input#confirm', 'delete');
    const wrong = await clickAndWait(page, 'button#delete-account', snap, 'wrong confirmation');
    await assertLanded(page, wrong, 422, '/account/delete', 'a lower-case "delete"');
    assert.equal(await textOf(page, '#confirm-error'), 'Type DELETE exactly to confirm.');
    const still = await visit(page, app.base, DATA_PATH, snap, 'still signed in');
    assert.equal(still.firstStatus, 200, `after a wrong confirmation /data answered ${still.firstStatus} ${await describePage(page)}`);
    assert.equal(await categoryCount(page, 'daily_mood'), 1, 'the data is still there after a wrong confirmation');

    await clickAndWait(page, 'a#delete-account-link', snap, 'delete account form again');
    await page.fill('input#confirm', 'DELETE');
    const gone = await clickAndWait(page, 'button#delete-account', snap, 'account deleted');
    await assertLanded(page, gone, 303, '/signin?notice=account_deleted', 'confirming with DELETE');
    assert.equal(await textOf(page, 'p.notice[role=status]'), 'Your account and all your data have been deleted.');
    assert.equal(await page.locator('#signout, #nav-data').count(), 0, `signed out after deleting the account ${await describePage(page)}`);
    const session = (await context.cookies(app.base)).find((c) => c.name === 'infobank_session');
    assert.ok(!session || session.value === '', `infobank_session cookie still set: ${JSON.stringify(session)}`);

    const data = await visit(page, app.base, DATA_PATH, snap, 'my data after deletion');
    assert.equal(data.firstStatus, 303, `/data after deleting the account answered ${data.firstStatus}`);
    assert.equal(pathOf(page), '/signin', `/data after deleting the account should redirect to /signin ${await describePage(page)}`);

    const again = await submitSignIn(page, account, snap, 'sign-in refused');
    assert.equal(again.firstStatus, 401, `signing in to a deleted account answered ${again.firstStatus}, expected 401 ${await describePage(page)}`);
    assert.equal(await textOf(page, '#signin-error'), 'Email or password is wrong.');
    assert.equal(await page.locator('#signout').count(), 0, 'not signed in');
  });
});

test('my data in Japanese', async (t) => {
  await withPage(app, t, async ({ page, snap }) => {
    await citizenSignedIn(page, app.base, snap, { prefix: 'ja-data', displayName: '山田 花子' });
    await openMyData(page, snap, 'my data en');
    const switched = await clickAndWait(page, 'a[data-lang="ja"]', snap, 'my data ja');
    assert.equal(switched.firstStatus, 303, `GET /lang/ja answered ${switched.firstStatus}, expected a 303 redirect`);
    assert.equal(pathOf(page), DATA_PATH, `the language switch should come back to /data ${await describePage(page)}`);
    assert.equal(await htmlLang(page), 'ja', `/data is not in Japanese ${await describePage(page)}`);
    assert.equal(await textOf(page, 'h1#page-title'), 'マイデータ');
    assert.equal(await textOf(page, 'header #nav-data'), 'マイデータ');
    const categories = await readCategories(page);
    const labels = Object.fromEntries(['daily_mood', 'physical_condition', 'payment_history', 'credit_card'].map((n) => [n, categories[n]?.label]));
    assert.deepEqual(labels, { daily_mood: '日々の気分', physical_condition: '体調', payment_history: '決済履歴', credit_card: 'クレジットカード' }, 'Japanese category labels');
    assert.equal(categories.physical_condition.badgeText, '要配慮(健康情報)');
    assert.equal(await textOf(page, '#import-submit'), 'アップロード');

    await openCategory(page, 'daily_mood', snap, 'daily mood ja');
    assert.equal(await textOf(page, 'h1#page-title'), '日々の気分');
    assert.equal(await textOf(page, '#no-records'), 'まだ登録がありません。');
    assert.equal(await textOf(page, 'h2#form-title'), '追加');
    assert.equal(await textOf(page, 'button#save'), '保存');
    const bad = await saveRecord(page, { date: '2026-11-20', score: 9, note: '晴れ' }, snap, 'score out of range ja');
    await assertLanded(page, bad, 422, '/data/daily_mood', 'a score of 9 (ja)');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await textOf(page, '#f-score-error'), '値が許容範囲外です。');
    assert.equal(await page.inputValue('#f-note'), '晴れ', 'the Japanese note is kept');
    const ok = await saveRecord(page, { score: 3 }, snap, 'saved ja');
    await assertLanded(page, ok, 303, '/data/daily_mood?notice=saved', 'the corrected score (ja)');
    assert.equal(await textOf(page, '#notice'), '保存しました。');
    assert.equal((await readRecords(page))[0]?.facts['メモ'], '晴れ', `the record in Japanese ${await describePage(page)}`);

    await openMyData(page, snap, 'my data ja again');
    await uploadCsv(page, PAYMENTS_CSV, snap, 'upload result ja');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await textOf(page, 'h1#page-title'), '決済履歴のアップロード');
    const result = await readImportResult(page);
    assert.equal(result.imported, 2, `#imported-count (ja) ${await describePage(page)}`);
    assert.equal(result.rejectedCount, 1, `#rejected-count (ja) ${await describePage(page)}`);
    assert.ok(result.rejected['2']?.includes('整数を入力してください。'), `row 2's reason in Japanese: ${JSON.stringify(result.rejected)}`);
  });
});

test('my data is only for the signed-in citizen', async (t) => {
  await withPage(app, t, async ({ page, context, snap }) => {
    // Signed out: every page sends us to sign in.
    for (const where of [DATA_PATH, '/data/daily_mood', '/account/delete']) {
      const res = await visit(page, app.base, where, snap, `${where} signed out`);
      assert.equal(res.firstStatus, 303, `${where} signed out answered ${res.firstStatus}, expected a 303 redirect`);
      assert.equal(pathOf(page), '/signin', `${where} signed out should redirect to /signin ${await describePage(page)}`);
    }

    // Staff: no link, and 403 on the pages, the export and the form posts.
    for (const role of ['regulator', 'operator']) {
      const email = uniqueEmail(`data-${role}`);
      await createStaff(app, role, email, PASSWORD);
      await signIn(page, app.base, { email, password: PASSWORD }, snap, `${role} home`);
      assert.equal(await page.locator('#nav-data').count(), 0, `a ${role} must not get a #nav-data link ${await describePage(page)}`);
      for (const where of [DATA_PATH, '/data/daily_mood', '/account/delete']) {
        const res = await visit(page, app.base, where, snap, `${where} as ${role}`);
        assert.equal(res.firstStatus, 403, `${where} as a ${role} answered ${res.firstStatus}, expected 403 ${await describePage(page)}`);
        assert.equal(pathOf(page), where, 'the refusal is not a redirect');
        assert.equal(await textOf(page, 'h1#page-title'), 'Not available to your role');
        assert.equal(await page.locator('a[data-category], form#record-form, #import-file, #export-link').count(), 0, `the refusal shows none of the data pages ${await describePage(page)}`);
      }
      const exported = await page.request.get(`${app.base}/data/export`, { maxRedirects: 0 });
      assert.equal(exported.status(), 403, `/data/export as a ${role} answered ${exported.status()}`);
      assert.ok(!(exported.headers()['content-disposition'] ?? '').includes('attachment'), `no download for a ${role}`);
      const token = await csrfCookie(context, app.base);
      const post = await page.request.post(`${app.base}/data/daily_mood`, { form: { csrf_token: token, ...MOOD, score: '4' }, maxRedirects: 0 });
      assert.equal(post.status(), 403, `POST /data/daily_mood as a ${role} answered ${post.status()}: ${(await post.text()).slice(0, 300)}`);
      await clickAndWait(page, '#signout', snap, `${role} signed out`);
    }

    // Another citizen's record cannot be opened, edited or deleted.
    const owner = await citizenSignedIn(page, app.base, snap, { prefix: 'owner' });
    await openCategoryFromNav(page, 'daily_mood', snap, 'owner daily mood');
    await assertLanded(page, await saveRecord(page, MOOD, snap, 'owner mood saved'), 303, '/data/daily_mood?notice=saved', "the owner's daily mood");
    const [record] = await readRecords(page);
    await clickAndWait(page, '#signout', snap, 'owner signed out');

    await citizenSignedIn(page, app.base, snap, { prefix: 'intruder' });
    const peek = await visit(page, app.base, `/data/daily_mood/${record.id}/edit`, snap, "someone else's record");
    assert.equal(peek.firstStatus, 404, `another citizen's edit page answered ${peek.firstStatus}, expected 404 ${await describePage(page)}`);
    assert.ok(!(await page.content()).includes('sunny'), "the 404 page shows nothing of the other citizen's record");
    const token = await csrfCookie(context, app.base);
    const update = await page.request.post(`${app.base}/data/daily_mood/${record.id}`, { form: { csrf_token: token, date: '2026-11-20', score: '1', note: 'hijacked' }, maxRedirects: 0 });
    assert.equal(update.status(), 404, `updating another citizen's record answered ${update.status()}`);
    const removal = await page.request.post(`${app.base}/data/daily_mood/${record.id}/delete`, { form: { csrf_token: token }, maxRedirects: 0 });
    assert.equal(removal.status(), 404, `deleting another citizen's record answered ${removal.status()}`);
    await openMyData(page, snap, 'intruder my data');
    assert.equal(await categoryCount(page, 'daily_mood'), 0, "the other citizen's record is not counted here");
    await clickAndWait(page, '#signout', snap, 'intruder signed out');

    await signIn(page, app.base, owner, snap, 'owner again');
    await openCategoryFromNav(page, 'daily_mood', snap, 'owner record untouched');
    const [kept] = await readRecords(page);
    assert.deepEqual([kept?.id, kept?.version, kept?.facts.Note], [record.id, 1, 'sunny'], "the owner's record is untouched");
  });
});
