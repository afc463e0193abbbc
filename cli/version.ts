/** `flyte-sandbox --version`: this debugger, the Monty the engine runs, and the Monty production pins per Flyte profile. */
import { DEFAULT_PROFILE_ID, debuggerVersion, engineMontyVersion, PROFILES } from '../engine/index.ts';

export function versionText(): string {
  return [
    `flyte-sandbox ${debuggerVersion()}`,
    `engine: @pydantic/monty ${engineMontyVersion()} (Monty's JavaScript binding)`,
    'production pins pydantic-monty:',
    ...PROFILES.map(p => `  ${p.montyPin.padEnd(8)} ${p.label} (profile ${p.id}${p.id === DEFAULT_PROFILE_ID ? ', the default' : ''})`),
  ].join('\n');
}
