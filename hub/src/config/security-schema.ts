import { z } from 'zod';

/**
 * The hardening settings of the `mqtt` and `http` sections (docs/security.md): broker limits, TLS
 * listeners and the plaintext switch. Kept apart from schema.ts so that file stays a table of sections.
 */

const portSchema = z.number().int().min(0).max(65535);
const pemFile = z.string().min(1, 'must be the path of a PEM file');

/** MQTT over TLS: a second listener (default 8883) from PEM files; ports.json gains `mqtts`. */
export const mqttTlsSchema = z.strictObject({
  port: portSchema.default(8883),
  /** Server certificate chain (PEM). */
  cert: pemFile,
  /** Private key of the certificate (PEM). */
  key: pemFile,
  /** Client CA bundle (PEM): when set, devices must also present a certificate signed by it (mutual TLS). */
  ca: pemFile.optional(),
});

/** HTTPS (and WSS for the staff feed and MQTT over WebSocket): a second listener (default 8443); ports.json gains `https`. */
export const httpTlsSchema = z.strictObject({
  port: portSchema.default(8443),
  cert: pemFile,
  key: pemFile,
});

/** Per-client and per-broker limits. Every value has a safe default; 0 switches a limit off where said. */
export const mqttLimitsSchema = z.strictObject({
  /**
   * Token bucket per device: publishes per second sustained, and the burst on top. Excess publishes are
   * acknowledged and dropped (counted as `rate_limited`); `sos.pressed` and `smoke.detected` always pass.
   * 0 = no limit.
   */
  publishPerSecond: z.number().min(0).max(1_000_000).default(10),
  publishBurst: z.number().int().min(1).max(1_000_000).default(100),
  /** The same for gateway accounts, which carry many devices on one connection. */
  gatewayPublishPerSecond: z.number().min(0).max(1_000_000).default(200),
  gatewayPublishBurst: z.number().int().min(1).max(1_000_000).default(2000),
  /** Connections open at once (TCP, TLS and WebSocket, before and after CONNECT); new ones past it are closed at once. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Window over which connects are counted for the flapping ban. */
  flapWindowMs: z.number().int().min(1000).max(3_600_000).default(60_000),
  /** Successful connects of one client id per window before it is banned (a device in a reconnect loop, or two sharing one identity). 0 = off. */
  flapMaxConnectsPerClient: z.number().int().min(0).max(1_000_000).default(20),
  /**
   * Connections per window from one address that do not authenticate (junk, failed logins, timeouts)
   * before the address is banned. Connections that authenticate are not counted, so many honest devices
   * behind one NAT are never banned for reconnecting. 0 = off.
   */
  flapMaxConnectsPerAddress: z.number().int().min(0).max(10_000_000).default(200),
  /** How long a flapping client id or address is refused. */
  flapBanMs: z.number().int().min(1000).max(86_400_000).default(60_000),
  /** aedes `queueLimit`: packets a client may pipeline behind its CONNECT before the CONNACK; past it the connection is closed. */
  queueLimit: z.number().int().min(1).max(10_000).default(42),
  /** aedes `maxInflightInbound`: QoS 2 publishes of one client awaiting PUBREL; past it the connection is closed. */
  maxInflightInbound: z.number().int().min(1).max(65_535).default(100),
  /** aedes `drainTimeout`: a subscriber whose socket does not drain within this is cut (a slow or frozen reader). */
  drainTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /**
   * Messages the broker holds for one client with a persistent session (clean session off): those
   * queued while it is away and those sent but not yet acknowledged. Past it the oldest is dropped
   * (counted in `carehub_mqtt_messages_dropped_total{reason="queue_full"}`): a device back from a short
   * absence gets the newest commands.
   */
  maxQueuedPerClient: z.number().int().min(1).max(10_000).default(20),
});

/** `plaintext: false` refuses plaintext, so it needs a TLS listener to serve anything at all. */
export function plaintextNeedsTls(section: 'mqtt' | 'http') {
  return (v: { plaintext: boolean; tls?: unknown }, ctx: z.RefinementCtx): void => {
    if (!v.plaintext && v.tls === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: `${section}.plaintext: false refuses plaintext, so ${section}.tls must be set`,
      });
    }
  };
}
