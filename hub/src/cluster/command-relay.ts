import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../log.js';

/** A device command relayed between nodes. */
interface Relayed {
  deviceId: string;
  message: object;
}

/**
 * Device commands reach the device on whichever node holds its connection: the leader (the only
 * node that performs external effects) publishes each command on a core NATS subject, and every
 * node, the leader too, delivers it to the device if the device is connected there. Commands name
 * their alert, so a repeat (a leader change) is harmless; a device connected nowhere gets none
 * (it learns its alert's state at its next press).
 */
export class CommandRelay {
  #sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly deliver: (deviceId: string, message: object) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#sub = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const r = JSON.parse(msg.string()) as Relayed;
          if (typeof r.deviceId === 'string' && r.message && typeof r.message === 'object')
            this.deliver(r.deviceId, r.message);
        } catch (e) {
          this.log.warn({ err: (e as Error)?.message }, 'a relayed device command could not be delivered');
        }
      },
    });
  }

  send(deviceId: string, message: object): void {
    try {
      this.nc.publish(this.subject, JSON.stringify({ deviceId, message } satisfies Relayed));
    } catch (err) {
      this.log.warn({ device: deviceId, err: (err as Error)?.message }, 'relaying a device command failed');
    }
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }
}
