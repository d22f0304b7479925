// Builds the agent as ONE file with every npm dependency inside, for guests that have only
// Node.js (Debian 12 ships 18): dist/agent-bundle/nephele-agent.js and its .sha256. The
// iaas-gateway serves it to instances booted from stock images (Note [Agent bootstrap]).
// SWC compiles each TypeScript file first (decorator metadata), esbuild bundles.
import { build } from 'esbuild';
import { transform } from '@swc/core';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const outfile = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'agent-bundle', 'nephele-agent.js'));

const swcPlugin = {
  name: 'swc-decorators',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const result = await transform(source, {
        filename: args.path,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs', ignoreDynamic: true },
      });
      return { contents: result.code, loader: 'js' };
    });
  },
};

// Optional packages that libraries require lazily inside try/catch: absent in the bundle, as they
// are absent from a plain install.
const optional = [
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  '@nestjs/microservices',
  '@nestjs/microservices/*',
  '@nestjs/platform-express',
  '@fastify/*',
  'class-transformer/storage',
  'pino-pretty',
  'kafkajs',
  'mqtt',
  'nats',
  'ioredis',
  'amqp-connection-manager',
  '@grpc/*',
];

const result = await build({
  entryPoints: [path.join(root, 'apps', 'agent', 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  outfile,
  external: optional,
  // The agent takes only loadEnv from the service kit; the kit's root also brings Nest, which a
  // guest never needs.
  alias: { '@nephele/service-kit': path.join(root, 'libs', 'service-kit', 'src', 'env.ts') },
  tsconfig: path.join(root, 'tsconfig.base.json'),
  plugins: [swcPlugin],
  keepNames: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  metafile: true,
});
const bytes = await readFile(outfile);
const sha256 = createHash('sha256').update(bytes).digest('hex');
await writeFile(`${outfile}.sha256`, `${sha256}  ${path.basename(outfile)}\n`);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`built ${path.relative(root, outfile)} (${bytes.length} bytes, ${inputs} inputs) sha256 ${sha256}`);
