/** Messages a child process sends its supervisor over the IPC channel. */
export type ChildMessage =
  | { type: 'ready'; service: string; detail?: Record<string, unknown> }
  | { type: 'fatal'; service: string; message: string };

export function tellParent(msg: ChildMessage): void {
  process.send?.(msg);
}

/**
 * Children die with their supervisor: when the IPC channel closes (supervisor exited or was
 * killed), run the same graceful shutdown as on SIGTERM, so no process is left orphaned.
 */
export function onShutdownSignal(shutdown: (reason: string) => Promise<void> | void): void {
  let started = false;
  const once = (reason: string) => {
    if (started) return;
    started = true;
    void Promise.resolve(shutdown(reason)).catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => once('SIGTERM'));
  process.on('SIGINT', () => once('SIGINT'));
  if (process.send) process.on('disconnect', () => once('supervisor gone'));
}
