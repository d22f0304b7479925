// The `vm` profile (npm run test:vm): real QEMU virtual machines. Not part of `npm test`: under
// software emulation one boot takes minutes.
const base = require('../../jest.preset').preset(__dirname, 'e2e');
module.exports = { ...base, testMatch: ['<rootDir>/test/**/*.vm-spec.ts'], testTimeout: 40 * 60_000 };
