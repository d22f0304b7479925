import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EdgeListener, EdgeOutcomes } from '@nephele/bus';
import {
  AgentAddresses,
  AgentCommand,
  AgentEvent,
  parseAgentEvent,
  signAgentMessage,
} from '@nephele/contracts';
import { agentCloudConfig, createDriver, QemuDriver } from '@nephele/drivers';
import { freePort, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const run = promisify(execFile);

// The vm profile (npm run test:vm): one real VM on the qemu driver, booted once. The Debian 12
// image is built first when NEPHELE_VM_IMAGE_DIR (default .nephele/images/debian-12) has none.
// cloud-init reads the NoCloud seed, installs the agent bundle over user-mode networking (the
// host is 10.0.2.2), verifies its checksum and starts the systemd unit; the agent logs in to the
// edge with its assembly's credential, heartbeats, and runs the OCF Dummy agent of the image's
// resource-agents when told to. Figures are printed, not asserted.

const imageDir = path.resolve(
  WORKSPACE_ROOT,
  process.env.NEPHELE_VM_IMAGE_DIR ?? '.nephele/images/debian-12',
);
const assemblyId = 'vmdep.web.1';
const deployableId = 'vmdep';
const secret = 'vm-assembly-credential';

function log(line: string): void {
  process.stdout.write(`[vm] ${line}\n`);
}

describe('qemu driver: an assembly as a real VM', () => {
  let dir: string;
  let bundleServer: Server;
  let listener: EdgeListener;
  let sut: QemuDriver;
  const tokens = new Set<string>();
  let bundle: Buffer;
  let downloads = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-e2e-'));
    if (!existsSync(path.join(imageDir, 'image.json'))) {
      const t0 = Date.now();
      await run('bash', [path.join(WORKSPACE_ROOT, 'tools/images/build-debian-image.sh'), imageDir], {
        maxBuffer: 64 * 1024 * 1024,
      });
      log(`image built in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    const bundlePath = path.join(dir, 'nephele-agent.js');
    await run(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/images/agent-bundle.mjs'), bundlePath]);
    bundle = await readFile(bundlePath);
    // The gateway's /v1/agent-bundle in miniature: one download per token.
    bundleServer = createServer((req, res) => {
      const t = String(req.headers['x-nephele-bundle-token'] ?? '');
      if (req.url !== '/v1/agent-bundle' || !tokens.delete(t)) {
        res.writeHead(401).end();
        return;
      }
      downloads++;
      res.writeHead(200, { 'content-type': 'application/javascript' }).end(bundle);
    });
    await new Promise<void>((r) => bundleServer.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    await sut?.list().then((l) => Promise.all(l.map((i) => sut.destroy(i.id).catch(() => undefined))));
    await listener?.close();
    await new Promise<void>((r) => bundleServer?.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('boots, cloud-init starts the agent, an OCF Dummy service runs in the guest, destroy stops the VM', async () => {
    const edgePort = await freePort();
    listener = new EdgeListener({
      port: edgePort,
      host: '127.0.0.1',
      verify: (u, p) =>
        u === assemblyId && p === secret
          ? {
              name: u,
              mayAttach: (role, a) =>
                role === 'receive'
                  ? a === AgentAddresses.commands(assemblyId)
                  : a === AgentAddresses.events(deployableId) || a.startsWith('reply.'),
            }
          : null,
    });
    await listener.start();
    const dpe = listener.connect('dpe');
    const events: AgentEvent[] = [];
    await dpe.receive(AgentAddresses.events(deployableId), (m) => {
      const e = parseAgentEvent(m.body);
      if (e.ok) events.push(e.value);
      return EdgeOutcomes.accept();
    });

    sut = createDriver(
      'qemu',
      {
        images: { 'debian-12': { dir: imageDir } },
        profiles: [{ id: 'vm-small', cpu: 1, memoryMb: 1024 }],
        stateDir: path.join(dir, 'qemu'),
        stopGraceMs: 20_000,
        // TCG unless told otherwise: a /dev/kvm that opens is not proof that KVM works (nested
        // KVM on this project's machines hangs in the kernel's decompressor).
        accel: process.env.NEPHELE_VM_ACCEL ?? 'tcg',
      },
      {},
    ) as QemuDriver;
    log(`accelerator: ${sut.accel}`);
    const token = createHash('sha256').update(`${Date.now()}`).digest('base64url');
    tokens.add(token);
    const httpPort = (bundleServer.address() as AddressInfo).port;
    const userData = agentCloudConfig({
      identity: {
        assemblyId,
        deployableId,
        agentSecret: secret,
        amqp10Url: `amqp://10.0.2.2:${edgePort}`,
        heartbeatInterval: '2000ms',
      },
      bundle: {
        url: `http://10.0.2.2:${httpPort}/v1/agent-bundle`,
        sha256: createHash('sha256').update(bundle).digest('hex'),
        token,
      },
    });

    const t0 = Date.now();
    const inst = await sut.create({
      idempotencyKey: 'vm-e2e-1',
      name: 'web-1',
      image: 'debian-12',
      profile: 'vm-small',
      userData,
    });
    expect(inst.state).toBe('running');
    const consoleLog = path.join(dir, 'qemu', 'instances', inst.id, 'console.log');
    const tail = () =>
      existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').slice(-3000) : '(no console)';
    await waitFor(() => events.some((e) => e.kind === 'heartbeat'), {
      what: `the first heartbeat from the guest; console:\n${tail()}`,
      timeoutMs: 35 * 60_000,
    });
    log(`boot to first heartbeat: ${Math.round((Date.now() - t0) / 1000)} s (${sut.accel})`);
    expect(downloads).toBe(1);
    expect(tokens.size).toBe(0);

    const command: AgentCommand = {
      kind: 'command',
      action: 'start',
      requestId: 'vm-start-1',
      epoch: 1,
      service: {
        name: 'dummy',
        class: 'ocf',
        provider: 'heartbeat',
        type: 'Dummy',
        parameters: { state: '/run/nephele-dummy.state' },
        monitor: { intervalMs: 2000, timeoutMs: 20_000 },
      },
    };
    const reply = await dpe.request(AgentAddresses.commands(assemblyId), signAgentMessage(secret, command), {
      timeoutMs: 120_000,
    });
    expect(reply.body).toMatchObject({ kind: 'service-status', service: 'dummy', state: 'running' });
    await waitFor(
      () =>
        events.some(
          (e) =>
            e.kind === 'heartbeat' &&
            (e as { services: Record<string, string> }).services.dummy === 'running',
        ),
      { what: 'a heartbeat with the OCF service running', timeoutMs: 120_000 },
    );

    // Kill it from inside the guest (a process service of the agent removes Dummy's state file):
    // the agent's recurring monitor reports the failure at once, and a restart — what the DPE's
    // recovery ladder does first — brings it back.
    const killer: AgentCommand = {
      kind: 'command',
      action: 'start',
      requestId: 'vm-kill-1',
      epoch: 1,
      service: {
        name: 'killer',
        class: 'process',
        command: 'rm -f /run/nephele-dummy.state; exec sleep 3600',
        monitor: { intervalMs: 5000, timeoutMs: 20_000 },
      },
    };
    await dpe.request(AgentAddresses.commands(assemblyId), signAgentMessage(secret, killer), {
      timeoutMs: 120_000,
    });
    await waitFor(
      () => events.some((e) => e.kind === 'service-status' && e.service === 'dummy' && e.state === 'failed'),
      { what: 'the OCF service failure report', timeoutMs: 120_000 },
    );
    const healed = await dpe.request(
      AgentAddresses.commands(assemblyId),
      signAgentMessage(secret, { ...command, requestId: 'vm-start-2' }),
      { timeoutMs: 120_000 },
    );
    expect(healed.body).toMatchObject({ kind: 'service-status', service: 'dummy', state: 'running' });

    const listed = await sut.list();
    expect(listed.map((i) => [i.id, i.state])).toEqual([[inst.id, 'running']]);
    const pid = Number(readFileSync(path.join(dir, 'qemu', 'instances', inst.id, 'qemu.pid'), 'utf8'));
    await sut.destroy(inst.id);
    // Gone, or a zombie waiting for whichever ancestor reaps daemons here.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || / Z /.test(stat)).toBe(true);
    expect(existsSync(path.join(dir, 'qemu', 'instances', inst.id))).toBe(false);
    expect(await sut.list()).toEqual([]);
    log(`whole scenario: ${Math.round((Date.now() - t0) / 1000)} s`);
  });
});
