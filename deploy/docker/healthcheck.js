// Container health check: `node healthcheck.js [/healthz|/readyz]` exits 0 when the app answers
// 2xx on that path. It runs in every image, so it knows each app's default port (the same
// defaults as apps/<app>/src/config/env.ts) for containers started without PORT.
'use strict';

const DEFAULT_PORTS = {
  nephele: 8080,
  'config-api': 8081,
  'iaas-gateway': 8082,
  'state-tracker': 8083,
  'cloud-policy-engine': 8084,
  'event-log': 8085,
  scaler: 8086,
  'feed-poller': 8087,
  console: 8088,
};

const path = process.argv[2] || '/healthz';
const port = Number(process.env.PORT || DEFAULT_PORTS[process.env.NEPHELE_APP] || 0);
if (!port) {
  // No HTTP endpoint to ask (the agent; a dpe-worker on a random port): nothing to report.
  process.exit(0);
}

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) })
  .then((res) => {
    if (!res.ok) console.error(`${path}: HTTP ${res.status}`);
    process.exit(res.ok ? 0 : 1);
  })
  .catch((err) => {
    console.error(`${path}: ${err.message}`);
    process.exit(1);
  });
