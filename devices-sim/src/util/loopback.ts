import { isIP } from 'node:net';

/**
 * The simulator's load and fault modes send traffic only to this machine: 127.0.0.0/8, ::1 or
 * localhost. Anything else is refused before a single packet leaves.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** The host of an mqtt:// / ws:// / http:// URL, or undefined when the URL is malformed. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * "127.0.0.2-127.0.0.9" or "127.0.0.2,127.0.0.5" (or one address) → the list of addresses, all in
 * 127.0.0.0/8. Throws an Error with a message for the user otherwise.
 */
export function parseSourceIps(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const [from, to] = part.split('-').map((p) => p.trim());
    if (!from || isIP(from) !== 4 || (to !== undefined && isIP(to) !== 4)) {
      throw new Error(`not an IPv4 address or range: "${part}" (e.g. 127.0.0.2-127.0.0.9)`);
    }
    const a = ipv4ToInt(from);
    const b = to === undefined ? a : ipv4ToInt(to);
    if (b < a) throw new Error(`range "${part}" runs backwards`);
    if (b - a > 65_535) throw new Error(`range "${part}" is larger than 65536 addresses`);
    for (let n = a; n <= b; n++) {
      const ip = intToIpv4(n);
      if (!ip.startsWith('127.'))
        throw new Error(`${ip} is not a loopback address: source addresses must be in 127.0.0.0/8`);
      out.push(ip);
    }
  }
  return out;
}
