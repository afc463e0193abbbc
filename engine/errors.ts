/** Errors of the debugger's own inputs (not of the sandboxed program): they name what is wrong and where. */

export class UsageError extends Error {
  constructor(message: string, readonly where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UsageError';
  }
}
