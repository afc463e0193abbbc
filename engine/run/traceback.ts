/** A failure as Python prints it: frames with their source lines, a forwarded traceback, the exception, our hint. */
import type { SandboxFailure } from './outcome.ts';

export function formatTraceback(f: SandboxFailure, showPath: (file: string) => string = file => file): string {
  const lines: string[] = [];
  if (f.frames.length) {
    lines.push('Traceback (most recent call last):');
    for (const fr of f.frames) {
      lines.push(`  File "${showPath(fr.file)}", line ${fr.line}, in ${fr.function}`);
      if (fr.sourceLine) lines.push(`    ${fr.sourceLine}`);
    }
  }
  if (f.traceback) lines.push(...f.traceback.trimEnd().split('\n').map(l => `  | ${l}`));
  lines.push(`${f.type}: ${f.message}`);
  if (f.hint) lines.push(`  hint: ${f.hint}`);
  return lines.join('\n');
}
