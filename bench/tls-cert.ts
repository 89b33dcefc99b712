// A self-signed certificate for the HTTPS scenario, made with the openssl CLI for one run and
// removed after it: no key is kept in the repository.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayCertificate {
  certfile: string;
  keyfile: string;
  remove(): void;
}

/** ECDSA P-256, for localhost and 127.0.0.1: what a current deployment would use. */
export function throwawayCertificate(): ThrowawayCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-bench-'));
  const certfile = join(dir, 'cert.pem');
  const keyfile = join(dir, 'key.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyfile, '-out', certfile,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'the HTTPS scenario needs the openssl CLI to make its certificate' : `openssl could not make a certificate: ${String(err)}`);
  }
  return { certfile, keyfile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
