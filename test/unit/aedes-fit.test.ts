import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAPTATIONS, aedesFit, checkAedesFit, PINNED } from '../../hub/src/broker/aedes-fit/versions.js';
import { startHub, type TestHub } from '../helpers/hub.js';

/**
 * Issue 17: the adaptations that reach inside aedes, aedes-persistence and mqtt-packet live in one
 * folder (hub/src/broker/aedes-fit/), on exactly pinned versions, checked at start and shown in /healthz.
 */
describe('the broker adaptations and the versions they were made for', () => {
  let t: TestHub | undefined;
  afterAll(async () => {
    await t?.stop();
  });

  it('package.json pins each package the adaptations reach into exactly, and that is what is installed', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const [name, version] of Object.entries(PINNED)) expect(pkg.dependencies[name]).toBe(version);
    const fit = aedesFit();
    expect(fit.installed).toEqual(PINNED);
    expect(fit.ok).toBe(true);
  });

  it('refuses to start on another version, naming the package, the version found and the one pinned', () => {
    const fit = aedesFit((name) => (name === 'mqtt-packet' ? '9.1.0' : PINNED[name]));
    expect(fit.ok).toBe(false);
    expect(() => checkAedesFit(fit)).toThrow(
      expect.objectContaining({
        code: 'HUB_ERR_BROKER_UNFIT',
        message: expect.stringContaining('mqtt-packet 9.1.0 (CareHub is built for 9.0.2)'),
      }),
    );
    expect(() => checkAedesFit(aedesFit((name) => PINNED[name]))).not.toThrow();
  });

  it('/healthz shows the installed versions and every adaptation', async () => {
    t = await startHub();
    const health = (await (await fetch(`${t.httpUrl}/healthz`)).json()) as {
      checks: { mqtt: { aedes: { installed: Record<string, string>; adaptations: string[] } } };
    };
    expect(health.checks.mqtt.aedes.installed).toEqual(PINNED);
    expect(health.checks.mqtt.aedes.adaptations).toEqual(ADAPTATIONS.map((a) => a.name));
  });
});
