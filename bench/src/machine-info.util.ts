import os from 'node:os';

/** Printed at the top of every benchmark report so figures are read against the machine that produced them. */
export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}
