import { ProviderInstanceView } from '@nephele/contracts';
import { planPoll, PollRow } from './poll.plan';

const at = new Date('2026-12-07T12:00:00Z');
const row = (id: string, state: PollRow['state'], ageMs: number, addresses: string[] = []): PollRow => ({
  id,
  provider_instance_id: `p-${id}`,
  state,
  addresses,
  created_at: at.getTime() - ageMs,
});
const seen = (id: string, state: ProviderInstanceView['state'], addresses: string[] = []) => ({
  id: `p-${id}`,
  state,
  addresses,
});

describe(planPoll.name, () => {
  const grace = 60_000;

  it.each([
    [
      'listed unchanged',
      [row('a', 'running', 1e6, ['10.0.0.1'])],
      [seen('a', 'running', ['10.0.0.1'])],
      {},
      [],
    ],
    ['listed in another state', [row('a', 'pending', 1e6)], [seen('a', 'running')], { a: 'running' }, []],
    [
      'listed with other addresses',
      [row('a', 'running', 1e6)],
      [seen('a', 'running', ['10.0.0.2'])],
      { a: 'running' },
      [],
    ],
    ['not listed, within the grace', [row('a', 'pending', 1_000)], [], {}, ['p-a']],
    ['not listed, past the grace', [row('a', 'running', 1e6)], [], { a: 'terminated' }, ['p-a']],
  ] as const)('%s', (_, known, listed, want, unlisted) => {
    const sut = planPoll([...known], [...listed], at, grace, []);
    expect(Object.fromEntries([...sut.observations].map(([id, o]) => [id, o.state]))).toEqual(want);
    expect(sut.unlisted).toEqual(unlisted);
    expect(sut.listedAt).toBe(at);
  });

  it('finds the listed instances no live row has when the store did not', () => {
    const sut = planPoll(
      [row('a', 'running', 1e6)],
      [seen('a', 'running'), seen('b', 'running'), seen('c', 'terminated')],
      at,
      grace,
    );
    expect(sut.unknownProviderIds).toEqual(['p-b']);
  });
});
