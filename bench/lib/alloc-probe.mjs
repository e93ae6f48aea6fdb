// Allocation sampling for the hub process, loaded with
//   CAREHUB_BENCH_HUB_ARGS="--import ./bench/lib/alloc-probe.mjs" CAREHUB_ALLOC_DIR=/tmp/alloc npm run bench -- --hub-only ...
// V8's sampling heap profiler, started CAREHUB_ALLOC_DELAY_MS after the hub starts (default 15 s,
// after the devices have connected) and written to CAREHUB_ALLOC_DIR/<pid>.heapprofile when the
// bench stops the hub. CAREHUB_ALLOC_KEEP=promoted counts only objects that outlived a scavenge
// (collected by a full collection, or still alive); the default counts every allocation.
// Summarise with: node --import tsx bench/lib/alloc-summary.ts FILE
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.CAREHUB_ALLOC_DIR ?? '/tmp/carehub-alloc';
const promotedOnly = process.env.CAREHUB_ALLOC_KEEP === 'promoted';
const session = new Session();
session.connect();
setTimeout(
  () => {
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !promotedOnly,
    });
  },
  Number(process.env.CAREHUB_ALLOC_DELAY_MS ?? 15_000),
).unref();

let written = false;
process.on('SIGTERM', () => {
  if (written) return;
  written = true;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
