// Scenario 6: accessibility smoke test: labelled inputs and a skip link that comes first.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useApp, withPage } from '../lib/server.js';
import { describePage, visit } from '../lib/portal.js';

const app = useApp();

/** Every visible form control (inputs except hidden ones) and whether a <label for> names it. */
function controlsAndLabels() {
  return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].map((el) => {
    const labels = el.id ? [...document.querySelectorAll('label[for]')].filter((l) => l.htmlFor === el.id) : [];
    return {
      name: el.getAttribute('name'),
      id: el.id,
      labelCount: labels.length,
      labelText: labels.map((l) => l.textContent.trim()).join(' | '),
      labelledByApi: el.labels ? el.labels.length : 0,
    };
  });
}

for (const path of ['/signup', '/signin']) {
  test(`every input on ${path} has a label`, async (t) => {
    await withPage(app, t, async ({ page, snap }) => {
      const res = await visit(page, app.base, path, snap, `form ${path}`);
      assert.equal(res.status, 200);
      const controls = await page.evaluate(controlsAndLabels);
      assert.ok(controls.length >= 2, `expected form inputs on ${path}, found ${controls.length} ${await describePage(page)}`);
      for (const c of controls) {
        assert.ok(c.id, `input name=${c.name} on ${path} has no id, so no <label for> can point at it`);
        assert.equal(c.labelCount, 1, `input #${c.id} on ${path} should have exactly one <label for="${c.id}">, has ${c.labelCount}`);
        assert.ok(c.labelText.length > 0, `the label of #${c.id} on ${path} is empty`);
        assert.equal(c.labelledByApi, 1, `the browser does not associate a label with #${c.id} on ${path}`);
      }
      const ids = controls.map((c) => c.id).sort();
      const expected = path === '/signup' ? ['display_name', 'email', 'password'] : ['email', 'password'];
      assert.deepEqual(ids, expected, `the inputs on ${path}`);
    });
  });
}

for (const [path, pageName] of [['/', 'the landing page'], ['/signin', '/signin'], ['/signup', '/signup']]) {
  test(`Tab from the top focuses the skip link on ${pageName}`, async (t) => {
    await withPage(app, t, async ({ page, snap }) => {
      await visit(page, app.base, path, null);
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        return { tag: el?.tagName, cls: el?.className, href: el?.getAttribute('href'), text: el?.textContent.trim(), isSkip: !!el?.matches('a.skip') };
      });
      await snap(`skip link focused ${path}`);
      assert.ok(focused.isSkip, `the first Tab on ${path} should focus a.skip, focused ${JSON.stringify(focused)}`);
      assert.equal(focused.href, '#main', 'the skip link points at #main');
      assert.equal(focused.text, 'Skip to main content');
      assert.ok(await page.locator('a.skip').isVisible(), 'the focused skip link is visible');

      // Following it moves focus to the main region.
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'main', null, { timeout: 5_000 }).catch(() => {});
      const after = await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
      assert.equal(after, 'main', `after following the skip link focus should be on #main, is on ${after}`);
    });
  });
}
