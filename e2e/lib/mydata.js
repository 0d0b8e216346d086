// Page helpers for the citizen's "My data" pages (/data, /data/<category>, the upload, the
// export and /account/delete). Everything is server-rendered: a category page lists the records
// (`ul#records > li.record[data-id][data-version]`, each a `dl` of label/value) above a form
// generated from the category's fields (`#f-<field>` inputs, `button#save`).

import assert from 'node:assert/strict';
import { clickAndWait, describePage, pathOf } from './portal.js';

export const DATA_PATH = '/data';

/** Follows the header's #nav-data link and checks that /data opened. */
export async function openMyData(page, snap, step = 'my data') {
  const nav = page.locator('header #nav-data');
  assert.equal(await nav.count(), 1, `a signed-in citizen should have one header #nav-data link ${await describePage(page)}`);
  assert.equal(await nav.getAttribute('href'), DATA_PATH, '#nav-data points at /data');
  const res = await clickAndWait(page, 'header #nav-data', snap, step);
  assert.equal(res.firstStatus, 200, `GET /data answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), DATA_PATH, `#nav-data did not lead to /data ${await describePage(page)}`);
  return res;
}

/** Every category on /data: { name → { label, href, count, badge } } (badge: normal|sensitive|special). */
export async function readCategories(page) {
  const list = await page.evaluate(() =>
    [...document.querySelectorAll('a[data-category]')].map((a) => {
      const li = a.closest('li');
      const count = li?.querySelector('span.count[data-count]');
      const badge = li?.querySelector('span.badge');
      const kind = badge ? [...badge.classList].find((c) => c.startsWith('badge-')) : null;
      return {
        name: a.getAttribute('data-category'),
        label: a.textContent.trim().replace(/\s+/g, ' '),
        href: a.getAttribute('href'),
        count: count ? count.getAttribute('data-count') : null,
        countText: count ? count.textContent.trim().replace(/\s+/g, ' ') : null,
        badge: kind ? kind.slice('badge-'.length) : null,
        badgeText: badge ? badge.textContent.trim() : null,
      };
    }),
  );
  const byName = {};
  for (const c of list) {
    assert.ok(!(c.name in byName), `category ${c.name} is listed twice on /data`);
    assert.match(c.count ?? '', /^\d+$/, `category ${c.name} has no integer span.count[data-count]: ${JSON.stringify(c)}`);
    byName[c.name] = { ...c, count: Number(c.count) };
  }
  return byName;
}

/** The count /data shows for one category (the page must be /data). */
export async function categoryCount(page, name) {
  const categories = await readCategories(page);
  assert.ok(categories[name], `no a[data-category="${name}"] on the page ${await describePage(page)}`);
  return categories[name].count;
}

/** Clicks a[data-category=name] on /data and checks that /data/<name> opened. */
export async function openCategory(page, name, snap, step = `category ${name}`) {
  const res = await clickAndWait(page, `a[data-category="${name}"]`, snap, step);
  assert.equal(res.firstStatus, 200, `GET /data/${name} answered ${res.firstStatus} ${await describePage(page)}`);
  assert.equal(pathOf(page), `/data/${name}`, `a[data-category="${name}"] did not lead to /data/${name} ${await describePage(page)}`);
  return res;
}

/**
 * Fills the record form: `values` maps field names to what to enter. Selects get the option,
 * checkboxes a boolean, everything else (date, number, text inputs and textareas) is typed in.
 */
export async function fillRecord(page, values) {
  for (const [field, value] of Object.entries(values)) {
    const selector = `form#record-form #f-${field}`;
    const input = page.locator(selector);
    assert.equal(await input.count(), 1, `the record form has no ${selector} ${await describePage(page)}`);
    const { tag, type } = await input.evaluate((el) => ({ tag: el.tagName.toLowerCase(), type: el.getAttribute('type') }));
    if (tag === 'select') await input.selectOption(String(value));
    else if (type === 'checkbox') await input.setChecked(Boolean(value));
    else await input.fill(String(value));
  }
}

/** Fills the record form and clicks #save; returns clickAndWait's { firstStatus, status }. */
export async function saveRecord(page, values, snap, step = 'record saved') {
  await fillRecord(page, values);
  return clickAndWait(page, 'form#record-form button#save', snap, step);
}

/** The records listed on a category page: [{ id, version, cells: [[label, value], …], facts: {label: value} }]. */
export async function readRecords(page) {
  const records = await page.evaluate(() =>
    [...document.querySelectorAll('ul#records > li.record')].map((li) => {
      const text = (el) => el.textContent.trim().replace(/\s+/g, ' ');
      const dts = [...li.querySelectorAll('dl dt')];
      return {
        id: li.getAttribute('data-id'),
        version: li.getAttribute('data-version'),
        cells: dts.map((dt) => [text(dt), dt.nextElementSibling ? text(dt.nextElementSibling) : null]),
        editHref: li.querySelector('a.edit-link')?.getAttribute('href') ?? null,
        hasDelete: !!li.querySelector('button.delete-button'),
      };
    }),
  );
  return records.map((r) => ({ ...r, version: Number(r.version), facts: Object.fromEntries(r.cells) }));
}

/** The current values of the record form's inputs: { field → value } (checkboxes: boolean). */
export async function formValues(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('form#record-form [id^="f-"]')]
        .filter((el) => ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName))
        .map((el) => [el.id.slice(2), el.type === 'checkbox' ? el.checked : el.value]),
    ),
  );
}

/** Uploads `csv` (a string) through the form on /data and waits for the result page. */
export async function uploadCsv(page, csv, snap, step = 'upload result', name = 'payments.csv') {
  await page.setInputFiles('#import-file', { name, mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  const res = await clickAndWait(page, '#import-submit', snap, step);
  assert.equal(pathOf(page), '/data/import', `the upload should answer on /data/import ${await describePage(page)}`);
  return res;
}

/** The upload result page: { imported, rejectedCount, rejected: { row → text } }. */
export async function readImportResult(page) {
  const result = await page.evaluate(() => {
    const text = (el) => (el ? el.textContent.trim().replace(/\s+/g, ' ') : null);
    return {
      imported: text(document.querySelector('strong#imported-count')),
      rejectedCount: text(document.querySelector('#rejected-count')),
      rejected: [...document.querySelectorAll('ul#rejected-rows > li[data-row]')].map((li) => [li.getAttribute('data-row'), text(li)]),
      badFile: text(document.querySelector('#import-bad-file')),
    };
  });
  return {
    imported: result.imported === null ? null : Number(result.imported),
    rejectedCount: result.rejectedCount === null ? 0 : Number(result.rejectedCount),
    rejected: Object.fromEntries(result.rejected),
    badFile: result.badFile,
  };
}
