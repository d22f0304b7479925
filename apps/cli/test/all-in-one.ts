import { ServiceProcess, waitFor } from '@nephele/testing';

/**
 * Starts the all-in-one for a CLI E2E. On a loaded machine it may take longer than
 * ServiceProcess.start's own 30 s wait: keep waiting for /readyz (the child keeps running).
 */
export async function startAllInOne(env: Record<string, string>): Promise<ServiceProcess> {
  const svc = new ServiceProcess('nephele', env, Number(env.PORT));
  await svc.start().catch(() =>
    waitFor(async () => (await fetch(`${svc.url}/readyz`).catch(() => undefined))?.ok, {
      timeoutMs: 200_000,
      what: 'nephele to be ready',
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n--- nephele output ---\n${svc.output.slice(-3000)}`);
    }),
  );
  return svc;
}
