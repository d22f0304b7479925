import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeQmpServer } from '../../test/fake-qmp.server';
import { DriverError } from '../driver.errors';
import { noCloudMetaData, qemuCommandLine, QemuLaunchSpec } from './qemu-command';
import { parseQemuDriverConfig, QemuDriver } from './qemu.driver';
import { QmpClient, QmpError } from './qmp.client';

const spec: QemuLaunchSpec = {
  binary: 'qemu-system-x86_64',
  name: 'web-1-abcd',
  accel: 'tcg',
  vcpus: 2,
  memoryMb: 1536,
  disk: '/s/i/1/disk.qcow2',
  seed: '/s/i/1/seed.iso',
  kernel: { path: '/img/vmlinuz', initrd: '/img/initrd.img', append: 'root=/dev/vda console=ttyS0' },
  qmpSocket: '/s/i/1/qmp.sock',
  consoleLog: '/s/i/1/console.log',
  pidFile: '/s/i/1/qemu.pid',
};
const after = (argv: string[], flag: string) => argv.filter((_, i) => argv[i - 1] === flag);

describe(qemuCommandLine.name, () => {
  it('sizes the VM from the profile and picks the accelerator', () => {
    const sut = qemuCommandLine(spec);
    expect(sut[0]).toBe('qemu-system-x86_64');
    expect(after(sut, '-smp')).toEqual(['2']);
    expect(after(sut, '-m')).toEqual(['1536M']);
    expect(after(sut, '-machine')).toEqual(['q35,accel=tcg']);
    expect(after(sut, '-cpu')).toEqual(['max']);
    expect(after(qemuCommandLine({ ...spec, accel: 'kvm' }), '-cpu')).toEqual(['host,-arch-capabilities']);
    expect(after(qemuCommandLine({ ...spec, cpu: 'Skylake-Server' }), '-cpu')).toEqual(['Skylake-Server']);
  });

  it('boots the overlay with the seed beside it, user networking, QMP and the console in files', () => {
    const sut = qemuCommandLine(spec);
    expect(after(sut, '-drive')).toEqual([
      'file=/s/i/1/disk.qcow2,if=virtio,format=qcow2,cache=unsafe',
      'file=/s/i/1/seed.iso,if=virtio,format=raw,readonly=on',
    ]);
    expect(after(sut, '-netdev')).toEqual(['user,id=net0']);
    expect(after(sut, '-device')).toContain('virtio-net-pci,netdev=net0');
    expect(after(sut, '-qmp')).toEqual(['unix:/s/i/1/qmp.sock,server=on,wait=off']);
    expect(after(sut, '-serial')).toEqual(['file:/s/i/1/console.log']);
    expect(sut).toContain('-daemonize');
    expect(sut).toContain('-nodefaults');
    expect(after(sut, '-kernel')).toEqual(['/img/vmlinuz']);
    expect(after(sut, '-append')).toEqual(['root=/dev/vda console=ttyS0']);
  });

  it('leaves the kernel to the disk when the image boots itself, and escapes commas', () => {
    const sut = qemuCommandLine({ ...spec, kernel: undefined, disk: '/a,b/disk.qcow2' });
    expect(sut).not.toContain('-kernel');
    expect(after(sut, '-drive')[0]).toBe('file=/a,,b/disk.qcow2,if=virtio,format=qcow2,cache=unsafe');
    const fwd = qemuCommandLine({ ...spec, hostForwards: [{ hostPort: 2222, guestPort: 22 }] });
    expect(after(fwd, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22']);
  });

  it('writes NoCloud meta-data with the instance id and a valid hostname', () => {
    expect(noCloudMetaData('i-1', 'My Web_1!')).toBe('instance-id: i-1\nlocal-hostname: my-web-1\n');
  });
});

describe(QmpClient.name, () => {
  let dir: string;
  let fake: FakeQmpServer;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-qmp-'));
    fake = await new FakeQmpServer(path.join(dir, 'qmp.sock')).start();
  });
  afterEach(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('negotiates capabilities, then runs commands and collects events', async () => {
    const sut = await QmpClient.connect(fake.path);
    try {
      expect(await sut.execute('query-status')).toEqual({ status: 'running', running: true });
      await sut.execute('system_reset');
      await sut.execute('system_powerdown');
      expect(await sut.execute('query-status')).toMatchObject({ status: 'shutdown' });
      expect(sut.events.map((e) => e.event)).toEqual(['RESET', 'POWERDOWN']);
      expect(fake.commands).toEqual([
        'qmp_capabilities',
        'query-status',
        'system_reset',
        'system_powerdown',
        'query-status',
      ]);
    } finally {
      sut.close();
    }
  });

  it('rejects with the QMP error class, and fails pending commands when QEMU goes away', async () => {
    const sut = await QmpClient.connect(fake.path);
    await expect(sut.execute('no-such-command')).rejects.toMatchObject({ errorClass: 'CommandNotFound' });
    await expect(sut.execute('no-such-command')).rejects.toBeInstanceOf(QmpError);
    await sut.execute('quit');
    await expect(sut.execute('query-status')).rejects.toThrow(/closed/);
  });

  it('fails to connect when nothing listens', async () => {
    await expect(QmpClient.connect(path.join(dir, 'none.sock'))).rejects.toThrow(/ENOENT/);
  });
});

describe(QemuDriver.name, () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-qemu-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads images from an images:build directory and the profiles, and the launch spec follows them', async () => {
    const img = path.join(dir, 'img');
    await mkdir(img);
    await writeFile(
      path.join(img, 'image.json'),
      JSON.stringify({
        name: 'debian-12',
        disk: 'debian-12.qcow2',
        format: 'qcow2',
        kernel: 'vmlinuz',
        initrd: 'initrd.img',
        append: 'root=/dev/vda',
      }),
    );
    const config = parseQemuDriverConfig(
      {
        images: { deb: { dir: img } },
        profiles: [{ id: 'p', cpu: 2, memoryMb: 768 }],
        accel: 'tcg',
        stateDir: dir,
      },
      { dataDir: dir },
    );
    const sut = new QemuDriver(config);
    expect(await sut.listImages()).toEqual([
      { id: 'deb', name: 'debian-12', status: 'missing', arch: 'x86_64' },
    ]);
    expect(await sut.listHardwareProfiles()).toEqual([
      { id: 'p', name: 'p', cpu: 2, memoryMb: 768, storageGb: 3, arch: 'x86_64' },
    ]);
    const launch = sut.launchSpec({
      id: '00000000-0000-4000-8000-000000000001',
      name: 'web',
      image: 'deb',
      vcpus: 2,
      memoryMb: 768,
    });
    expect(launch).toMatchObject({
      accel: 'tcg',
      vcpus: 2,
      memoryMb: 768,
      kernel: {
        path: path.join(img, 'vmlinuz'),
        initrd: path.join(img, 'initrd.img'),
        append: 'root=/dev/vda',
      },
      disk: path.join(dir, 'instances', '00000000-0000-4000-8000-000000000001', 'disk.qcow2'),
    });
    expect(sut.qmpPath('00000000-0000-4000-8000-000000000001')).toBe(launch.qmpSocket);
    const deep = new QemuDriver({ ...config, stateDir: path.join(dir, 'x'.repeat(120)) });
    expect(Buffer.byteLength(deep.qmpPath('00000000-0000-4000-8000-000000000001'))).toBeLessThan(108);
    expect(sut.capabilities).toMatchObject({
      cloudInit: true,
      guestHostAddress: '10.0.2.2',
      startStop: true,
      reboot: true,
    });
  });

  it('refuses a bad config naming every problem, and an image whose base disk is missing', async () => {
    expect(() => parseQemuDriverConfig({ images: 3, accel: 'fast', maxVcpus: 0 }, { dataDir: dir })).toThrow(
      /accel must be[\s\S]*images must be[\s\S]*maxVcpus must be/,
    );
    const sut = new QemuDriver(
      parseQemuDriverConfig(
        { images: { deb: { disk: path.join(dir, 'none.qcow2') } }, stateDir: dir },
        { dataDir: dir },
      ),
    );
    const e = await sut
      .create({ idempotencyKey: 'k', name: 'x', image: 'deb', profile: 'qemu-small' })
      .catch((x: DriverError) => x);
    expect(e).toMatchObject({ kind: 'permanent', message: expect.stringContaining('images:build') });
  });
});
