/** Everything one QEMU process needs; paths absolute. */
export interface QemuLaunchSpec {
  binary: string;
  /** Shown by `ps` and in QMP `query-name`. */
  name: string;
  accel: 'kvm' | 'tcg';
  /** `-cpu`; default: see KVM_CPU / TCG_CPU. */
  cpu?: string;
  vcpus: number;
  memoryMb: number;
  /** The instance's qcow2 overlay. */
  disk: string;
  /** The NoCloud seed (ISO 9660 labelled `cidata`). */
  seed: string;
  /** Direct kernel boot (images built by `npm run images:build`); absent: the disk boots itself. */
  kernel?: { path: string; initrd?: string; append?: string };
  qmpSocket: string;
  consoleLog: string;
  pidFile: string;
  /** User-mode networking port forwards from the host's loopback into the guest. */
  hostForwards?: Array<{ hostPort: number; guestPort: number }>;
}

/**
 * The host's CPU, less the IA32_ARCH_CAPABILITIES MSR: nested hypervisors (a VM that offers
 * /dev/kvm) often refuse to set it and QEMU aborts at start (measured on this project's CI
 * machines: "failed to set MSR 0x10a").
 */
export const KVM_CPU = 'host,-arch-capabilities';
/** Every feature TCG emulates. */
export const TCG_CPU = 'max';

/** Characters QEMU's option parser treats specially inside `key=value,…` values. */
function optValue(v: string): string {
  // A comma inside a value is written twice.
  return v.replace(/,/g, ',,');
}

/**
 * The `qemu-system-x86_64` argv for an instance (see Note [QEMU instances] in qemu.driver.ts): a
 * daemonized VM with no default devices, virtio disk and seed, user-mode networking (the guest
 * reaches the host at 10.0.2.2), the serial console to a file and QMP on a unix socket.
 */
export function qemuCommandLine(s: QemuLaunchSpec): string[] {
  const netdev = [
    'user',
    'id=net0',
    ...(s.hostForwards ?? []).map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`),
  ];
  return [
    s.binary,
    '-name',
    `guest=${optValue(s.name)}`,
    '-machine',
    `q35,accel=${s.accel}`,
    '-cpu',
    s.cpu ?? (s.accel === 'kvm' ? KVM_CPU : TCG_CPU),
    '-smp',
    String(s.vcpus),
    '-m',
    `${s.memoryMb}M`,
    '-nodefaults',
    '-display',
    'none',
    '-drive',
    `file=${optValue(s.disk)},if=virtio,format=qcow2,cache=unsafe`,
    '-drive',
    `file=${optValue(s.seed)},if=virtio,format=raw,readonly=on`,
    '-netdev',
    netdev.join(','),
    '-device',
    'virtio-net-pci,netdev=net0',
    '-device',
    'virtio-rng-pci',
    '-serial',
    `file:${s.consoleLog}`,
    '-qmp',
    `unix:${optValue(s.qmpSocket)},server=on,wait=off`,
    '-pidfile',
    s.pidFile,
    '-daemonize',
    ...(s.kernel
      ? [
          '-kernel',
          s.kernel.path,
          ...(s.kernel.initrd ? ['-initrd', s.kernel.initrd] : []),
          ...(s.kernel.append ? ['-append', s.kernel.append] : []),
        ]
      : []),
  ];
}

/** The NoCloud meta-data document: cloud-init runs once per instance-id. */
export function noCloudMetaData(instanceId: string, hostname: string): string {
  const host =
    hostname
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'nephele';
  return `instance-id: ${instanceId}\nlocal-hostname: ${host}\n`;
}
