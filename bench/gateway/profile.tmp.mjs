import { execFile, fork } from 'node:child_process';
import { createTestDatabase } from '../../packages/gateway/dist/testing/harness.js';
import { freePort } from '../../packages/gateway/dist/testing/peers.js';

const data = process.argv[2];
const db = await createTestDatabase('medgrid_gw_prof');
const port = await freePort();
const http = await freePort();
const gw = fork('packages/gateway/dist/main.js', [], {
  execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/gwprof'],
  env: {
    ...process.env,
    DATABASE_URL: db.url,
    MEDGRID_DATA_DIR: '/tmp/gwprof/data',
    MEDGRID_GATEWAY_PORT: String(port),
    MEDGRID_GATEWAY_HTTP_PORT: String(http),
    MEDGRID_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
await new Promise((r) => gw.on('message', (m) => m.type === 'ready' && r()));
const t0 = Date.now();
await new Promise((r) =>
  execFile(
    'storescu',
    ['-aec', 'MEDGRID', '127.0.0.1', String(port), '+sd', data],
    { env: { ...process.env, TCP_NODELAY: '1' } },
    r,
  ),
);
console.log('storescu s', (Date.now() - t0) / 1000);
const m = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
console.log(
  m
    .split('\n')
    .filter((l) => l.startsWith('medgrid_gateway_s'))
    .join('\n'),
);
gw.kill('SIGTERM');
await new Promise((r) => gw.once('exit', r));
await db.drop();
