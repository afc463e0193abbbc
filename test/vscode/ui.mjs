// UI checks in the browser, after test/vscode/suite.ts passed and left a session paused at
// score(0, 0.5) with the IO marshaling panel open: what a user sees.
import assert from 'node:assert/strict';

async function until(what, probe, timeoutMs = 20_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

/** The IO panel's document: webview content lives in nested frames. */
async function panelFrame(page) {
  return until('the IO marshaling panel', async () => {
    for (const frame of page.frames()) {
      const found = await frame.$('#spacer').catch(() => null);
      if (found) return frame;
    }
    return undefined;
  });
}

export default async function check(page, { log }) {
  // show the Run and Debug view, where the Call Stack is
  await page.keyboard.press('Control+Shift+D');
  await until('the call stack', async () => (await page.$('.debug-call-stack')) !== null);
  await page.screenshot({ path: new URL('../../.cache/vscode-test/ui-debug-view.png', import.meta.url).pathname });
  // the debug toolbar offers the pending-call actions (once VS Code has taken in the stop)
  const toolbar = await until('the stopped debug toolbar', async () => {
    const labels = await page.$$eval('.debug-toolbar .action-label', els => els.map(e => e.getAttribute('aria-label') || e.title || ''));
    return labels.some(t => /^Continue/.test(t)) ? labels : undefined;
  });
  assert.ok(toolbar.some(t => /Return a Value/.test(t)), `the toolbar offers "Return a Value": ${toolbar.join(' | ')}`);
  log('✔ the debug toolbar offers Return / Forward / Raise for the pending call');

  // the Call Stack shows the stop's description
  const stack = await until('the call stack', async () => (await page.$$eval('.debug-call-stack .monaco-list-row', rows => rows.map(r => r.textContent))).join('\n') || undefined);
  assert.match(stack, /score\(0, 0\.5\)/, stack);
  log('✔ the Call Stack shows the pending call score(0, 0.5)');

  // the panel lists the crossings, with what Monty holds beside what Flyte sees
  const frame = await panelFrame(page);
  const rows = await until('panel rows', async () => {
    const texts = await frame.$$eval('.row', els => els.map(e => e.textContent.replace(/\s+/g, ' ').trim()));
    return texts.length >= 2 ? texts : undefined;
  });
  assert.match(rows[0], /#1 .*fetch_rows\('s3:\/\/demo-bucket\/rows\.csv', 5\)/, rows[0]);
  assert.match(rows[0], /interactive/);
  await frame.click('.row[data-seq="1"]');
  const detail = await frame.$eval('#detail', el => el.textContent.replace(/\s+/g, ' '));
  assert.match(detail, /What Monty holds.*fetch_rows/);
  assert.match(detail, /called from line 29/);
  log(`✔ the IO marshaling panel lists ${rows.length} crossings and shows one in detail`);
  await page.screenshot({ path: new URL('../../.cache/vscode-test/ui-paused.png', import.meta.url).pathname });
}
