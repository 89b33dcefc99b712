// Builds the environ from a REQUEST event (SPEC §6), in eventlet's key order and rules.
import type { Writable } from 'node:stream';
import type { Environ } from './app.js';
import type { Input } from './input.js';
import { RequestFlag } from './native/binding.js';

/** REQUEST text fields (BRIDGE.md): these seven, then header name/value pairs. */
export const Field = {
  Method: 0,
  Target: 1,
  RemoteAddr: 2,
  RemotePort: 3,
  LocalAddr: 4,
  LocalPort: 5,
  /** The subject of a verified TLS client certificate (UTF-8 in the latin-1 text), or ''. */
  ClientSubject: 6,
  FirstHeader: 7,
} as const;

/** The NUL-separated REQUEST text as fields; an indexOf loop is faster than `split('\0')` here. */
export function splitRequestText(text: string): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    const nul = text.indexOf('\0', at);
    if (nul < 0) {
      fields.push(text.slice(at));
      return fields;
    }
    fields.push(text.slice(at, nul));
    at = nul + 1;
  }
}

const WSGI_VERSION = Object.freeze([1, 0] as const);

// Keys set for every request: the `environ` option cannot override them (eventlet sets them last).
const PER_REQUEST_KEYS = new Set([
  'REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'RAW_PATH_INFO', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH',
  'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR', 'REMOTE_PORT', 'GATEWAY_INTERFACE',
  'headers_raw', 'wsgi.input', 'eventlet.input', 'eventlet.posthooks',
  // Who the client is comes from its certificate only, never from configuration.
  'SSL_CLIENT_S_DN',
]);

/** The `environ` option's entries that apply to every request, computed once per server. */
export function environDefaults(option: Record<string, unknown> | undefined): Array<[string, unknown]> {
  if (option === undefined) return [];
  return Object.entries(option).filter(([key]) => !PER_REQUEST_KEYS.has(key));
}

// Header name → environ key; '' for names that get none (`_` in the name, as eventlet), and
// CONTENT_TYPE / CONTENT_LENGTH for those two. Bounded like every cache fed by clients.
const CGI_CACHE_LIMIT = 2048;
const cgiNames = new Map<string, string>();

function cgiName(name: string): string {
  let cgi = cgiNames.get(name);
  if (cgi !== undefined) return cgi;
  if (name.includes('_')) cgi = '';
  else {
    const upper = name.toUpperCase().replace(/-/g, '_');
    cgi = upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : 'HTTP_' + upper;
  }
  if (cgiNames.size < CGI_CACHE_LIMIT) cgiNames.set(name, cgi);
  return cgi;
}

const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;

/** Python's `unquote(path, encoding='latin1')`: `%XX` → U+00XX, malformed escapes kept. */
function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(PERCENT_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function buildEnviron(
  fields: string[],
  flags: number,
  input: Input,
  errors: Writable,
  defaults: Array<[string, unknown]>,
): Environ {
  const target = fields[Field.Target]!;
  const query = target.indexOf('?');
  const rawPath = query < 0 ? target : target.slice(0, query);
  const headersRaw: Array<[string, string]> = [];
  const env: Environ = {
    REQUEST_METHOD: fields[Field.Method]!,
    SCRIPT_NAME: '',
    PATH_INFO: decodePath(rawPath),
    RAW_PATH_INFO: rawPath,
    QUERY_STRING: query < 0 ? '' : target.slice(query + 1),
    CONTENT_TYPE: 'text/plain',
    SERVER_NAME: fields[Field.LocalAddr]!,
    SERVER_PORT: fields[Field.LocalPort]!,
    SERVER_PROTOCOL: flags & RequestFlag.Http11 ? 'HTTP/1.1' : 'HTTP/1.0',
    REMOTE_ADDR: fields[Field.RemoteAddr]!,
    REMOTE_PORT: fields[Field.RemotePort]!,
    GATEWAY_INTERFACE: 'CGI/1.1',
    headers_raw: headersRaw,
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': flags & RequestFlag.Tls ? 'https' : 'http',
    'wsgi.input': input,
    'wsgi.errors': errors,
    'wsgi.multithread': true,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
    'wsgi.input_terminated': true,
    'eventlet.input': input,
    'eventlet.posthooks': [],
  };
  if (flags & RequestFlag.Tls) {
    env.HTTPS = 'on';
    const subject = fields[Field.ClientSubject]!;
    // Apache's and nginx's name for it; the core sends it as UTF-8 bytes.
    if (subject !== '') env.SSL_CLIENT_S_DN = Buffer.from(subject, 'latin1').toString('utf8');
  }
  for (let i = 0; i < defaults.length; i++) env[defaults[i]![0]] = defaults[i]![1];

  let sawContentType = false;
  for (let i: number = Field.FirstHeader; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    headersRaw.push([name, value]);
    const key = cgiName(name);
    if (key === '') continue;
    if (key === 'CONTENT_TYPE') {
      // The first one counts, as with eventlet.
      if (!sawContentType) env.CONTENT_TYPE = value;
      sawContentType = true;
    } else if (key === 'CONTENT_LENGTH') {
      // The core has checked that every element is the same decimal, so the list form `3, 3`
      // (RFC 9110 §8.6) reaches the app as the one number.
      const comma = value.indexOf(',');
      if (env.CONTENT_LENGTH === undefined && value !== '') env.CONTENT_LENGTH = comma < 0 ? value : value.slice(0, comma).trim();
    } else {
      const previous = env[key];
      env[key] = previous === undefined ? value : previous + ',' + value;
    }
  }
  return env;
}
