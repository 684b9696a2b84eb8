/** Turns any start-up failure into one line for the terminal, never a stack trace. */
export function oneLineError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & {
    code?: string;
    port?: number;
    address?: string;
    variable?: string;
  };
  if (e?.code === 'EADDRINUSE') {
    return `address ${e.address ?? ''}:${e.port ?? ''} is already in use (choose another port in the configuration${e.variable ? `: ${e.variable}` : ''})`;
  }
  if (e?.code === 'EACCES' && e.port !== undefined) {
    return `no permission to listen on port ${e.port}`;
  }
  const msg = (e?.message ?? String(err)).split('\n')[0] ?? 'unknown error';
  // System errors (ECONNREFUSED...) get their code; our own errors speak for themselves.
  return e?.code && /^E[A-Z]+$/.test(e.code) && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

export function fail(err: unknown, exitCode = 1): never {
  process.stderr.write(`medgrid: ${oneLineError(err)}\n`);
  process.exit(exitCode);
}
