import { ServiceProcess } from './process';
import { waitFor } from './wait';

const exitCodeOf = (p: ServiceProcess) =>
  (p as unknown as { child?: { exitCode: number | null } }).child?.exitCode ?? null;

/**
 * Starts an app for an E2E on a shared, loaded machine: it may take longer than
 * ServiceProcess.start's own 30 s wait (keep waiting for /readyz), and a start that dies of a
 * start-up timeout (the embedded database not answering in time) is tried once more.
 */
export async function startSlowly(
  app: string,
  env: Record<string, string>,
  attempts = 2,
): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const p = new ServiceProcess(app, env, Number(env.PORT));
    const ready = await p
      .start()
      .then(() => true)
      .catch(() =>
        waitFor(
          async () => {
            if (exitCodeOf(p) !== null) return 'exited';
            return (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok;
          },
          { timeoutMs: 200_000, what: `${app} to be ready` },
        ).then((r) => r === true),
      );
    if (ready) return p;
    if (attempt >= attempts) throw new Error(`${app} did not start:\n${p.output.slice(-3000)}`);
    await p.kill('SIGKILL');
  }
}
