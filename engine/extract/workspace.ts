/** Python files of the user's workspace, parsed once, and Python's import resolution over them. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PythonModule } from '../python/module.ts';

export class Workspace {
  private readonly cache = new Map<string, Promise<PythonModule>>();

  /** `roots` play the part of `sys.path`: the main script's folder first. */
  constructor(readonly roots: string[], private readonly overrides = new Map<string, string>()) {}

  module(path: string, moduleName?: string): Promise<PythonModule> {
    const abs = resolve(path);
    let m = this.cache.get(abs);
    if (!m) {
      const text = this.overrides.get(abs);
      m = text !== undefined ? PythonModule.fromText(abs, text, moduleName) : PythonModule.fromFile(abs, moduleName);
      this.cache.set(abs, m);
    }
    return m;
  }

  /** Free every parsed file's tree (wasm memory no garbage collector frees); the modules are unusable afterwards. */
  async dispose(): Promise<void> {
    const modules = [...this.cache.values()];
    this.cache.clear();
    for (const m of modules) (await m.catch(() => undefined))?.tree.delete();
  }

  /** The file `from <dots><moduleName> import ...` names, seen from `importer`, if it is in the workspace. */
  async resolveImport(importer: PythonModule, moduleName: string, level: number): Promise<PythonModule | undefined> {
    const parts = moduleName ? moduleName.split('.') : [];
    let bases: string[];
    if (level > 0) {
      let base = dirname(importer.path);
      for (let i = 1; i < level; i++) base = dirname(base);
      bases = [base];
    } else {
      bases = this.roots;
    }
    for (const base of bases) {
      const stem = join(base, ...parts);
      for (const candidate of [`${stem}.py`, join(stem, '__init__.py')]) {
        if (parts.length === 0 && candidate === `${stem}.py`) continue;
        if (existsSync(candidate)) return this.module(candidate, level > 0 ? parts.at(-1) ?? moduleName : moduleName);
      }
    }
    return undefined;
  }
}
