import { runPool } from './pool.js';
import type { WorkerJob, WorkerMessage } from './protocol.js';

/** A load worker process: takes one job from the coordinator over IPC, reports progress and its stats, exits. */
const send = (m: WorkerMessage, then?: () => void) => {
  if (!process.send) return then?.();
  process.send(m, undefined, {}, () => then?.());
};
const leave = () => process.disconnect?.();

process.once('message', (job: WorkerJob) => {
  runPool(job, (p) => send({ type: 'progress', worker: job.worker, ...p })).then(
    (stats) => {
      send({ type: 'done', stats }, leave);
    },
    (err: unknown) => {
      process.exitCode = 1;
      send(
        { type: 'failed', worker: job.worker, message: err instanceof Error ? err.message : String(err) },
        leave,
      );
    },
  );
});
