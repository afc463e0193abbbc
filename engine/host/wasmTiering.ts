/**
 * A launch parses its file cold, and V8's dynamic tiering then recompiles
 * tree-sitter's hottest wasm functions with TurboFan on background threads,
 * which on a 2-core machine compete with the launch itself (measured: ~30 ms
 * of a ~340 ms cold launch in the runtime child). A hundredfold budget still
 * lets code that keeps running (a large parse, a busy JS stub) tier up, later.
 */
import { setFlagsFromString } from 'node:v8';

const DEFAULT_BUDGET = 1_800_000;

export function delayWasmTierUp(): void {
  setFlagsFromString(`--wasm-tiering-budget=${100 * DEFAULT_BUDGET}`);
}
