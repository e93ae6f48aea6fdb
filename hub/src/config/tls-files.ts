import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { ErrorCodes, HubError } from '../errors.js';

export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string | undefined;
}

/**
 * Read the PEM files of a TLS listener. A missing or unreadable file is a configuration error named by
 * its setting path (`mqtt.tls.key`); the key's contents never appear in a message or a log.
 */
export function readTlsFiles(
  files: TlsFiles,
  path: string,
): Pick<SecureContextOptions, 'cert' | 'key' | 'ca'> {
  const read = (name: 'cert' | 'key' | 'ca', file: string): Buffer => {
    try {
      const pem = readFileSync(file);
      if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
      return pem;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new HubError(ErrorCodes.CONFIG_UNREADABLE, `${path}.${name}: cannot read ${file}: ${reason}`, {
        cause: err,
        details: [{ path: `${path}.${name}`, message: `cannot read ${file}: ${reason}` }],
      });
    }
  };
  return {
    cert: read('cert', files.cert),
    key: read('key', files.key),
    ...(files.ca ? { ca: read('ca', files.ca) } : {}),
  };
}

/** TLS settings shared by the hub's listeners: TLS 1.2 at least. */
export const TLS_DEFAULTS = { minVersion: 'TLSv1.2' } as const;
