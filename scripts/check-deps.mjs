#!/usr/bin/env node
// Offline dependency check: fails when package-lock.json resolves a package below the version that
// fixed a known vulnerability that matters to CareHub. The list is kept by hand (no network in CI);
// `npm audit` adds the registry's advisories where the registry is reachable.
import { readFileSync } from 'node:fs';

const MINIMUM = {
  aedes: ['1.1.1', 'topic-depth crash (deeply nested topics)'],
  ws: ['8.21.0', 'keep ws >= 8.21 (DoS fixes: headers, fragments)'],
  'mqtt-packet': ['9.0.0', 'parser hardening for malformed remaining length'],
  'better-sqlite3': ['12.0.0', 'v13 crashes on Node 20; v11 and older lack the SQLite fixes we rely on'],
  zod: ['4.0.0', 'schemas are written for zod 4'],
};
const MAXIMUM = { 'better-sqlite3': ['13.0.0', 'better-sqlite3 13 segfaults on Node 20'] };

const cmp = (a, b) => {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const problems = [];
for (const [path, meta] of Object.entries(lock.packages ?? {})) {
  const name = path.split('node_modules/').pop();
  if (!name || !meta.version) continue;
  const min = MINIMUM[name];
  if (min && cmp(meta.version, min[0]) < 0) problems.push(`${path}@${meta.version} < ${min[0]}: ${min[1]}`);
  const max = MAXIMUM[name];
  if (max && cmp(meta.version, max[0]) >= 0) problems.push(`${path}@${meta.version} >= ${max[0]}: ${max[1]}`);
}
if (problems.length) {
  console.error(`dependency check FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `dependency check: ${Object.keys(lock.packages ?? {}).length - 1} locked packages, minimum versions hold`,
);
