/** Limits recorded on a provider account, a pool or a pool family; absent means unlimited. */
export interface Quota {
  maxInstances?: number;
  maxCores?: number;
  maxMemoryMb?: number;
}

/** What is in use (or asked for) against a quota. */
export interface Usage {
  instances: number;
  cores: number;
  memoryMb: number;
}

/**
 * Whether `request` fits under `quota` given `used`. Returns the first limit it would exceed, or
 * undefined when there is headroom. Enforcement is the launcher's job (iaas-gateway).
 */
export function quotaExceeded(
  quota: Quota | null | undefined,
  used: Usage,
  request: Usage,
): string | undefined {
  if (!quota) return undefined;
  const checks: [number | undefined, number, string][] = [
    [quota.maxInstances, used.instances + request.instances, 'instances'],
    [quota.maxCores, used.cores + request.cores, 'cores'],
    [quota.maxMemoryMb, used.memoryMb + request.memoryMb, 'MB of memory'],
  ];
  for (const [max, want, what] of checks) {
    if (max !== undefined && want > max) return `would use ${want} ${what}, quota is ${max}`;
  }
  return undefined;
}
