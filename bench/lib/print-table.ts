/** Print the figures of a results file as a Markdown table: node --import tsx bench/lib/print-table.ts [FILE] */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './hub-child.js';
import { type Results, table } from './results.js';

const file = process.argv[2] ?? join(ROOT, 'bench', 'results', 'latest.json');
const r = JSON.parse(readFileSync(file, 'utf8')) as Results;
const m = r.machine;
process.stdout.write(
  `${r.mode} run, ${r.date}, ${r.durationSeconds} s; ${m.cores} x ${m.cpuModel}, ${m.memoryMB} MB, Node ${m.node}, ${m.mosquitto}, open files ${m.openFileLimit}, load average at start ${m.loadAverageAtStart.join(' ')}\n\n`,
);
process.stdout.write(`${table(r.figures, true)}\n`);
for (const n of r.notes) process.stdout.write(`\n- ${n}`);
process.stdout.write('\n');
