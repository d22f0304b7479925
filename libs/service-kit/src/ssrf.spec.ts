import { isPrivateAddress, resolveTarget } from './ssrf';

describe('ssrf guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['2606:4700::1111', false],
    ['not-an-ip', true],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('refuses literal private targets unless allowed, and pins the checked address', async () => {
    await expect(resolveTarget('http://169.254.169.254/latest/meta-data', false)).rejects.toThrow(
      /non-public/,
    );
    await expect(resolveTarget('http://[::1]:8080/x', false)).rejects.toThrow(/non-public/);
    await expect(resolveTarget('http://localhost:8080/x', false)).rejects.toThrow(/non-public/);
    const ok = await resolveTarget('http://127.0.0.1:9/x', true);
    expect(ok).toMatchObject({ address: '127.0.0.1', family: 4 });
    expect((await resolveTarget('https://8.8.8.8/hook', false)).address).toBe('8.8.8.8');
  });
});
