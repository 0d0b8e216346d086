// Test harness for the infobank browser end-to-end tests.
//
// - startServer(): runs `infobank serve` on a free loopback port with a fresh temporary data
//   directory and waits for /readyz.
// - launchBrowser(): the system Chromium through playwright-core.
// - useApp(): registers before/after hooks (one server and one browser per test file) and
//   returns an object whose `base` and `browser` are set once `before` has run.
// - withPage(app, t, fn): a fresh browser context (locale en-US) and page for one test, with a
//   `snap(step)` helper that saves a full-page screenshot to ../target/e2e-artifacts/.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The e2e/ folder: relative paths in this harness are resolved against it. */
export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS_DIR = path.resolve(E2E_DIR, '../target/e2e-artifacts');

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const KEEP_OUTPUT_BYTES = 64 * 1024;

/** The server binary: $INFOBANK_BIN, else ../target/release/infobank (relative to e2e/). */
export function serverBinary() {
  return path.resolve(E2E_DIR, process.env.INFOBANK_BIN || '../target/release/infobank');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The server's log is coloured; strip ANSI escapes so error messages stay readable.
// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Keeps the last KEEP_OUTPUT_BYTES of a stream. */
function tail(stream) {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    text += chunk;
    if (text.length > KEEP_OUTPUT_BYTES) text = text.slice(-KEEP_OUTPUT_BYTES);
  });
  return () => stripAnsi(text);
}

// Servers still running when this process exits (e.g. after an uncaught error) are killed.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * The environment the server (and any CLI command run against the same data) gets: a minimal
 * one, so nothing else from the caller's INFOBANK_* settings leaks in. `PATH`, the data
 * directory, `INFOBANK_DATABASE_URL` from $E2E_DATABASE_URL when set, and `HOME`, `RUST_LOG`,
 * `RUST_BACKTRACE` when the caller has them.
 */
export function serverEnv(dataDir) {
  const env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', INFOBANK_DATA_DIR: dataDir };
  for (const name of ['HOME', 'RUST_LOG', 'RUST_BACKTRACE']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  if (process.env.E2E_DATABASE_URL) env.INFOBANK_DATABASE_URL = process.env.E2E_DATABASE_URL;
  return env;
}

/**
 * Starts `infobank serve` on a free port with a fresh data directory and waits until
 * GET /readyz answers 200. Resolves to { base, port, dataDir, bin, stderr(), stdout(), stop() }.
 * Options: `args` added to `serve` (e.g. ['--demo']); `sqlite: true` ignores $E2E_DATABASE_URL
 * (the demo seeds only an empty database, and the PostgreSQL one is shared by the test files);
 * `readyTimeoutMs` for a server that does work before it listens.
 */
export async function startServer({ args = [], sqlite = false, readyTimeoutMs = READY_TIMEOUT_MS } = {}) {
  const bin = serverBinary();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'infobank-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  const env = serverEnv(dataDir);
  if (sqlite) delete env.INFOBANK_DATABASE_URL;
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve(exited);
    });
  });
  let spawnError = null;
  child.on('error', (err) => {
    spawnError = err;
  });

  async function stop() {
    if (exited === null && spawnError === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exitPromise, sleep(STOP_GRACE_MS).then(() => null)]);
      if (done === null) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    running.delete(child);
    await rm(dataDir, { recursive: true, force: true });
  }

  const describe = () =>
    `binary: ${bin}\nlisten: 127.0.0.1:${port}\ndata dir: ${dataDir}\n` +
    `--- server stderr ---\n${stderr() || '(empty)'}\n--- server stdout ---\n${stdout() || '(empty)'}`;

  const deadline = Date.now() + readyTimeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not start the infobank server (${spawnError.message}); set INFOBANK_BIN?\n${describe()}`);
    }
    if (exited) {
      const text = describe();
      await stop();
      throw new Error(`the infobank server exited before it was ready (code ${exited.code}, signal ${exited.signal})\n${text}`);
    }
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `GET /readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /readyz failed: ${err.cause?.code ?? err.message}`;
    }
    if (Date.now() >= deadline) {
      const text = describe();
      await stop();
      throw new Error(`the infobank server was not ready after ${readyTimeoutMs / 1000} s (${lastProblem})\n${text}`);
    }
    await sleep(READY_POLL_MS);
  }

  return { base, port, dataDir, bin, stdout, stderr, stop };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The system Chromium ($CHROMIUM_PATH, default /usr/bin/chromium), headless. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * One server and one browser for the test file: registers `before`/`after` hooks and returns
 * an object that gets `base`, `server` and `browser` once `before` has run.
 */
export function useApp(options = {}) {
  const app = { base: undefined, server: undefined, browser: undefined };
  before(async () => {
    app.server = await startServer(options);
    app.base = app.server.base;
    app.browser = await launchBrowser();
  });
  after(async () => {
    try {
      await app.browser?.close();
    } finally {
      await app.server?.stop();
    }
  });
  return app;
}

/** A file-name-safe form of a test or step name. */
export function slug(text) {
  return (
    String(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'step'
  );
}

/**
 * Runs `fn({ page, context, snap })` in a fresh browser context (locale en-US). `snap(step)`
 * saves a full-page screenshot as <test-name>-<NN>-<step>.png; on failure a last screenshot
 * "<test-name>-<NN>-failed.png" is taken before the error propagates. Server stderr is appended
 * to the failure message to help diagnose app-side errors.
 */
export async function withPage(app, t, fn) {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const context = await app.browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(15_000);
  const testSlug = slug(t.name);
  // Screenshots left by an earlier run of this test would be confusing next to this run's.
  for (const name of await readdir(ARTIFACTS_DIR)) {
    if (name.startsWith(`${testSlug}-`) && /^\d{2}-/.test(name.slice(testSlug.length + 1))) {
      await rm(path.join(ARTIFACTS_DIR, name), { force: true });
    }
  }
  let counter = 0;
  const snap = async (step) => {
    counter += 1;
    const file = path.join(ARTIFACTS_DIR, `${testSlug}-${String(counter).padStart(2, '0')}-${slug(step)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  try {
    await fn({ page, context, snap });
  } catch (err) {
    try {
      await snap('failed');
    } catch {
      // the page may be gone; the original error matters more
    }
    const log = app.server?.stderr().split('\n').slice(-30).join('\n');
    if (err && typeof err === 'object' && log) {
      err.message += `\n--- last server log lines ---\n${log}`;
    }
    throw err;
  } finally {
    await context.close();
  }
}
