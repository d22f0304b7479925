import { INSTANCE_STATES } from '@nephele/contracts';
import { judgeTransition } from './instance-state.machine';

describe('judgeTransition', () => {
  it.each([
    ['pending', 'running', 'allowed'],
    ['running', 'stopped', 'allowed'],
    ['stopped', 'running', 'allowed'],
    ['running', 'terminated', 'allowed'],
    ['terminating', 'terminated', 'allowed'],
    ['running', 'running', 'same'],
    ['terminated', 'running', 'refused'],
    ['terminated', 'pending', 'refused'],
    ['terminating', 'running', 'refused'],
    ['terminating', 'stopped', 'refused'],
  ] as const)('%s → %s is %s', (from, to, kind) => {
    expect(judgeTransition(from, to).kind).toBe(kind);
  });

  it('makes terminated final and lets every state reach terminated', () => {
    for (const s of INSTANCE_STATES) {
      if (s !== 'terminated') {
        expect(judgeTransition(s, 'terminated').kind).toBe('allowed');
        expect(judgeTransition('terminated', s).kind).toBe('refused');
      }
    }
  });
});
