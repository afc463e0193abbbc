/**
 * The debug adapter's entry (`dist/debugAdapter.js`). Over stdio (one
 * session per process) the session will need its runtime child, so the
 * child is started first, while the rest of the adapter (a megabyte of code
 * in `dist/debugAdapterMain.js`) is compiled and loaded: both start up at
 * once, and launch to first stop is shorter by the adapter's own load time.
 * `--server`, `--socket` and `--in-process` start children per connection,
 * or none.
 */
import { prestartChild } from '../engine/host/childProcess.ts';

const perConnection = process.argv.slice(2).some(a => a.startsWith('--server') || a.startsWith('--socket') || a === '--in-process');
if (!perConnection) prestartChild('runtimeHost.js', 'runtimeChild.ts');
// Not a literal: the rest stays a bundle of its own, loaded after the child is on its way.
const main = new URL('./debugAdapterMain.js', import.meta.url).href;
await import(main);
