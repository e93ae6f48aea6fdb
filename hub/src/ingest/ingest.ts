import { type Done, promised } from '../async/callbacks.js';
import type { Clock } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decodeEvent, decodeJson, decodeStatus } from '../protocol/decode.js';
import type { EventPayload, RejectReason } from '../protocol/events.js';
import { parseDeviceTopic } from '../protocol/topics.js';
import { parseZigbeeMemory, type ZigbeeMemory } from '../protocol/zigbee-memory.js';
import { decodeZigbeeReport, parseZigbeeTopic, type ZigbeeTopic } from '../protocol/zigbee2mqtt.js';
import type { DeviceEntry, Directory } from '../site/directory.js';
import type { AppendDone, AppendResult, DeviceEventLog, JournalEntry } from '../store/journal.js';

/** What the broker hands to ingest: transport-neutral, so an external-broker client can do the same. */
export interface InboundMessage {
  clientId: string;
  /** The configured device the broker authenticated `clientId` as, when it has it (saves a lookup). */
  sender?: DeviceEntry | undefined;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  dup: boolean;
  messageId?: number | undefined;
}

/** Where ingest finds what the hub stored of a Zigbee device's last report (store/zigbee-state-repo.ts). */
export interface ZigbeeMemoryStore {
  get(deviceId: string): string | undefined;
}

export type IngestOutcome =
  | { status: 'accepted'; count: number; duplicates: number }
  | { status: 'rejected'; reason: RejectReason; detail: string };

/** Called once: with the outcome, or with the error that kept the message off the disk. */
export type IngestDone = Done<IngestOutcome>;

/** The outcomes of nearly every message, shared (callers only read them). */
const ACCEPTED_ONE: IngestOutcome = Object.freeze({ status: 'accepted', count: 1, duplicates: 0 });
const DUPLICATE_ONE: IngestOutcome = Object.freeze({ status: 'accepted', count: 0, duplicates: 1 });

const DEAD_LETTER_MAX_BYTES = 8192;
const GATEWAY_CHECK_IN_MS = 10 * 60_000;
const ACTION_SUFFIX = '/action';

/**
 * Decode → validate → durable journal. Resolves only once the message is on disk (or recorded as
 * rejected in the dead-letter table): the broker acknowledges after that. Bad input is a value,
 * never an exception, so a broken device is not disconnected into an endless resend loop.
 */
export class Ingest {
  /**
   * What the hub kept of each Zigbee2MQTT device's last report, to derive events from changes. Ahead
   * of the disk by the reports whose commit is pending; read from `zigbeeStore` at a device's first
   * report after a start, and again after an append failed (the disk has only what committed).
   */
  readonly #zigbee = new Map<string, ZigbeeMemory>();
  readonly #gatewayCheckIns = new Map<string, number>();
  /** prom-client hashes the labels on every inc(): keep the child per event type. */
  readonly #acceptedByType = new Map<string, { inc(): void }>();

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly directory: Directory,
    private readonly journal: DeviceEventLog,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly zigbeeStore?: ZigbeeMemoryStore,
  ) {}

  /** Never throws: a failure is a rejected promise. */
  accept(msg: InboundMessage): Promise<IngestOutcome> {
    return promised((done) => this.acceptThen(msg, done));
  }

  /**
   * `accept` without promises, for the broker: one callback per message instead of a promise chain
   * (the hot path of every device event). `done` is called once, never synchronously.
   */
  acceptThen(msg: InboundMessage, done: IngestDone): void {
    try {
      this.#route(msg, done);
    } catch (err) {
      queueMicrotask(() => done(err));
    }
  }

  #route(msg: InboundMessage, done: IngestDone): void {
    const sender = msg.sender ?? this.directory.device(msg.clientId);
    if (!sender) {
      this.#reject(msg, 'unknown_device', 'client is not a configured device', done);
      return;
    }
    const own = `expected ${sender.eventsTopic} or ${sender.statusTopic}`;
    // The device's own topics (made once, in the directory): nearly every message.
    if (msg.topic === sender.eventsTopic) this.#acceptEvent(msg, sender, done);
    else if (msg.topic === sender.statusTopic) this.#acceptStatus(msg, sender, done);
    else {
      const topic = parseDeviceTopic(msg.topic);
      if (topic && topic.deviceId !== sender.device.id)
        this.#reject(msg, 'acl_denied', `topic of another device: ${own}`, done);
      else if (topic)
        this.#reject(msg, 'acl_denied', `devices do not publish on their commands topic: ${own}`, done);
      else if (sender.device.kind === 'gateway')
        this.#acceptZigbee(msg, sender).then((outcome) => done(null, outcome), done);
      else this.#reject(msg, 'bad_topic', `not a CareHub device topic: ${own}`, done);
    }
  }

  #acceptEvent(msg: InboundMessage, entry: DeviceEntry, done: IngestDone): void {
    const decoded = decodeEvent(msg.payload, this.config.mqtt.maxEventBytes);
    if (decoded.ok) this.#journal(msg, entry, [decoded.value], done);
    else this.#reject(msg, decoded.reason, decoded.detail, done, decoded.logDetail);
  }

  #acceptStatus(msg: InboundMessage, entry: DeviceEntry, done: IngestDone): void {
    const decoded = decodeStatus(msg.payload, this.config.mqtt.maxEventBytes);
    if (!decoded.ok) this.#reject(msg, decoded.reason, decoded.detail, done);
    else {
      const type = decoded.value === 'online' ? 'status.online' : 'status.offline';
      this.#journal(msg, entry, [{ type }], done);
    }
  }

  async #acceptZigbee(msg: InboundMessage, gateway: DeviceEntry): Promise<IngestOutcome> {
    const parsed = parseZigbeeTopic(this.directory.gatewayBaseTopic(gateway.device), msg.topic);
    if (!parsed) {
      const base = this.directory.gatewayBaseTopic(gateway.device);
      return promised((d) =>
        this.#reject(
          msg,
          'bad_topic',
          `not a Zigbee2MQTT device topic of this gateway: expected ${base}/<friendly name> or ${base}/<friendly name>/availability`,
          d,
        ),
      );
    }
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
    if (!target) {
      // Zigbee2MQTT's Home Assistant device trigger: the bare action of a mapped device's report,
      // which the hub already has from the report itself.
      const name =
        parsed.kind === 'state' && parsed.friendlyName.endsWith(ACTION_SUFFIX) ? parsed.friendlyName : '';
      if (name && this.directory.zigbeeDevice(gateway.device.id, name.slice(0, -ACTION_SUFFIX.length)))
        return { status: 'accepted', count: 0, duplicates: 0 };
      return promised((d) =>
        this.#reject(msg, 'unknown_device', 'friendly name not mapped to a device of this gateway', d),
      );
    }
    if (parsed.kind !== 'state') {
      // Zigbee2MQTT sends {"state":"online"} or, in older versions, the bare word.
      const bare = msg.payload.toString('utf8').trim();
      const state = bare === 'online' || bare === 'offline' ? bare : undefined;
      const decoded = state
        ? { ok: true as const, value: state }
        : decodeStatus(msg.payload, this.config.mqtt.maxEventBytes);
      if (!decoded.ok) return promised((d) => this.#reject(msg, decoded.reason, decoded.detail, d));
      return promised((d) =>
        this.#journal(
          msg,
          target,
          [{ type: decoded.value === 'online' ? 'status.online' : 'status.offline' }],
          d,
        ),
      );
    }
    const json = decodeJson(msg.payload, this.config.mqtt.maxEventBytes);
    if (!json.ok) return promised((d) => this.#reject(msg, json.reason, json.detail, d));
    const id = target.device.id;
    const { events, memory } = decodeZigbeeReport(
      { deviceId: id, kind: target.device.kind },
      json.value,
      this.#zigbee.get(id) ?? parseZigbeeMemory(this.zigbeeStore?.get(id)),
    );
    this.#zigbee.set(id, memory);
    // Every row made from the report carries the memory: the processor stores it with the rows.
    const rows = events.map((e) => ({ ...e, zigbee: memory }));
    return promised((d) =>
      this.#journal(msg, target, rows, (err, outcome) => {
        if (err) this.#zigbee.delete(id);
        d(err, outcome);
      }),
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
    done: IngestDone,
  ): void {
    const receivedAt = this.clock.now();
    const toEntry = (event: EventPayload | { type: 'status.online' | 'status.offline' }): JournalEntry => ({
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
    if (only) {
      this.journal.appendThen(toEntry(only), this.#afterAppend(entry, only.type, done));
      return;
    }
    Promise.all(events.map((e) => this.journal.append(toEntry(e)))).then((results) => {
      let duplicates = 0;
      events.forEach((event, i) => {
        const duplicate = results[i]?.duplicate === true;
        if (duplicate) duplicates++;
        this.#count(entry, event.type, duplicate);
      });
      done(null, { status: 'accepted', count: events.length - duplicates, duplicates });
    }, done);
  }

  /**
   * The journal's callback for one event. Made here, not in #journal, so that it keeps neither the
   * message nor the decoded event alive while the disk syncs (closures of one function share what
   * they capture).
   */
  #afterAppend(entry: DeviceEntry, type: string, done: IngestDone): AppendDone {
    return (err, r) => {
      if (err) return done(err);
      const duplicate = (r as AppendResult).duplicate;
      this.#count(entry, type, duplicate);
      done(null, duplicate ? DUPLICATE_ONE : ACCEPTED_ONE);
    };
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

  /**
   * `detail` (what was wrong and what is expected) goes to dead_letter; `logDetail`, when the detail
   * quotes the device's text (anything, even a name), is what the log gets instead.
   */
  #reject(
    msg: InboundMessage,
    reason: RejectReason,
    detail: string,
    done: IngestDone,
    logDetail?: string,
  ): void {
    this.metrics.rejected.inc({ reason });
    const logged = logDetail ?? detail;
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
    this.journal
      .deadLetter({
        receivedAt: this.clock.now(),
        clientId: msg.clientId,
        topic: msg.topic.slice(0, 512),
        reason,
        detail,
        payload: msg.payload.subarray(0, DEAD_LETTER_MAX_BYTES),
      })
      .then(() => done(null, { status: 'rejected', reason, detail }), done);
  }
}
