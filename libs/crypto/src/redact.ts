const SECRET_KEY = /(password|secret|token|credential|apikey|api_key|privatekey|private_key|passphrase)/i;

/** A deep copy with every secret-looking field replaced, for audit before/after and logs. */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v, depth + 1);
  }
  return out as T;
}
