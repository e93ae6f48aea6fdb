import { parseArgs } from 'node:util';
import type { CliIo } from '../cli-io.js';
import { HubApiError } from '../drill/hub-client.js';
import { hostOf, isLoopbackHost } from '../util/loopback.js';
import { formatFaultResult } from './report.js';
import { type FaultTarget, runFaults } from './run.js';

export const FAULTS_USAGE = `Usage: carehub-sim faults [options]

Fault drill: QoS 1 messages whose PUBACK is lost with the link (the device reconnects with its
persistent session, clean=false, and resends; with an event id, and without one but with the DUP
flag), abrupt disconnects that fire the Last Will, malformed payloads, and device clocks that are
wrong (ts). Then checks that the hub stayed healthy and raised each alert exactly once.
Exit 0 when every check passed.

Without options it starts an in-process hub on the demo configuration (drill clock). Against a
running demo hub on this machine (it must have no open SOS/smoke alerts in h1-h3; this run resolves
its own alerts as "test" afterwards):

Options:
  --hub-http URL     the running hub's HTTP address (with --hub-mqtt)
  --hub-mqtt URL     its MQTT address (mqtt://127.0.0.1:1883)
  --user NAME        a supervisor (default supervisor1)
  --password TEXT    its password (default supervisor1-demo)
  --json             print a machine-readable result
  -h, --help         this text
`;

export async function faultsCommand(argv: string[], io: CliIo): Promise<number> {
  let values: {
    'hub-http'?: string;
    'hub-mqtt'?: string;
    user?: string;
    password?: string;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'hub-http': { type: 'string' },
        'hub-mqtt': { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`carehub-sim faults: ${(err as Error).message}\n\n${FAULTS_USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(FAULTS_USAGE);
    return 0;
  }
  let target: FaultTarget = { kind: 'in-process' };
  const http = values['hub-http'];
  const mqtt = values['hub-mqtt'];
  if (http !== undefined || mqtt !== undefined) {
    if (http === undefined || mqtt === undefined) {
      io.err('carehub-sim faults: give both --hub-http and --hub-mqtt\n');
      return 1;
    }
    let mqttUrl: URL;
    let httpUrl: URL;
    try {
      mqttUrl = new URL(mqtt);
      httpUrl = new URL(http);
    } catch {
      io.err('carehub-sim faults: --hub-http and --hub-mqtt must be URLs\n');
      return 1;
    }
    for (const [flag, text] of [
      ['--hub-http', http],
      ['--hub-mqtt', mqtt],
    ] as const) {
      if (!isLoopbackHost(hostOf(text) ?? '')) {
        io.err(
          `carehub-sim faults: ${flag}: fault drills target only this machine (127.0.0.0/8, ::1, localhost): refused\n`,
        );
        return 1;
      }
    }
    if (mqttUrl.protocol !== 'mqtt:') {
      io.err('carehub-sim faults: --hub-mqtt: use an mqtt:// URL\n');
      return 1;
    }
    target = {
      kind: 'running',
      httpUrl: httpUrl.origin,
      mqttHost: mqttUrl.hostname.replace(/^\[|\]$/g, ''),
      mqttPort: Number(mqttUrl.port || 1883),
      user: values.user ?? 'supervisor1',
      password: values.password ?? 'supervisor1-demo',
    };
  }
  try {
    const result = await runFaults(target);
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatFaultResult(result));
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof HubApiError || err instanceof Error) {
      io.err(`carehub-sim faults: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
