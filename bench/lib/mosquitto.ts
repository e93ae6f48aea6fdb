import { type ChildProcess, spawn } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild, track } from './children.js';
import { freePort, waitForListener } from './net.js';
import { monoMs } from './proc.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const SINK_USER = 'bench-sink';
export const SINK_PASSWORD = 'bench-sink-password';

export interface Mosquitto {
  pid: number;
  port: number;
  url: string;
  /** Spawn → accepting TCP, ms. */
  startMs: number;
  stop(): Promise<void>;
}

/** Mosquitto 2 password-file entry: PBKDF2-SHA512, 101 rounds ($7$), as mosquitto_passwd writes it. */
function passwdHash(password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The reference broker: Debian's Mosquitto 2 on a free port, no persistence, a password file with the
 * same device accounts as the hub and an ACL with the hub's topic rules (a device publishes its own
 * events and status and reads its own commands); `bench-sink` reads every device's events and status,
 * standing in for the hub's consumer. Queues and in-flight windows are opened up so that it forwards
 * every QoS 1 message instead of dropping over its default 1000-message queue.
 */
export async function startMosquitto(
  dir: string,
  deviceIds: readonly string[],
  secret: string,
): Promise<Mosquitto> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const deviceHash = passwdHash(secret);
  const lines = deviceIds.map((id) => `${id}:${deviceHash}`);
  lines.push(`${SINK_USER}:${passwdHash(SINK_PASSWORD)}`);
  const passwd = join(dir, 'mosquitto.passwd');
  const acl = join(dir, 'mosquitto.acl');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(passwd, `${lines.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(
    acl,
    [
      `user ${SINK_USER}`,
      'topic read carehub/v1/devices/+/events',
      'topic read carehub/v1/devices/+/status',
      '',
      'pattern write carehub/v1/devices/%u/events',
      'pattern write carehub/v1/devices/%u/status',
      'pattern read carehub/v1/devices/%u/commands',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(
    conf,
    [
      // Started as root, Mosquitto would switch to its own user, which cannot read a 0700 temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      'persistence false',
      'max_connections -1',
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'max_packet_size 65536',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'mosquitto.log'), 'a');
  const t0 = monoMs();
  const child: ChildProcess = track(spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', log, log] }));
  await waitForListener(port, 15_000, () => child.exitCode === null);
  const startMs = monoMs() - t0;
  if (child.pid === undefined) throw new Error('mosquitto did not start');
  return {
    pid: child.pid,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    startMs,
    stop: () => stopChild(child, 5000),
  };
}
