/**
 * Site administration figures (issue 18): a CSV of N homes (one resident, one contact, three
 * devices each) imported through the real HTTP API of a real hub (in this process, SQLite on disk),
 * first as a dry run, then for real; then single directory changes (a home added, a device added)
 * on the imported site. During the import a demo pendant presses SOS: how long until its PUBACK and
 * until the alert is in the API (the import is one unit of work: the hub does nothing else meanwhile).
 * `npx tsx bench/admin/import-10k.ts [--homes=10000]`; prints JSON. Since the API takes at most
 * MAX_IMPORT_ROWS rows (admin-import-routes.ts), raise that constant locally to measure a big file.
 * Run it under `flock /work/heavy.lock` on a shared machine.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectDevice, login, startHub } from '../../test/helpers/hub.js';

const { values } = parseArgs({ options: { homes: { type: 'string', default: '10000' } } });
const homes = Number(values.homes);

function csv(n: number): string {
  const lines = [
    'home_id,address,grid,resident_id,resident_name,resident_birth_year,resident_phone,contact_name,contact_relation,contact_phone,device_id,device_kind,device_label',
  ];
  for (let i = 0; i < n; i++) {
    const h = `b${i}`;
    lines.push(
      `${h},Bench Road ${i},g1,${h}-r,Resident ${i},1940,+86 138 ${String(i).padStart(8, '0')},Child ${i},family,+86 139 ${String(i).padStart(8, '0')},${h}-sos,sos_button,Pendant`,
    );
    lines.push(`${h},,,,,,,,,,${h}-door,door_sensor,Front door`);
    lines.push(`${h},,,,,,,,,,${h}-smoke,smoke_detector,Kitchen`);
  }
  return `${lines.join('\n')}\n`;
}

const t = await startHub();
try {
  const token = await login(t.httpUrl, 'admin1');
  const body = csv(homes);
  const post = async (path: string, init: { body: string; type: string; method?: string }) => {
    const t0 = performance.now();
    const r = await fetch(`${t.httpUrl}${path}`, {
      method: init.method ?? 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': init.type },
      body: init.body,
    });
    const json = (await r.json()) as Record<string, unknown>;
    return { status: r.status, ms: Math.round(performance.now() - t0), json };
  };
  const dry = await post('/api/v1/import?dryRun=1', { body, type: 'text/csv' });
  const sos = await connectDevice(t.mqttUrl, 'h1-sos');
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const pending = post('/api/v1/import', { body, type: 'text/csv' });
  await new Promise((r) => setTimeout(r, 1000));
  const pressed = performance.now();
  let pubackMs = -1;
  void sos
    .publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'bench-1' }),
      {
        qos: 1,
      },
    )
    .then(() => {
      pubackMs = Math.round(performance.now() - pressed);
    });
  let alertMs = -1;
  let cutPolls = 0;
  for (;;) {
    // A request in flight while the import holds the hub may be cut (request timeout): ask again.
    let list: Array<{ homeId: string; kind: string }> = [];
    try {
      const r = await fetch(`${t.httpUrl}/api/v1/alerts`, { headers: { authorization: `Bearer ${token}` } });
      list = ((await r.json()) as { alerts: typeof list }).alerts ?? [];
    } catch {
      cutPolls++;
    }
    if (list.some((a) => a.homeId === 'h1' && a.kind === 'sos')) {
      alertMs = Math.round(performance.now() - pressed);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const real = await pending;
  lag.disable();
  await sos.endAsync();
  const changes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const home = await post('/api/v1/homes', {
      type: 'application/json',
      body: JSON.stringify({
        id: `x${i}`,
        address: `Extra ${i}`,
        grid: 'g1',
        residents: [{ id: `x${i}-r`, name: 'X', birthYear: 1940 }],
        contacts: [],
      }),
    });
    const dev = await post(`/api/v1/homes/x${i}/devices`, {
      type: 'application/json',
      body: JSON.stringify({ id: `x${i}-sos`, kind: 'sos_button' }),
    });
    if (home.status !== 201 || dev.status !== 201)
      throw new Error(`change ${i}: ${home.status} ${dev.status}`);
    changes.push(home.ms, dev.ms);
  }
  changes.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        homes,
        rows: homes * 3,
        bytes: Buffer.byteLength(body),
        dryRun: {
          status: dry.status,
          ms: dry.ms,
          problems: (dry.json.problems as unknown[] | undefined)?.length,
        },
        import: { status: real.status, ms: real.ms, created: real.json.created },
        directoryHomes: t.hub.directory.homes().length,
        sosDuringImport: { pubackMs, alertInApiMs: alertMs, cutPolls },
        // The longest the hub's event loop stood still during the import (nothing else ran meanwhile).
        importLongestStallMs: Math.round(lag.max / 1e6),
        singleChangeMs: { median: changes[changes.length >> 1], max: changes.at(-1), n: changes.length },
      },
      null,
      1,
    ),
  );
} finally {
  await t.stop();
}
