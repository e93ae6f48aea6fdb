import type { MqttClient } from 'mqtt';
import { connectDevice } from '../../helpers/hub.js';

export interface Device {
  client: MqttClient;
  /** Every command the hub sent to the device's commands topic. */
  commands: Array<{ type: string; alertId?: string; [k: string]: unknown }>;
  publish(event: Record<string, unknown>): Promise<void>;
  end(): Promise<void>;
}

/** A real MQTT client playing a demo device, subscribed to its commands topic. */
export async function device(mqttUrl: string, id: string): Promise<Device> {
  const client = await connectDevice(mqttUrl, id);
  const commands: Device['commands'] = [];
  client.on('message', (_topic, payload) =>
    commands.push(JSON.parse(payload.toString()) as Device['commands'][number]),
  );
  await client.subscribeAsync(`carehub/v1/devices/${id}/commands`, { qos: 1 });
  return {
    client,
    commands,
    publish: async (event) => {
      await client.publishAsync(`carehub/v1/devices/${id}/events`, JSON.stringify(event), { qos: 1 });
    },
    end: async () => {
      await client.endAsync(true);
    },
  };
}
