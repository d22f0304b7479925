import pino, { Logger } from 'pino';

/** Field names whose values never reach a log line. */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'credentials',
  'authorization',
  'apiKey',
  'privateKey',
  'masterKey',
  'dataKey',
  'signingSecret',
];

const redactPaths = [
  ...REDACTED_KEYS,
  ...REDACTED_KEYS.map((k) => `*.${k}`),
  ...REDACTED_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'headers.authorization',
  'req.headers.cookie',
];

export type AppLogger = Logger;

/** JSON logs (pino) with secrets redacted by key; `LOG_LEVEL` sets the level. */
export function createLogger(
  service: string,
  level = 'info',
  destination?: pino.DestinationStream,
): AppLogger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
