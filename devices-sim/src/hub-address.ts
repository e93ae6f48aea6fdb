/** An MQTT URL that reaches a hub listening on `host` from this machine (a wildcard host means loopback). */
export function localMqttUrl(host: string, port: number): string {
  const h = ['0.0.0.0', '::', ''].includes(host) ? '127.0.0.1' : host;
  return `mqtt://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
