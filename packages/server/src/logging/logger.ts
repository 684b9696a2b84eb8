import { type Logger, pino } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Patient data must never be logged;
 * this list is the safety net, not the mechanism: later domains add their PHI-bearing keys here.
 */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.token',
  '*.patientName',
  '*.patientId',
  '*.patientBirthDate',
  '*.PatientName',
  '*.PatientID',
  '*.PatientBirthDate',
  '*.identity',
  '*.phi',
];

export function createLogger(opts: { level: string; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: opts.name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

export type { Logger };
