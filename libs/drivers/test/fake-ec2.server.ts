import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small EC2 Query API on a local port, for the ec2 driver's tests. Requests are
// `POST /` with a form body (`Action=…&Version=2016-11-15&…`, lists as `InstanceId.1`,
// `Filter.1.Name`/`Filter.1.Value.1`, `TagSpecification.1.Tag.1.Key`), signed with AWS Signature
// Version 4 — the server recomputes the signature from the secret key and refuses a mismatch.
// Answers are the XML documents of the EC2 API reference (namespace
// http://ec2.amazonaws.com/doc/2016-11-15/; lists as <…Set><item>…</item></…Set>):
//   RunInstancesResponse {requestId, reservationId, ownerId, groupSet, instancesSet}
//   DescribeInstancesResponse {requestId, reservationSet: [{reservationId, ownerId, instancesSet}], nextToken}
//   Terminate/Start/StopInstancesResponse {requestId, instancesSet: [{instanceId, currentState, previousState}]}
//   RebootInstancesResponse {requestId, return}
//   DescribeImagesResponse {requestId, imagesSet}, DescribeInstanceTypesResponse {requestId,
//   instanceTypeSet: [{instanceType, vCpuInfo: {defaultVCpus}, memoryInfo: {sizeInMiB},
//   processorInfo: {supportedArchitectures}}], nextToken}, DescribeAvailabilityZonesResponse
//   {requestId, availabilityZoneInfo: [{zoneName, zoneState, regionName, zoneId}]}
//   errors: HTTP 400/401/503 <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
// (EC2 API Reference: RunInstances, DescribeInstances, TerminateInstances, StartInstances,
// StopInstances, RebootInstances, DescribeImages, DescribeInstanceTypes,
// DescribeAvailabilityZones, "Error codes for the Amazon EC2 API"; element names as the
// @aws-sdk/client-ec2 deserializer reads them.)

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface FakeEc2Instance {
  id: string;
  imageId: string;
  instanceType: string;
  state: string;
  az: string;
  clientToken: string;
  tags: Record<string, string>;
  userData?: string;
  launchTime: string;
  privateIp: string;
  reservationId: string;
}

type XmlValue = string | number | boolean | undefined | XmlValue[] | { [k: string]: XmlValue };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xml(name: string, v: XmlValue): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return `<${name}>${v.map((x) => xml('item', x)).join('')}</${name}>`;
  if (typeof v === 'object')
    return `<${name}>${Object.entries(v)
      .map(([k, x]) => xml(k, x))
      .join('')}</${name}>`;
  return `<${name}>${esc(String(v))}</${name}>`;
}

function list(p: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`)!);
  return out;
}

export class FakeEc2 {
  readonly instances = new Map<string, FakeEc2Instance>();
  readonly requests: { action: string; params: URLSearchParams }[] = [];
  readonly images = [
    { imageId: 'ami-0a1b2c3d4e5f60718', name: 'debian-12-amd64', architecture: 'x86_64' },
    { imageId: 'ami-085db1cec0123abcd', name: 'nephele-agent', architecture: 'x86_64' },
  ];
  readonly instanceTypes = [
    { instanceType: 't3.micro', vcpus: 2, mib: 1024 },
    { instanceType: 't3.small', vcpus: 2, mib: 2048 },
    { instanceType: 'm5.large', vcpus: 2, mib: 8192 },
  ];
  private faults: { action: string; status: number; code: string; message: string }[] = [];
  private server!: Server;
  private counter = 0;
  url = '';

  constructor(
    readonly accessKeyId: string,
    readonly secretAccessKey: string,
    readonly region: string,
    readonly maxInstances: number,
  ) {}

  static async start(
    opts: { accessKeyId?: string; secretAccessKey?: string; region?: string; maxInstances?: number } = {},
  ): Promise<FakeEc2> {
    const fake = new FakeEc2(
      opts.accessKeyId ?? 'AKIDEXAMPLE',
      opts.secretAccessKey ?? 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      opts.region ?? 'eu-west-1',
      opts.maxInstances ?? 5,
    );
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next call of `action` fails with that EC2 error code (once). */
  failNext(action: string, status: number, code: string, message = code): void {
    this.faults.push({ action, status, code, message });
  }

  /** Completes transitions: pending → running, stopping → stopped, shutting-down → terminated. */
  settle(): void {
    const next: Record<string, string> = {
      pending: 'running',
      stopping: 'stopped',
      'shutting-down': 'terminated',
    };
    for (const i of this.instances.values()) i.state = next[i.state] ?? i.state;
  }

  count(action: string): number {
    return this.requests.filter((r) => r.action === action).length;
  }

  // --- HTTP ---------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const authError = this.verifySignature(req, body);
    if (authError) return this.error(res, 401, 'AuthFailure', authError);
    const p = new URLSearchParams(body);
    const action = p.get('Action') ?? '';
    if (p.get('Version') !== '2016-11-15')
      return this.error(res, 400, 'InvalidParameterValue', `unsupported Version ${p.get('Version')}`);
    this.requests.push({ action, params: p });
    const fault = this.faults.findIndex((f) => f.action === action);
    if (fault >= 0) {
      const [f] = this.faults.splice(fault, 1);
      return this.error(res, f!.status, f!.code, f!.message);
    }
    switch (action) {
      case 'RunInstances':
        return this.runInstances(p, res);
      case 'DescribeInstances':
        return this.describeInstances(p, res);
      case 'TerminateInstances':
        return this.change(p, res, action, (i) =>
          i.state === 'terminated' ? 'terminated' : 'shutting-down',
        );
      case 'StartInstances':
        return this.change(p, res, action, (i) =>
          i.state === 'stopped' ? 'pending' : i.state === 'running' || i.state === 'pending' ? i.state : null,
        );
      case 'StopInstances':
        return this.change(p, res, action, (i) =>
          i.state === 'running'
            ? 'stopping'
            : i.state === 'stopped' || i.state === 'stopping'
              ? i.state
              : null,
        );
      case 'RebootInstances': {
        const found = this.lookup(list(p, 'InstanceId'), res);
        if (!found) return;
        if (found.some((i) => i.state !== 'running'))
          return this.error(
            res,
            400,
            'IncorrectState',
            'The instance is not in a state from which it can be rebooted.',
          );
        return this.ok(res, action, { return: true });
      }
      case 'DescribeImages':
        return this.ok(res, action, {
          imagesSet: this.images.map((i) => ({
            imageId: i.imageId,
            imageLocation: `123456789012/${i.name}`,
            imageState: 'available',
            imageOwnerId: '123456789012',
            isPublic: false,
            architecture: i.architecture,
            imageType: 'machine',
            name: i.name,
            rootDeviceType: 'ebs',
            virtualizationType: 'hvm',
            hypervisor: 'xen',
          })),
        });
      case 'DescribeInstanceTypes': {
        const wanted = list(p, 'InstanceType');
        const max = Number(p.get('MaxResults') ?? 100);
        const start = Number(p.get('NextToken') ?? 0);
        const all = this.instanceTypes.filter((t) => !wanted.length || wanted.includes(t.instanceType));
        const page = wanted.length ? all : all.slice(start, start + max);
        return this.ok(res, action, {
          instanceTypeSet: page.map((t) => ({
            instanceType: t.instanceType,
            currentGeneration: true,
            vCpuInfo: { defaultVCpus: t.vcpus, defaultCores: 1, defaultThreadsPerCore: 2 },
            memoryInfo: { sizeInMiB: t.mib },
            instanceStorageSupported: false,
            processorInfo: { supportedArchitectures: ['x86_64'] },
          })),
          nextToken: !wanted.length && start + max < all.length ? String(start + max) : undefined,
        });
      }
      case 'DescribeAvailabilityZones':
        return this.ok(res, action, {
          availabilityZoneInfo: ['a', 'b'].map((s) => ({
            zoneName: `${this.region}${s}`,
            zoneState: s === 'a' ? 'available' : 'impaired',
            regionName: this.region,
            zoneId: `euw1-az${s === 'a' ? 1 : 2}`,
            messageSet: [],
          })),
        });
      default:
        return this.error(
          res,
          400,
          'InvalidAction',
          `The action ${action} is not valid for this web service.`,
        );
    }
  }

  /** AWS Signature Version 4 over the request as received; an error message or null. */
  private verifySignature(req: IncomingMessage, body: string): string | null {
    const auth = req.headers['authorization'] ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ec2\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return 'missing or malformed SigV4 Authorization header';
    const [, keyId, date, region, signedHeaders, signature] = m;
    if (keyId !== this.accessKeyId) return 'AWS was not able to validate the provided access credentials';
    if (region !== this.region) return `credential scope region ${region} is not ${this.region}`;
    const amzDate = req.headers['x-amz-date'];
    if (typeof amzDate !== 'string' || !amzDate.startsWith(date!))
      return 'x-amz-date missing or not matching the credential scope';
    const url = new URL(req.url ?? '/', 'http://x');
    const canonicalHeaders = signedHeaders!
      .split(';')
      .map(
        (h) =>
          `${h}:${String(req.headers[h] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const canonicalQuery = [...url.searchParams]
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .sort()
      .join('&');
    const canonicalRequest = [
      req.method,
      url.pathname,
      canonicalQuery,
      canonicalHeaders,
      signedHeaders,
      createHash('sha256').update(body).digest('hex'),
    ].join('\n');
    const scope = `${date}/${region}/ec2/aws4_request`;
    const toSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      scope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
    const kSigning = hmac(
      hmac(hmac(hmac(`AWS4${this.secretAccessKey}`, date!), region!), 'ec2'),
      'aws4_request',
    );
    const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
    return expected === signature
      ? null
      : 'The request signature we calculated does not match the signature you provided.';
  }

  private ok(res: ServerResponse, action: string, fields: Record<string, XmlValue>): void {
    const inner = Object.entries({ requestId: randomBytes(16).toString('hex'), ...fields })
      .map(([k, v]) => xml(k, v))
      .join('');
    res.writeHead(200, { 'Content-Type': 'text/xml;charset=UTF-8' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${inner}</${action}Response>`,
    );
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/xml;charset=UTF-8' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${randomBytes(8).toString('hex')}</RequestID></Response>`,
    );
  }

  private instanceXml(i: FakeEc2Instance): XmlValue {
    return {
      instanceId: i.id,
      imageId: i.imageId,
      instanceState: { code: STATE_CODES[i.state], name: i.state },
      privateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.${this.region}.compute.internal`,
      dnsName: '',
      reason: '',
      amiLaunchIndex: 0,
      productCodes: [],
      instanceType: i.instanceType,
      launchTime: i.launchTime,
      placement: { availabilityZone: i.az, groupName: '', tenancy: 'default' },
      monitoring: { state: 'disabled' },
      privateIpAddress: i.privateIp,
      groupSet: [{ groupId: 'sg-0123456789abcdef0', groupName: 'default' }],
      architecture: 'x86_64',
      rootDeviceType: 'ebs',
      rootDeviceName: '/dev/xvda',
      virtualizationType: 'hvm',
      clientToken: i.clientToken,
      tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
      hypervisor: 'xen',
    };
  }

  private lookup(ids: string[], res: ServerResponse): FakeEc2Instance[] | null {
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length) {
      this.error(
        res,
        400,
        'InvalidInstanceID.NotFound',
        `The instance ID '${missing.join(', ')}' does not exist`,
      );
      return null;
    }
    return ids.map((id) => this.instances.get(id)!);
  }

  private runInstances(p: URLSearchParams, res: ServerResponse): void {
    const token = p.get('ClientToken') ?? '';
    const again = token ? [...this.instances.values()].find((i) => i.clientToken === token) : undefined;
    if (again) return this.ok(res, 'RunInstances', this.reservation(again));
    const imageId = p.get('ImageId') ?? '';
    if (!this.images.some((i) => i.imageId === imageId))
      return this.error(res, 400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    const type = p.get('InstanceType') ?? '';
    if (!this.instanceTypes.some((t) => t.instanceType === type))
      return this.error(res, 400, 'InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
    if (p.get('MinCount') !== '1' || p.get('MaxCount') !== '1')
      return this.error(res, 400, 'InvalidParameterValue', 'MinCount and MaxCount must be 1 here');
    const live = [...this.instances.values()].filter((i) => i.state !== 'terminated').length;
    if (live >= this.maxInstances) {
      return this.error(
        res,
        400,
        'InstanceLimitExceeded',
        `You have requested more instances (${live + 1}) than your current instance limit of ${this.maxInstances} allows.`,
      );
    }
    const tags: Record<string, string> = {};
    for (let n = 1; p.has(`TagSpecification.${n}.ResourceType`); n++) {
      if (p.get(`TagSpecification.${n}.ResourceType`) !== 'instance') continue;
      for (let t = 1; p.has(`TagSpecification.${n}.Tag.${t}.Key`); t++) {
        tags[p.get(`TagSpecification.${n}.Tag.${t}.Key`)!] =
          p.get(`TagSpecification.${n}.Tag.${t}.Value`) ?? '';
      }
    }
    const ud = p.get('UserData');
    if (ud !== null && !/^[A-Za-z0-9+/]*={0,2}$/.test(ud))
      return this.error(res, 400, 'InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
    const n = ++this.counter;
    const inst: FakeEc2Instance = {
      id: `i-${n.toString(16).padStart(17, '0')}`,
      imageId,
      instanceType: type,
      state: 'pending',
      az: p.get('Placement.AvailabilityZone') ?? `${this.region}a`,
      clientToken: token,
      tags,
      userData: ud === null ? undefined : Buffer.from(ud, 'base64').toString('utf8'),
      launchTime: new Date().toISOString(),
      privateIp: `172.31.0.${n + 9}`,
      reservationId: `r-${n.toString(16).padStart(17, '0')}`,
    };
    this.instances.set(inst.id, inst);
    this.ok(res, 'RunInstances', this.reservation(inst));
  }

  private reservation(i: FakeEc2Instance): Record<string, XmlValue> {
    return {
      reservationId: i.reservationId,
      ownerId: '123456789012',
      groupSet: [],
      instancesSet: [this.instanceXml(i)],
    };
  }

  private describeInstances(p: URLSearchParams, res: ServerResponse): void {
    const ids = list(p, 'InstanceId');
    let found = ids.length ? this.lookup(ids, res) : [...this.instances.values()];
    if (!found) return;
    for (let n = 1; p.has(`Filter.${n}.Name`); n++) {
      const name = p.get(`Filter.${n}.Name`);
      const values = list(p, `Filter.${n}.Value`);
      if (name === 'client-token') found = found.filter((i) => values.includes(i.clientToken));
      else if (name === 'instance-state-name') found = found.filter((i) => values.includes(i.state));
      else return this.error(res, 400, 'InvalidParameterValue', `The filter '${name}' is invalid`);
    }
    const max = Number(p.get('MaxResults') ?? 1000);
    if (p.has('MaxResults') && (max < 5 || max > 1000))
      return this.error(res, 400, 'InvalidParameterValue', 'MaxResults must be between 5 and 1000');
    const start = Number(p.get('NextToken') ?? 0);
    const page = found.slice(start, start + max);
    this.ok(res, 'DescribeInstances', {
      reservationSet: page.map((i) => this.reservation(i)),
      nextToken: start + max < found.length ? String(start + max) : undefined,
    });
  }

  private change(
    p: URLSearchParams,
    res: ServerResponse,
    action: string,
    to: (i: FakeEc2Instance) => string | null,
  ): void {
    const found = this.lookup(list(p, 'InstanceId'), res);
    if (!found) return;
    for (const i of found) {
      if (to(i) === null)
        return this.error(
          res,
          400,
          'IncorrectInstanceState',
          `The instance '${i.id}' is not in a state from which it can be ${action === 'StartInstances' ? 'started' : 'stopped'}.`,
        );
    }
    const items = found.map((i) => {
      const prev = i.state;
      i.state = to(i)!;
      return {
        instanceId: i.id,
        currentState: { code: STATE_CODES[i.state], name: i.state },
        previousState: { code: STATE_CODES[prev], name: prev },
      };
    });
    this.ok(res, action, { instancesSet: items });
  }
}
