// Preloaded into a hub process (node --import) by test/integration/admin-import-crash.test.ts: a
// power cut at a known point inside an import. Every run of an INSERT into dir_homes is counted;
// the one after CAREHUB_TEST_KILL_AFTER_HOMES kills the process with SIGKILL, mid-transaction.
import { createRequire } from 'node:module';

const limit = Number(process.env.CAREHUB_TEST_KILL_AFTER_HOMES ?? 'NaN');
if (Number.isFinite(limit)) {
  const require = createRequire(new URL('../../package.json', import.meta.url));
  const Database = require('better-sqlite3');
  const probe = new Database(':memory:');
  const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
  probe.close();
  const run = Statement.run;
  let n = 0;
  Statement.run = function counted(...args) {
    if (this.source.includes('INSERT INTO dir_homes') && ++n > limit) process.kill(process.pid, 'SIGKILL');
    return run.apply(this, args);
  };
}
