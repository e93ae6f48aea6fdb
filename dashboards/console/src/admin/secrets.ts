/**
 * Device secrets the hub showed this page (a device just added, a secret just made), kept in memory
 * only, for the installer sheet; never stored in the browser. Gone with a reload, or once printed.
 */
const secrets = new Map<string, string>();

export const deviceSecrets = {
  put: (deviceId: string, secret: string) => void secrets.set(deviceId, secret),
  get: (deviceId: string) => secrets.get(deviceId),
  forget: (deviceIds: readonly string[]) => {
    for (const id of deviceIds) secrets.delete(id);
  },
};
