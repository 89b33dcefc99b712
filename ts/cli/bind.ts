// `--bind` addresses, as gunicorn takes them: HOST:PORT, [IPV6]:PORT, HOST, :PORT and unix:PATH.
// Parsing only: --help and --version must work even where the native addon does not load.
import type { ListenerAddressInfo } from '../listen.js';
import { UsageError } from './errors.js';

export type Bind = { host: string; port: number } | { path: string };

/** gunicorn's port when an address names only a host. */
const DEFAULT_PORT = 8000;

function port(text: string | undefined, bind: string): number {
  if (text === undefined) return DEFAULT_PORT;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw new UsageError(`--bind ${bind}: the port must be from 0 to 65535`);
  return value;
}

export function parseBind(text: string): Bind {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw new UsageError('--bind unix: needs a socket path, as in unix:/run/app.sock');
    return { path };
  }
  const v6 = /^\[([0-9A-Fa-f:.%\w]*)\](?::(\d*))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: port(v6[2], text) };
  const v4 = /^([^:[\]]*)(?::(\d*))?$/.exec(text);
  // ':8000' is eventlet's ('', 8000): every interface.
  if (v4 && text !== '') return { host: v4[1]!, port: port(v4[2], text) };
  throw new UsageError(`--bind ${JSON.stringify(text)}: expected HOST:PORT, [IPV6]:PORT, HOST (port 8000), :PORT or unix:PATH`);
}

/** How the listening line shows an address: a URL for TCP, gunicorn's unix:PATH for a socket. */
export function showAddress(address: ListenerAddressInfo, scheme: 'http' | 'https'): string {
  if ('path' in address) return `unix:${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}`;
}
