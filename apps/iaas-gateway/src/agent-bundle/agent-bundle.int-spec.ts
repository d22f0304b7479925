import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudDriver, identityFromCloudConfig } from '@nephele/drivers';
import { CLOCK } from '@nephele/service-kit';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { AgentBundleController } from './agent-bundle.controller';
import { AgentBundleService, loopbackTo } from './agent-bundle.service';

const blob = JSON.stringify({
  assemblyId: 'dep-1.web.1',
  deployableId: 'dep-1',
  agentSecret: 'cred',
  amqp10Url: 'amqp://10.0.2.2:5673',
  heartbeatInterval: '1000ms',
});
const driver = (cloudInit: boolean) => ({ capabilities: { cloudInit } }) as unknown as CloudDriver;

describe(AgentBundleService.name, () => {
  let dir: string;
  let app: INestApplication;
  let sut: AgentBundleService;
  let base: string;
  let now = Date.parse('2026-12-07T12:00:00Z');
  const bundle = Buffer.from('#!/usr/bin/env node\nconsole.log("agent")\n');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-bundle-'));
    await writeFile(path.join(dir, 'agent.js'), bundle);
    @Module({
      controllers: [AgentBundleController],
      providers: [
        AgentBundleService,
        { provide: CLOCK, useValue: { now: () => new Date(now) } },
        {
          provide: GATEWAY_CONFIG,
          useValue: {
            agentBundle: {
              publicUrl: 'http://10.0.2.2:8082/',
              path: path.join(dir, 'agent.js'),
              tokenTtlMs: 60_000,
            },
          },
        },
      ],
    })
    class BundleTestModule {}
    app = await NestFactory.create(BundleTestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    sut = app.get(AgentBundleService);
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const download = (token?: string) =>
    fetch(`${base}/v1/agent-bundle`, { headers: token ? { 'x-nephele-bundle-token': token } : {} });

  it('turns the DPE blob into the #cloud-config for drivers that boot images, and only for them', async () => {
    const ud = (await sut.userDataFor(driver(true), blob))!;
    expect(ud.startsWith('#cloud-config\n')).toBe(true);
    expect(identityFromCloudConfig(ud)).toMatchObject({ assemblyId: 'dep-1.web.1', agentSecret: 'cred' });
    expect(ud).toContain("url='http://10.0.2.2:8082/v1/agent-bundle'");
    expect(ud).toContain(`sum='${createHash('sha256').update(bundle).digest('hex')}'`);
    expect(await sut.userDataFor(driver(false), blob)).toBe(blob);
    expect(await sut.userDataFor(driver(true), '#!/bin/sh\necho mine\n')).toBe('#!/bin/sh\necho mine\n');
  });

  it('points loopback URLs at the address the guest reaches the host at', async () => {
    const qemu = {
      capabilities: { cloudInit: true, guestHostAddress: '10.0.2.2' },
    } as unknown as CloudDriver;
    const local = blob.replace('10.0.2.2', '127.0.0.1');
    const ud = (await sut.userDataFor(qemu, local))!;
    expect(identityFromCloudConfig(ud)!.amqp10Url).toBe('amqp://10.0.2.2:5673');
    expect(loopbackTo('amqp://u:p@localhost:5672/v', 'h')).toBe('amqp://u:p@h:5672/v');
    expect(loopbackTo('http://127.0.0.1', 'h')).toBe('http://h');
    expect(loopbackTo('http://127.0.0.1.example.com:80', 'h')).toBe('http://127.0.0.1.example.com:80');
    expect(loopbackTo('amqp://10.1.2.3:5673', 'h')).toBe('amqp://10.1.2.3:5673');
  });

  it('serves the bundle once per token, with its checksum', async () => {
    const ud = (await sut.userDataFor(driver(true), blob))!;
    const token = /token='([^']+)'/.exec(ud)![1];
    const first = await download(token);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-checksum-sha256')).toBe(createHash('sha256').update(bundle).digest('hex'));
    expect(Buffer.from(await first.arrayBuffer())).toEqual(bundle);
    expect((await download(token)).status).toBe(401);
    expect((await download()).status).toBe(401);
    expect((await download('made-up-token-0123456789')).status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const token = sut.mint();
    now += 60_001;
    expect((await download(token)).status).toBe(401);
  });
});
