import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, PRODUCTION_NODE_FLAGS } from '../../hub/src/node-flags.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('production node options', () => {
  it('are missing when neither the command line nor NODE_OPTIONS has them', () => {
    expect(missingNodeFlags([], undefined)).toEqual(['--max-semi-space-size=32']);
    expect(missingNodeFlags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([
      '--max-semi-space-size=32',
    ]);
  });

  it('count as set from the command line or NODE_OPTIONS, in either spelling and with any value', () => {
    expect(missingNodeFlags(['--max-semi-space-size=32'], undefined)).toEqual([]);
    expect(missingNodeFlags(['--max_semi_space_size=8'], undefined)).toEqual([]);
    expect(missingNodeFlags(['--max-semi-space-size', '64'], undefined)).toEqual([]);
    expect(missingNodeFlags([], '  --inspect   --max-semi-space-size=16 ')).toEqual([]);
  });

  it('are the Docker image’s ENTRYPOINT options', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    expect(JSON.parse(entrypoint as string)).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      ...PRODUCTION_NODE_FLAGS,
      'bin/carehub.js',
    ]);
  });

  it('are on the ExecStart line of the systemd unit in docs/operations.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(doc)?.[1]?.split(' ');
    expect(execStart?.slice(0, 1 + PRODUCTION_NODE_FLAGS.length + 2)).toEqual([
      '/usr/bin/node',
      ...PRODUCTION_NODE_FLAGS,
      '/opt/carehub/bin/carehub.js',
      'start',
    ]);
  });

  it('the systemd unit in docs/operations.md restarts the hub after any exit and never gives up', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const unit = /```ini\n(\[Unit\][\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^RestartSec=[1-5]$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
  });
});
