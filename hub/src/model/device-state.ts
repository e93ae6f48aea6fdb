export interface DeviceState {
  deviceId: string;
  online: boolean | null;
  battery: number | null;
  batteryLow: boolean | null;
  rssi: number | null;
  lastSeen: number;
}
