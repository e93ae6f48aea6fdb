import type { Clock } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decodeEvent, decodeJson, decodeStatus } from '../protocol/decode.js';
import type { EventPayload, RejectReason } from '../protocol/events.js';
import { parseDeviceTopic } from '../protocol/topics.js';
import { decodeZigbeeState, parseZigbeeTopic, type ZigbeeTopic } from '../protocol/zigbee2mqtt.js';
import type { DeviceEntry, Directory } from '../site/directory.js';
import type { Journal } from './journal.js';

/** What the broker hands to ingest: transport-neutral, so an external-broker client can do the same. */
export interface InboundMessage {
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  dup: boolean;
  messageId?: number | undefined;
}

export type IngestOutcome =
  | { status: 'accepted'; count: number; duplicates: number }
  | { status: 'rejected'; reason: RejectReason; detail: string };

const DEAD_LETTER_MAX_BYTES = 8192;
const GATEWAY_CHECK_IN_MS = 10 * 60_000;

/**
 * Decode → validate → durable journal. Resolves only once the message is on disk (or recorded as
 * rejected in the dead-letter table): the broker acknowledges after that. Bad input is a value,
 * never an exception, so a broken device is not disconnected into an endless resend loop.
 */
export class Ingest {
  /** Last Zigbee2MQTT state per device, to derive events from changes. */
  readonly #zigbeeState = new Map<string, Record<string, unknown>>();
  readonly #gatewayCheckIns = new Map<string, number>();
  /** prom-client hashes the labels on every inc(): keep the child per event type. */
  readonly #acceptedByType = new Map<string, { inc(): void }>();

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly directory: Directory,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Never throws: a failure is a rejected promise (not a plain async function: one promise less per message). */
  accept(msg: InboundMessage): Promise<IngestOutcome> {
    try {
      return this.#route(msg);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #route(msg: InboundMessage): Promise<IngestOutcome> {
    const sender = this.directory.device(msg.clientId);
    if (!sender) return this.#reject(msg, 'unknown_device', 'client is not a configured device');
    const topic = parseDeviceTopic(msg.topic);
    if (topic) {
      if (topic.deviceId !== sender.device.id)
        return this.#reject(msg, 'acl_denied', 'topic of another device');
      if (topic.channel === 'events') return this.#acceptEvent(msg, sender);
      if (topic.channel === 'status') return this.#acceptStatus(msg, sender);
      return this.#reject(msg, 'acl_denied', 'devices do not publish commands');
    }
    if (sender.device.kind === 'gateway') return this.#acceptZigbee(msg, sender);
    return this.#reject(msg, 'bad_topic', 'not a CareHub device topic');
  }

  #acceptEvent(msg: InboundMessage, entry: DeviceEntry): Promise<IngestOutcome> {
    const decoded = decodeEvent(msg.payload, this.config.mqtt.maxEventBytes);
    if (!decoded.ok) return this.#reject(msg, decoded.reason, decoded.detail);
    return this.#journal(msg, entry, [decoded.value]);
  }

  #acceptStatus(msg: InboundMessage, entry: DeviceEntry): Promise<IngestOutcome> {
    const decoded = decodeStatus(msg.payload, this.config.mqtt.maxEventBytes);
    if (!decoded.ok) return this.#reject(msg, decoded.reason, decoded.detail);
    return this.#journal(msg, entry, [
      { type: decoded.value === 'online' ? 'status.online' : 'status.offline' },
    ]);
  }

  async #acceptZigbee(msg: InboundMessage, gateway: DeviceEntry): Promise<IngestOutcome> {
    const parsed = parseZigbeeTopic(this.directory.gatewayBaseTopic(gateway.device), msg.topic);
    if (!parsed) return this.#reject(msg, 'bad_topic', 'not a Zigbee2MQTT device topic of this gateway');
    // Zigbee2MQTT announces the bridge only when it (re)connects: anything it relays is its check-in.
    // Both appends happen now, check-in first (order kept); then wait for the commit covering them.
    const checkIn = parsed.kind === 'bridge_state' ? undefined : this.#gatewayCheckIn(gateway);
    const [outcome] = await Promise.all([this.#zigbeeMessage(msg, gateway, parsed), checkIn]);
    return outcome;
  }

  async #zigbeeMessage(
    msg: InboundMessage,
    gateway: DeviceEntry,
    parsed: ZigbeeTopic,
  ): Promise<IngestOutcome> {
    if (parsed.kind === 'ignored') return { status: 'accepted', count: 0, duplicates: 0 };
    const target =
      parsed.kind === 'bridge_state'
        ? gateway
        : this.directory.zigbeeDevice(gateway.device.id, parsed.friendlyName);
    if (!target)
      return this.#reject(msg, 'unknown_device', 'friendly name not mapped to a device of this gateway');
    if (parsed.kind !== 'state') {
      // Zigbee2MQTT sends {"state":"online"} or, in older versions, the bare word.
      const bare = msg.payload.toString('utf8').trim();
      const state = bare === 'online' || bare === 'offline' ? bare : undefined;
      const decoded = state
        ? { ok: true as const, value: state }
        : decodeStatus(msg.payload, this.config.mqtt.maxEventBytes);
      if (!decoded.ok) return this.#reject(msg, decoded.reason, decoded.detail);
      return this.#journal(msg, target, [
        { type: decoded.value === 'online' ? 'status.online' : 'status.offline' },
      ]);
    }
    const json = decodeJson(msg.payload, this.config.mqtt.maxEventBytes);
    if (!json.ok) return this.#reject(msg, json.reason, json.detail);
    const previous = this.#zigbeeState.get(target.device.id);
    this.#zigbeeState.set(target.device.id, json.value);
    return this.#journal(
      msg,
      target,
      decodeZigbeeState({ deviceId: target.device.id, kind: target.device.kind }, json.value, previous),
    );
  }

  /** A heartbeat for the gateway itself, at most one per GATEWAY_CHECK_IN_MS (keeps the journal small). */
  #gatewayCheckIn(gateway: DeviceEntry): Promise<unknown> | undefined {
    const now = this.clock.now();
    const last = this.#gatewayCheckIns.get(gateway.device.id);
    if (last !== undefined && now - last < GATEWAY_CHECK_IN_MS && now >= last) return undefined;
    this.#gatewayCheckIns.set(gateway.device.id, now);
    return this.journal.append({
      deviceId: gateway.device.id,
      homeId: gateway.home.id,
      receivedAt: now,
      type: 'heartbeat',
      payload: JSON.stringify({ type: 'heartbeat', relayed: true }),
    });
  }

  #journal(
    msg: InboundMessage,
    entry: DeviceEntry,
    events: Array<EventPayload | { type: 'status.online' | 'status.offline' }>,
  ): Promise<IngestOutcome> {
    const receivedAt = this.clock.now();
    const append = (event: EventPayload | { type: 'status.online' | 'status.offline' }) =>
      this.journal.append({
        deviceId: entry.device.id,
        homeId: entry.home.id,
        receivedAt,
        type: event.type,
        eventId: 'id' in event ? event.id : undefined,
        mqttMid: msg.qos > 0 ? msg.messageId : undefined,
        dup: msg.dup,
        payload: JSON.stringify(event),
        event,
      });
    // One event per message is the rule (a Zigbee2MQTT state can carry several): no arrays for it.
    const only = events.length === 1 ? events[0] : undefined;
    if (only)
      return append(only).then((r) => {
        this.#count(entry, only.type, r.duplicate);
        return { status: 'accepted', count: r.duplicate ? 0 : 1, duplicates: r.duplicate ? 1 : 0 };
      });
    return Promise.all(events.map(append)).then((results) => {
      let duplicates = 0;
      events.forEach((event, i) => {
        const duplicate = results[i]?.duplicate === true;
        if (duplicate) duplicates++;
        this.#count(entry, event.type, duplicate);
      });
      return { status: 'accepted', count: events.length - duplicates, duplicates };
    });
  }

  #count(entry: DeviceEntry, type: string, duplicate: boolean): void {
    if (!duplicate) {
      let counter = this.#acceptedByType.get(type);
      if (!counter) {
        counter = this.metrics.eventsAccepted.labels(type);
        this.#acceptedByType.set(type, counter);
      }
      counter.inc();
      return;
    }
    this.metrics.duplicates.inc();
    this.log.debug({ device: entry.device.id, type }, 'duplicate delivery dropped');
  }

  async #reject(msg: InboundMessage, reason: RejectReason, detail: string): Promise<IngestOutcome> {
    this.metrics.rejected.inc({ reason });
    // The detail of an unknown type quotes the device's text (anything, even a name): the log gets no copy, dead_letter keeps it.
    const logged = reason === 'unknown_type' ? 'unknown event type (text kept in dead_letter)' : detail;
    this.log.warn(
      {
        client: msg.clientId,
        topic: msg.topic.slice(0, 200),
        reason,
        detail: logged,
        bytes: msg.payload.length,
      },
      'device message rejected',
    );
    await this.journal.deadLetter({
      receivedAt: this.clock.now(),
      clientId: msg.clientId,
      topic: msg.topic.slice(0, 512),
      reason,
      detail,
      payload: msg.payload.subarray(0, DEAD_LETTER_MAX_BYTES),
    });
    return { status: 'rejected', reason, detail };
  }
}
