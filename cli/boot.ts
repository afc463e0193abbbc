/**
 * The CLI's entry (`dist/cli.js`). A command that runs a sandbox needs its
 * child process: it is started first, so that the child's own start-up
 * (Node, Monty, the engine) runs beside the CLI loading and checking the
 * program rather than after it. The rest of the CLI is a bundle of its own
 * (`dist/cliMain.js`), loaded once the child is on its way.
 */
import { prestartChild } from '../engine/host/childProcess.ts';
import { delayWasmTierUp } from '../engine/host/wasmTiering.ts';

const argv = process.argv.slice(2);
if (!argv.some(a => a === '--help' || a === '-h' || a === '--version')) {
  if (argv[0] === 'run' || argv[0] === 'test') prestartChild('sandboxHost.js', 'child.ts');
  else if (argv[0] === 'debug') prestartChild('runtimeHost.js', 'runtimeChild.ts');
}
delayWasmTierUp();
// Not a literal: the rest stays a bundle of its own.
const main = new URL('./cliMain.js', import.meta.url).href;
await import(main);
