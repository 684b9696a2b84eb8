// Runs every package's test script one after another (2 cores: parallel suites fight for CPU and
// ports), then prints one closing line for the whole run.
import { spawnSync } from 'node:child_process';

const order = [
  '@medgrid/dicom',
  '@medgrid/worker',
  '@medgrid/server',
  '@medgrid/gateway',
  '@medgrid/web-common',
  '@medgrid/doctor-app',
  '@medgrid/admin-app',
  '@medgrid/e2e',
];
// pnpm tells its children where it lives; fall back to PATH.
const pnpm =
  process.env.npm_execpath && !process.env.npm_execpath.endsWith('.js') ? process.env.npm_execpath : 'pnpm';
const failed = [];
for (const pkg of order) {
  const started = Date.now();
  console.log(`\n=== ${pkg}`);
  const r = spawnSync(pnpm, ['--filter', pkg, 'run', 'test'], { stdio: 'inherit', env: process.env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`=== ${pkg}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${secs} s`);
  if (r.status !== 0) failed.push(pkg);
}
console.log(
  `\npackages: ${order.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}`,
);
process.exit(failed.length ? 1 : 0);
