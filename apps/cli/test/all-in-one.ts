import { startSlowly } from '@nephele/testing';

/** The all-in-one for a CLI E2E (see startSlowly: a loaded machine may start it slowly). */
export const startAllInOne = (env: Record<string, string>) => startSlowly('nephele', env);
