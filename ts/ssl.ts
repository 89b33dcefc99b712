// `wrapSsl()` (SPEC §3): TLS for a listener, terminated in the Rust core with rustls.
import { readFileSync } from 'node:fs';
import { nativeListenerOf, type Listener } from './listen.js';

export interface SslOptions {
  /** Path of the PEM certificate: the server's own first, then any intermediates. */
  certfile?: string;
  /** Path of the PEM private key (PKCS#8, PKCS#1 or SEC1). Without `keyfile` and `key`, the key is read from the certificate input. */
  keyfile?: string;
  /** The certificate (chain) as PEM, instead of `certfile`. */
  cert?: string | Uint8Array;
  /** The private key as PEM, instead of `keyfile`. */
  key?: string | Uint8Array;
  /** Must be true or absent: the listener is the server side of TLS. */
  serverSide?: boolean;
  /** CA certificates that client certificates must be issued by: PEM text or a Uint8Array, or a path. Clients are then asked for a certificate. */
  ca?: string | Uint8Array;
  /** Refuse, at the handshake, clients without a valid certificate (needs `ca`). Default false: a certificate is optional. */
  requestCert?: boolean;
}

const KNOWN_OPTIONS = new Set(['certfile', 'keyfile', 'cert', 'key', 'serverSide', 'ca', 'requestCert']);

/** Python's names, which people porting eventlet code will try first. */
const PYTHON_NAMES: Record<string, string> = { server_side: 'serverSide', ca_certs: 'ca', cert_reqs: 'requestCert' };

/** One PEM input: its bytes and how error messages name it. */
interface Pem {
  bytes: Buffer;
  /** `certfile 'cert.crt'` or `cert`. */
  name: string;
}

/**
 * Makes `listener` serve TLS and returns it, so that `server(wrapSsl(listen(...), {...}), app)`
 * reads as in eventlet. Everything is checked here: a missing or unreadable file, input that is
 * no PEM, an expired certificate or a key that does not match it throws now, naming the file.
 */
export function wrapSsl(listener: Listener, options: SslOptions): Listener {
  const native = nativeListenerOf(listener);
  if (native === undefined) throw new TypeError('wrapSsl: the first argument must be a Listener from listen()');
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`wrapSsl: options must be an object with certfile and keyfile (or cert and key), got ${String(options)}`);
  }
  checkOptionNames(options);
  const { serverSide, requestCert = false } = options;
  if (serverSide !== undefined && serverSide !== true) {
    throw new TypeError(`wrapSsl: serverSide must be true or absent (ferrowsgi is the server side), got ${String(serverSide)}`);
  }
  if (typeof requestCert !== 'boolean') throw new TypeError(`wrapSsl: requestCert must be a boolean, got ${String(requestCert)}`);
  if (requestCert && options.ca === undefined) {
    throw new TypeError('wrapSsl: requestCert needs ca, the CA certificates that issue the client certificates');
  }

  const cert = pemInput(options, 'cert', 'certfile');
  if (cert === undefined) throw new TypeError('wrapSsl: a certificate is required: give certfile (a path) or cert (PEM)');
  const key = pemInput(options, 'key', 'keyfile') ?? cert;
  const ca = caInput(options.ca);

  try {
    native.useTls(cert.bytes, key.bytes, ca?.bytes ?? null, requestCert);
  } catch (err) {
    throw new Error(`wrapSsl: ${nameInput(err, { cert, key, ca })}`);
  }
  return listener;
}

function checkOptionNames(options: object): void {
  const unknown = Object.keys(options).filter((name) => !KNOWN_OPTIONS.has(name));
  if (unknown.length === 0) return;
  const described = unknown.map((name) => {
    const instead = PYTHON_NAMES[name];
    return instead === undefined ? `'${name}'` : `'${name}' (use '${instead}')`;
  });
  throw new TypeError(`wrapSsl: unknown option${unknown.length > 1 ? 's' : ''} ${described.join(', ')}`);
}

/** `cert`/`certfile` or `key`/`keyfile`: at most one of the two. */
function pemInput(options: SslOptions, inline: 'cert' | 'key', file: 'certfile' | 'keyfile'): Pem | undefined {
  const text = options[inline];
  const path = options[file];
  if (text !== undefined && path !== undefined) throw new TypeError(`wrapSsl: give ${file} or ${inline}, not both`);
  if (path !== undefined) {
    if (typeof path !== 'string' || path === '') throw new TypeError(`wrapSsl: ${file} must be a path, got ${String(path)}`);
    return readPem(path, file);
  }
  if (text === undefined) return undefined;
  return { bytes: pemBytes(text, inline), name: inline };
}

/** `ca` is PEM when it looks like PEM, a path otherwise (as a string it could be either). */
function caInput(ca: SslOptions['ca']): Pem | undefined {
  if (ca === undefined) return undefined;
  if (typeof ca === 'string' && !ca.includes('-----BEGIN')) {
    if (ca === '') throw new TypeError('wrapSsl: ca must be PEM text or a path, got an empty string');
    return readPem(ca, 'ca');
  }
  return { bytes: pemBytes(ca, 'ca'), name: 'ca' };
}

function pemBytes(value: unknown, option: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`wrapSsl: ${option} must be a PEM string or a Uint8Array, got ${typeof value}`);
}

/** Reads synchronously, so that the error names the file and comes from `wrapSsl` itself. */
function readPem(path: string, option: string): Pem {
  const name = `${option} '${path}'`;
  try {
    return { bytes: readFileSync(path), name };
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    // Node's message repeats the path after a comma ("..., open 'cert.crt'"): the name says it already.
    const reason = String(message).replace(/, \w+ '.*'$/, '');
    const error = new Error(`wrapSsl: cannot read ${name}: ${reason}`, { cause: err });
    if (code !== undefined) (error as NodeJS.ErrnoException).code = code;
    throw error;
  }
}

/** The core names the input at fault (`cert: …`); say which file or option that was. */
function nameInput(err: unknown, inputs: { cert: Pem; key: Pem; ca: Pem | undefined }): string {
  const message = err instanceof Error ? err.message : String(err);
  const match = /^(cert|key|ca): ([^]*)$/.exec(message);
  if (match === null) return message;
  const input = inputs[match[1] as 'cert' | 'key' | 'ca'];
  const reason = match[2]!;
  if (input === undefined) return reason;
  if (match[1] === 'key' && input === inputs.cert) {
    return `${input.name}: ${reason} (without keyfile or key, the key is looked for beside the certificate)`;
  }
  if (match[1] === 'key' && /does not match/.test(reason)) return `${input.name}: ${reason} (${inputs.cert.name})`;
  return `${input.name}: ${reason}`;
}
