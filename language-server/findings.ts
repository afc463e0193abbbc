/**
 * What the language server knows about a sandboxed task, before it becomes
 * LSP: a finding is a diagnostic in file positions (1-based, UTF-16 columns,
 * as the engine has them) with the mechanical fixes that exist for it.
 */
import type { FilePosition } from '../engine/python/module.ts';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Edit {
  file: string;
  start: FilePosition;
  end: FilePosition;
  newText: string;
}

export interface Fix {
  title: string;
  edits: Edit[];
  preferred?: boolean;
}

export interface Finding {
  severity: Severity;
  /** Our rule name ("unknown-external") or ty's ("invalid-argument-type"). */
  code: string;
  /** Who says so: Flyte's rules as the engine reproduces them, Monty's compiler, or Monty's type checker. */
  source: 'flyte-sandbox' | 'monty' | 'monty typeCheck';
  message: string;
  start: FilePosition;
  end: FilePosition;
  /** The sandboxed task it is about. */
  task: string;
  url?: string;
  fixes?: Fix[];
  /** Code that has no effect (a keyword argument Flyte drops). */
  unnecessary?: boolean;
}
