import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { loadEnv, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class CpeEnv extends ServiceEnv {
  /** The AMQP 1.0 edge (RabbitMQ's plugin): the management address `nephele.cpe` is served there. */
  @IsOptional() @IsString() AMQP10_URL?: string = undefined;
  @IsInt() @Min(0) @Max(65535) PORT: number = 8084;
  /** How DPEs run: child processes, Kubernetes pods, or inside this process (all-in-one). */
  @IsIn(['process', 'kubernetes', 'inline']) CPE_RUNTIME: string = 'process';
  /** DPEs per worker process or pod (density vs isolation). */
  @IsInt() @Min(1) @Max(10_000) DPE_PER_WORKER: number = 1;
  /**
   * process runtime: a pool of this many workers sharing the DPEs (each new DPE goes to the least
   * loaded; a dead worker's DPEs move to the others). 0: a new worker whenever the others are full.
   */
  @IsInt() @Min(0) @Max(1000) DPE_WORKERS: number = 0;
  /** A DPE silent this long is declared dead and restarted. */
  @IsInt() @Min(500) DPE_HEARTBEAT_TIMEOUT_MS: number = 5000;
  /** A DPE started this recently is not judged by its heartbeats yet (node start-up on a loaded host takes a while). */
  @IsInt() @Min(1000) DPE_START_GRACE_MS: number = 45_000;
  /** Edge URL given to agents (default AMQP10_URL). */
  @IsOptional() @IsString() NEPHELE_AGENT_EDGE_URL?: string = undefined;
  /** Project of deployables created over the management interface without one. */
  @IsOptional() @IsString() CPE_DEFAULT_PROJECT?: string = undefined;
  /** process runtime: the worker entry point. */
  @IsString() DPE_WORKER_MAIN: string = 'dist/apps/dpe-worker/main.js';
  /** kubernetes runtime. */
  @IsString() KUBE_NAMESPACE: string = 'nephele';
  @IsString() DPE_IMAGE: string = 'nephele/dpe-worker:latest';
  /** kubernetes runtime: API server URL and bearer token when not running in a cluster (tests, kubeconfig-less). */
  @IsOptional() @IsString() KUBE_API_URL?: string = undefined;
  @IsOptional() @IsString() KUBE_TOKEN?: string = undefined;
  /**
   * kubernetes runtime: the Secret DPE pods read AMQP_URL and AMQP10_URL from (keys of those names,
   * as deploy/ sets up). Empty: the values are written into the pod spec.
   */
  @IsString() KUBE_DPE_SECRET: string = 'nephele-connection';
  @IsInt() @Min(1000) DPE_BOOT_TIMEOUT_MS: number = 90_000;
  /** Seals cluster credentials (AES-256-GCM envelope encryption, as provider credentials). */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY?: string = undefined;
}

export interface CpeConfig extends ServiceConfig {
  amqp10Url?: string;
  runtime: 'process' | 'kubernetes' | 'inline';
  dpePerWorker: number;
  dpeWorkers: number;
  heartbeatTimeoutMs: number;
  startGraceMs: number;
  agentEdgeUrl?: string;
  defaultProject?: string;
  workerMain: string;
  kube: { namespace: string; image: string; apiUrl?: string; token?: string; secret?: string };
  bootTimeoutMs: number;
  masterKey?: string;
}

export function loadCpeConfig(env: NodeJS.ProcessEnv = process.env): CpeConfig {
  const e = loadEnv(CpeEnv, env);
  return {
    ...serviceConfig(e),
    amqp10Url: e.AMQP10_URL,
    runtime: e.CPE_RUNTIME as CpeConfig['runtime'],
    dpePerWorker: e.DPE_PER_WORKER,
    dpeWorkers: e.DPE_WORKERS,
    heartbeatTimeoutMs: e.DPE_HEARTBEAT_TIMEOUT_MS,
    startGraceMs: e.DPE_START_GRACE_MS,
    agentEdgeUrl: e.NEPHELE_AGENT_EDGE_URL ?? e.AMQP10_URL,
    defaultProject: e.CPE_DEFAULT_PROJECT,
    workerMain: e.DPE_WORKER_MAIN,
    kube: {
      namespace: e.KUBE_NAMESPACE,
      image: e.DPE_IMAGE,
      apiUrl: e.KUBE_API_URL,
      token: e.KUBE_TOKEN,
      secret: e.KUBE_DPE_SECRET || undefined,
    },
    bootTimeoutMs: e.DPE_BOOT_TIMEOUT_MS,
    masterKey: e.NEPHELE_MASTER_KEY,
  };
}
