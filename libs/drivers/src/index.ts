export * from './cloud-driver.types';
export * from './driver.errors';
export * from './driver.registry';
export { LocalDriver, parseLocalDriverConfig, metadataEnvName } from './local/local.driver';
export type { LocalDriverConfig, LocalImageDefinition } from './local/local.driver';
export { SimulatedDriver, parseSimulatedDriverConfig } from './simulated/simulated.driver';
export type { SimulatedDriverConfig, SimulatedOperation, SimulatedStats } from './simulated/simulated.driver';
export { ManualClock } from './simulated/manual-clock';
export { sampleLatency } from './simulated/random.util';
export type { LatencyDistribution } from './simulated/random.util';
export {
  OpenStackDriver,
  OPENSTACK_KEY_METADATA,
  novaServerState,
  novaServerToInstance,
  parseOpenStackCredentials,
  parseOpenStackDriverConfig,
} from './openstack/openstack.driver';
export type { NovaServer, OpenStackCredentials, OpenStackDriverConfig } from './openstack/openstack.driver';
export { KeystoneSession } from './openstack/keystone.client';
export type {
  DrainOptions,
  DrainResult,
  LoadBalancerDriver,
  LoadBalancerMember,
  LoadBalancerMemberSpec,
  LoadBalancerMemberState,
} from './lb/load-balancer.types';
export { HaproxyDriver, createLoadBalancerDriver, parseHaproxyDriverConfig } from './lb/haproxy.driver';
export type { HaproxyDriverConfig } from './lb/haproxy.driver';
export { HaproxyRuntimeClient } from './lb/haproxy-runtime.client';
export type { HaproxyRuntimeTarget } from './lb/haproxy-runtime.client';
export {
  EC2_KEY_TAG,
  Ec2Driver,
  ec2ClientToken,
  ec2Error,
  ec2InstanceState,
  ec2InstanceToProvider,
  parseEc2Credentials,
  parseEc2DriverConfig,
} from './ec2/ec2.driver';
export type { Ec2Credentials, Ec2DriverConfig } from './ec2/ec2.driver';
export {
  AGENT_BUNDLE_TOKEN_HEADER,
  agentBootstrapScript,
  agentCloudConfig,
  agentSystemdUnit,
  identityFromCloudConfig,
  parseAgentUserData,
} from './bootstrap/agent-cloud-config';
export type { AgentBundleRef, AgentCloudConfigInput, AgentIdentity } from './bootstrap/agent-cloud-config';
export { QemuDriver, kvmAvailable, parseQemuDriverConfig } from './qemu/qemu.driver';
export type { QemuDriverConfig, QemuImageDefinition } from './qemu/qemu.driver';
export { noCloudMetaData, qemuCommandLine } from './qemu/qemu-command';
export type { QemuLaunchSpec } from './qemu/qemu-command';
export { QmpClient, QmpError } from './qemu/qmp.client';
export type { QmpEvent } from './qemu/qmp.client';
