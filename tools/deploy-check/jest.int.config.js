const config = require('../../jest.preset').preset(__dirname, 'int');

// The unknown-field check reads @kubernetes/client-node's model metadata; the package is ESM-only,
// so jest must compile it (with its ESM-only dependencies) like the preset's own exceptions.
module.exports = {
  ...config,
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|uid|load-esm|file-type|cron-parser|luxon|@kubernetes/client-node|openid-client|oauth4webapi|jose)/)',
  ],
};
