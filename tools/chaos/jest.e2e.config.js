// The fault-injection scenario (tools/chaos/test/chaos.e2e-spec.ts): one long test, every service a
// process. CHAOS_PROFILE=short (CI, default) or long (on demand) sizes it.
const config = require('../../jest.preset').preset(__dirname, 'e2e');

module.exports = { ...config, testTimeout: 60 * 60 * 1000 };
