import { z } from 'zod';

/**
 * The `http` settings that harden the staff side (docs/security.md): who counts as a reverse proxy,
 * which other origins may act with the session cookie, and how long a client may take to send a
 * request. Kept apart from schema.ts so that file stays a table of sections.
 */

const proxyAddress = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
  error: 'must be an IP address or a CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)',
});

/** `scheme://host[:port]`, exactly as browsers send it in the Origin header. */
const origin = z
  .string()
  .regex(
    /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/,
    'must be an origin: scheme://host[:port] in lower case, no path (e.g. https://carehub.example.org)',
  );

export const httpHardeningFields = {
  /**
   * Peers whose `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto` are believed (the
   * reverse proxy in front of the hub). Empty: the TCP peer is the client, forwarded headers are ignored.
   */
  trustedProxies: z.array(proxyAddress).max(64).default([]),
  /** Origins besides the hub's own whose pages may change things with the session cookie. */
  allowedOrigins: z.array(origin).max(32).default([]),
  /** Time a client has to send the request line and headers (408 after it). */
  headersTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
  /** Time a client has to send the whole request, body included (408 after it). */
  requestTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
};

/** Node refuses a header timeout longer than the request timeout. */
export function timeoutsFit(
  v: { headersTimeoutMs: number; requestTimeoutMs: number },
  ctx: z.RefinementCtx,
): void {
  if (v.headersTimeoutMs > v.requestTimeoutMs)
    ctx.addIssue({
      code: 'custom',
      path: ['headersTimeoutMs'],
      message: 'must not be longer than http.requestTimeoutMs',
    });
}
