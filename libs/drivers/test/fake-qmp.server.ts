import { createServer, Server, Socket } from 'node:net';

/**
 * A QMP monitor for tests: the greeting, `qmp_capabilities` (required first, as QEMU requires),
 * `query-status`, `system_reset` (emits a RESET event), `system_powerdown` (POWERDOWN, then the
 * status becomes `shutdown`), `quit` (answers, then closes), and CommandNotFound for the rest.
 */
export class FakeQmpServer {
  readonly commands: string[] = [];
  status = 'running';
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(readonly path: string) {}

  async start(): Promise<this> {
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((r) => this.server!.listen(this.path, r));
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private serve(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    const send = (o: unknown) => {
      // After quit QEMU is gone: whatever the client still sends is not answered.
      if (!s.writableEnded) s.write(`${JSON.stringify(o)}\r\n`);
    };
    send({
      QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: ['oob'] },
    });
    let negotiated = false;
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line) as { execute: string; id?: string };
        this.commands.push(m.execute);
        const id = m.id === undefined ? {} : { id: m.id };
        if (!negotiated && m.execute !== 'qmp_capabilities') {
          send({
            error: {
              class: 'CommandNotFound',
              desc: 'Expecting capabilities negotiation with qmp_capabilities',
            },
            ...id,
          });
          continue;
        }
        switch (m.execute) {
          case 'qmp_capabilities':
            negotiated = true;
            send({ return: {}, ...id });
            break;
          case 'query-status':
            send({ return: { status: this.status, running: this.status === 'running' }, ...id });
            break;
          case 'system_reset':
            send({ return: {}, ...id });
            send({
              event: 'RESET',
              data: { guest: false, reason: 'host-qmp-system-reset' },
              timestamp: { seconds: 1, microseconds: 0 },
            });
            break;
          case 'system_powerdown':
            send({ return: {}, ...id });
            send({ event: 'POWERDOWN', timestamp: { seconds: 1, microseconds: 0 } });
            this.status = 'shutdown';
            break;
          case 'quit':
            send({ return: {}, ...id });
            s.end();
            break;
          default:
            send({
              error: { class: 'CommandNotFound', desc: `The command ${m.execute} has not been found` },
              ...id,
            });
        }
      }
    });
  }
}
