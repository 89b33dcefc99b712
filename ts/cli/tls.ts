// --certfile and --keyfile: HTTPS on every --bind address, through wrapSsl (SPEC §3), TLS
// terminated in the Rust core.
import type { Listener } from '../listen.js';
import { wrapSsl } from '../ssl.js';
import { StartError } from './errors.js';

export interface TlsFiles {
  certfile: string;
  keyfile: string;
}

/**
 * wrapSsl reads and checks the pair at the call, so a missing file or a key that does not match
 * the certificate stops the start, with wrapSsl's message naming the file, before anything is served.
 */
export function secure(listener: Listener, files: TlsFiles): Listener {
  try {
    return wrapSsl(listener, { certfile: files.certfile, keyfile: files.keyfile, serverSide: true });
  } catch (err) {
    throw new StartError(err instanceof Error ? err.message : String(err));
  }
}
