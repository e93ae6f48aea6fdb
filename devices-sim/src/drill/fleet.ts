import type { DeviceConfig, DeviceKind, HubConfig } from '../../../hub/src/config/schema.js';
import { type DeviceCommand, SimDevice } from '../sim-device.js';
import { ACTION_SPECS, type DeviceAction } from './actions.js';
import { SimGateway } from './zigbee-gateway.js';

export interface FleetOptions {
  /** Hub MQTT address. */
  url: string;
  /** The devices' clock for the informational `ts` (the drill clock). */
  now: () => number;
  timeoutMs?: number;
  /** After an abrupt disconnect: resolves once the hub has taken the device for offline (Last Will processed). */
  confirmOffline?: (deviceId: string, homeId: string) => Promise<void>;
  /** Battery level devices report until told otherwise (default 90). */
  battery?: number;
  /** A hub → device message to a native device (e.g. a check-in request the resident may answer). */
  onCommand?: (deviceId: string, command: DeviceCommand) => void;
}

/** One configured device as the drill plays it: natively, behind a Zigbee2MQTT gateway, or a gateway. */
export interface Actor {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly homeId: string;
  readonly via: 'native' | 'zigbee' | 'gateway';
  /** Sends heartbeats (false after offline or silent, until reconnect). */
  readonly alive: boolean;
  act(action: DeviceAction, level?: number): Promise<void>;
  /** One check-in if alive and reachable; otherwise nothing. */
  heartbeat(): Promise<void>;
  stop(): Promise<void>;
}

/** A device action the drill cannot play (offline device, nothing to duplicate, …). */
export class ActionError extends Error {
  override name = 'ActionError';
}

class NativeActor implements Actor {
  readonly via = 'native' as const;
  alive = true;
  #connected = false;
  readonly device: SimDevice;

  constructor(
    readonly id: string,
    readonly kind: DeviceKind,
    readonly homeId: string,
    secret: string,
    private readonly opts: FleetOptions,
  ) {
    this.device = new SimDevice({
      url: opts.url,
      id,
      secret,
      announce: true,
      battery: opts.battery ?? 90,
      rssi: -60,
      timeoutMs: opts.timeoutMs ?? 10_000,
      now: opts.now,
      ...(opts.onCommand ? { onCommand: (c: DeviceCommand) => opts.onCommand?.(id, c) } : {}),
    });
  }

  async start(): Promise<void> {
    await this.device.start();
    this.#connected = true;
  }

  async act(action: DeviceAction, level?: number): Promise<void> {
    if (action === 'reconnect') {
      if (!this.#connected) await this.start();
      this.alive = true;
      await this.device.heartbeat();
      return;
    }
    if (!this.#connected) throw new ActionError(`${this.id} is offline: reconnect it first`);
    if (!this.alive) throw new ActionError(`${this.id} is silent: reconnect it first`);
    switch (action) {
      case 'offline':
        await this.device.stop('abrupt');
        this.#connected = false;
        this.alive = false;
        await this.opts.confirmOffline?.(this.id, this.homeId);
        return;
      case 'silent':
        this.alive = false;
        return;
      case 'battery':
        this.device.battery = level ?? this.device.battery;
        await this.device.heartbeat();
        return;
      case 'heartbeat':
        await this.device.heartbeat();
        return;
      case 'checkin':
        await this.device.checkin();
        return;
      case 'malformed':
        await this.device.sendRaw('{"type":"sos.pressed", this is not JSON');
        return;
      case 'duplicate': {
        const last = this.device.lastSent;
        if (!last) throw new ActionError(`duplicate: ${this.id} has sent no event yet`);
        await this.device.resend(last);
        return;
      }
      default: {
        const event = ACTION_SPECS[action].event;
        if (!event) throw new ActionError(`${action}: not a device event`);
        await this.device.send(event);
      }
    }
  }

  async heartbeat(): Promise<void> {
    if (this.alive && this.#connected) await this.device.heartbeat();
  }

  async stop(): Promise<void> {
    await this.device.stop('quiet');
  }
}

class GatewayActor implements Actor {
  readonly via = 'gateway' as const;
  readonly kind = 'gateway' as const;
  alive = true;
  readonly gateway: SimGateway;

  constructor(
    readonly id: string,
    readonly homeId: string,
    secret: string,
    baseTopic: string,
    private readonly opts: FleetOptions,
  ) {
    this.gateway = new SimGateway({
      url: opts.url,
      id,
      secret,
      baseTopic,
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
  }

  get connected(): boolean {
    return this.gateway.connected;
  }

  async act(action: DeviceAction): Promise<void> {
    if (action === 'reconnect') {
      if (!this.gateway.connected) await this.gateway.start();
      else await this.gateway.bridgeOnline();
      this.alive = true;
      return;
    }
    if (!this.gateway.connected) throw new ActionError(`gateway ${this.id} is offline: reconnect it first`);
    switch (action) {
      case 'offline':
        await this.gateway.stop('abrupt');
        this.alive = false;
        await this.opts.confirmOffline?.(this.id, this.homeId);
        return;
      case 'silent':
        this.alive = false;
        return;
      case 'heartbeat':
        await this.gateway.bridgeOnline();
        return;
      case 'malformed':
        await this.gateway.publishRaw('bridge/state', Buffer.from([0xff, 0xfe, 0x00]));
        return;
      default:
        throw new ActionError(`${action} is not for a gateway`);
    }
  }

  async heartbeat(): Promise<void> {
    if (this.alive && this.gateway.connected) await this.gateway.bridgeOnline();
  }

  async stop(): Promise<void> {
    await this.gateway.stop('clean');
  }
}

/**
 * Initial Zigbee2MQTT state of a device by kind: the fields zigbee-herdsman-converters makes for a
 * typical model (docs/protocol.md, "Models checked"), plus battery. Zigbee2MQTT (cache_state, its
 * default) publishes this whole state with every report, so the drills do too.
 */
function initialZigbeeState(kind: DeviceKind, battery: number): Record<string, unknown> {
  const common = { battery, voltage: 3000, battery_low: false };
  switch (kind) {
    case 'door_sensor': // SONOFF SNZB-04 / Tuya TS0203 (ias_contact_alarm_1)
      return { ...common, contact: true, tamper: false };
    case 'smoke_detector': // Heiman HS1SA-E (ias_smoke_alarm_1: every IAS zone status bit)
      return {
        ...common,
        smoke: false,
        tamper: false,
        supervision_reports: true,
        restore_reports: true,
        trouble: false,
        ac_status: false,
        test: false,
        battery_defect: false,
      };
    case 'motion_sensor': // SONOFF SNZB-03 (iasZoneAlarm occupancy)
      return { ...common, occupancy: false, tamper: false };
    default: // an SOS button (Tuya TS0215A_sos): battery only; `action` is never cached
      return { ...common };
  }
}

class ZigbeeActor implements Actor {
  readonly via = 'zigbee' as const;
  alive = true;
  readonly state: Record<string, unknown>;
  #fire = false;
  #linkquality = 100;

  constructor(
    readonly id: string,
    readonly kind: DeviceKind,
    readonly homeId: string,
    readonly friendlyName: string,
    private readonly gateway: GatewayActor,
    battery: number,
  ) {
    this.state = initialZigbeeState(kind, battery);
  }

  async act(action: DeviceAction, level?: number): Promise<void> {
    if (!this.gateway.connected) {
      throw new ActionError(
        `${this.id} is behind gateway ${this.gateway.id}, which is offline: nothing reaches the hub`,
      );
    }
    const gw = this.gateway.gateway;
    if (action === 'reconnect') {
      this.alive = true;
      await gw.publishAvailability(this.friendlyName, 'online');
      await this.#report();
      return;
    }
    if (!this.alive) throw new ActionError(`${this.id} is offline or silent: reconnect it first`);
    switch (action) {
      case 'press':
        return this.#report({ action: 'emergency' });
      case 'open':
        this.state.contact = false;
        return this.#report();
      case 'close':
        this.state.contact = true;
        return this.#report();
      case 'smoke':
        this.#fire = true;
        this.state.smoke = true;
        return this.#report();
      case 'smoke-clear':
        this.#fire = false;
        this.state.smoke = false;
        return this.#report();
      case 'smoke-test':
        // The test button: the detector sounds and its zone status has the alarm and the test bit;
        // then both clear (the alarm bit stays while there is smoke).
        await this.#report({ smoke: true, test: true });
        return this.#report({ smoke: this.#fire, test: false });
      case 'motion':
        // Movement, then Zigbee2MQTT's occupancy_timeout clearing it (drill time is compressed).
        await this.#report({ occupancy: true });
        return this.#report({ occupancy: false });
      // Momentary: reported true once; the next report carries it false again.
      case 'tamper':
        return this.#report({ tamper: true });
      case 'battery':
        this.state.battery = level ?? this.state.battery;
        this.state.battery_low = typeof this.state.battery === 'number' && this.state.battery <= 20;
        return this.#report();
      case 'heartbeat':
        return this.#report();
      case 'offline':
        this.alive = false;
        return gw.publishAvailability(this.friendlyName, 'offline');
      case 'silent':
        this.alive = false;
        return;
      case 'malformed':
        return gw.publishRaw(this.friendlyName, '{"contact": fals');
      default:
        throw new ActionError(`${action} is not possible through a Zigbee2MQTT gateway`);
    }
  }

  async heartbeat(): Promise<void> {
    if (this.alive && this.gateway.connected) await this.#report();
  }

  /** The whole cached state, the update merged in, and the frame's link quality (as Zigbee2MQTT does). */
  #report(update: Record<string, unknown> = {}): Promise<void> {
    const { action, tamper, ...kept } = update;
    Object.assign(this.state, kept);
    this.#linkquality = this.#linkquality >= 200 ? 60 : this.#linkquality + 23;
    const message: Record<string, unknown> = { ...this.state, linkquality: this.#linkquality };
    if (tamper !== undefined) message.tamper = tamper;
    if (action !== undefined) message.action = action;
    return this.gateway.gateway.publishState(this.friendlyName, message);
  }

  async stop(): Promise<void> {}
}

/** Every device of a site configuration, connected and ready to act on the drill's cue. */
export class Fleet {
  readonly #actors = new Map<string, Actor>();

  private constructor() {}

  static async start(config: Readonly<HubConfig>, opts: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet();
    const gateways = new Map<string, GatewayActor>();
    const natives: NativeActor[] = [];
    const pending: Array<{ device: DeviceConfig; homeId: string }> = [];
    for (const home of config.homes) {
      for (const device of home.devices) {
        if (device.zigbee) {
          pending.push({ device, homeId: home.id });
          continue;
        }
        const secret = device.demoSecret;
        if (secret === undefined)
          throw new ActionError(`device ${device.id} has no demoSecret: drills play demo configurations`);
        if (device.kind === 'gateway') {
          const base = device.baseTopic ?? config.mqtt.gatewayBaseTopic;
          const actor = new GatewayActor(device.id, home.id, secret, base, opts);
          gateways.set(device.id, actor);
          fleet.#actors.set(device.id, actor);
        } else {
          const actor = new NativeActor(device.id, device.kind, home.id, secret, opts);
          natives.push(actor);
          fleet.#actors.set(device.id, actor);
        }
      }
    }
    for (const { device, homeId } of pending) {
      const zigbee = device.zigbee;
      const gw = zigbee ? gateways.get(zigbee.gateway) : undefined;
      if (!zigbee || !gw) throw new ActionError(`device ${device.id}: its gateway is not configured`);
      fleet.#actors.set(
        device.id,
        new ZigbeeActor(device.id, device.kind, homeId, zigbee.friendlyName, gw, opts.battery ?? 90),
      );
    }
    try {
      await Promise.all([...gateways.values()].map((g) => g.gateway.start()));
      await Promise.all(natives.map((n) => n.start()));
      // A first check-in from everyone, so the hub knows every battery level from the start.
      await fleet.heartbeatAll();
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  actor(id: string): Actor | undefined {
    return this.#actors.get(id);
  }

  get size(): number {
    return this.#actors.size;
  }

  /** A heartbeat from every live device; per home in parallel. */
  async heartbeatAll(): Promise<void> {
    await Promise.all([...this.#actors.values()].map((a) => a.heartbeat()));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.#actors.values()].map((a) => a.stop()));
  }
}
