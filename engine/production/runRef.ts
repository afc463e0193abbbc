/** A production run as the user names it: its name, or its URL as the Flyte UI shows it. */
import { UsageError } from '../errors.ts';

export interface RunRef {
  run: string;
  project?: string;
  domain?: string;
  url?: string;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** flyte's Console.run_url: https://<host>/v2/domain/<domain>/project/<project>/runs/<run> (then maybe more path or a query). */
const RUN_URL = /^https?:\/\/[^/]+\/v2\/domain\/([^/?#]+)\/project\/([^/?#]+)\/runs\/([^/?#]+)/;

export function parseRunRef(text: string): RunRef {
  const t = text.trim();
  if (/^https?:\/\//.test(t)) {
    const m = RUN_URL.exec(t);
    if (!m) throw new UsageError(`not a run URL (expected https://<host>/v2/domain/<domain>/project/<project>/runs/<run>, as the Flyte UI shows a run)`, t);
    const [, domain, project, run] = m.map(decodeURIComponent) as [string, string, string, string];
    return { run, project, domain, url: t };
  }
  if (!RUN_NAME.test(t)) throw new UsageError('not a run name or a run URL', t || '(empty)');
  return { run: t };
}
