/** A bad launch attribute: clients show the message; the attribute says which setting to fix. */
export class LaunchError extends Error {
  constructor(readonly attribute: string, message: string) {
    super(`${attribute}: ${message}`);
    this.name = 'LaunchError';
  }
}
