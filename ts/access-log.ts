// Access lines in eventlet's Python %-format (SPEC §10), compiled once per server.

/** What one finished request contributes to its access line. */
export interface AccessRecord {
  remoteAddr: string;
  remotePort: string;
  /** The first X-Forwarded-For value, or '' when there is none. */
  forwardedFor: string;
  requestLine: string;
  statusCode: number;
  bodyLength: number;
  wallSeconds: number;
  headers: ReadonlyArray<readonly [string, unknown]>;
}

const KEYS = [
  'client_ip', 'client_port', 'date_time', 'request_line', 'status_code', 'body_length', 'wall_seconds', 'headers',
] as const;
type Key = (typeof KEYS)[number];

/** A literal, or a key with its conversion: 's', 'd', or a precision for 'f'. */
type Part = string | { key: Key; conversion: 's' | 'd' | number };

const PLACEHOLDER = /%(?:%|\(([^)]*)\)(s|d|\.(\d+)f|f))/g;

function compile(format: string): Part[] {
  // Python raises on a stray % at every request; better to say so once, when the server starts.
  const stray = format.replace(PLACEHOLDER, (match) => ' '.repeat(match.length)).indexOf('%');
  if (stray >= 0) {
    const placeholder = /^%(?:\([^)]*\)?)?[-+ #0-9.]*[A-Za-z]?/.exec(format.slice(stray))![0];
    throw new TypeError(
      `server: logFormat has an unsupported placeholder ${JSON.stringify(placeholder)} ` +
        `(use %(key)s, %(key)d, %(key)f, %(key).Nf or %%) in ${JSON.stringify(format)}`,
    );
  }
  const parts: Part[] = [];
  let last = 0;
  for (const match of format.matchAll(PLACEHOLDER)) {
    const at = match.index!;
    const literal = format.slice(last, at);
    last = at + match[0].length;
    if (match[0] === '%%') {
      parts.push(literal + '%');
      continue;
    }
    if (literal !== '') parts.push(literal);
    const key = match[1] as Key;
    if (!KEYS.includes(key)) {
      throw new TypeError(`server: logFormat uses the unknown key '${key}' (known: ${KEYS.join(', ')})`);
    }
    const conversion = match[2] === 's' || match[2] === 'd' ? match[2] : match[3] === undefined ? 6 : Number(match[3]);
    parts.push({ key, conversion });
  }
  const rest = format.slice(last);
  if (rest !== '') parts.push(rest);
  return parts;
}

export class AccessLog {
  readonly #parts: Part[];
  readonly #logForwardedFor: boolean;

  constructor(format: string, logForwardedFor: boolean) {
    this.#parts = compile(format);
    this.#logForwardedFor = logForwardedFor;
  }

  format(record: AccessRecord): string {
    let line = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        line += part;
        continue;
      }
      const value = this.#value(part.key, record);
      if (part.conversion === 's') line += String(value);
      else if (part.conversion === 'd') line += String(Math.trunc(Number(value)));
      else line += Number(value).toFixed(part.conversion);
    }
    return line;
  }

  #value(key: Key, record: AccessRecord): unknown {
    switch (key) {
      case 'client_ip':
        return this.#logForwardedFor && record.forwardedFor !== ''
          ? `${record.forwardedFor.replace(/ /g, '')},${record.remoteAddr}`
          : record.remoteAddr;
      case 'client_port':
        return record.remotePort;
      case 'date_time':
        return localDateTime();
      case 'request_line':
        return record.requestLine;
      case 'status_code':
        return record.statusCode;
      case 'body_length':
        return record.bodyLength;
      case 'wall_seconds':
        return record.wallSeconds;
      case 'headers':
        return JSON.stringify(record.headers);
    }
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let cachedSecond = -1;
let cachedDateTime = '';

/** `24/Nov/2026 14:05:09`, local time (Python's `log_date_time_string`), rebuilt once a second. */
function localDateTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    const d = new Date(now);
    const two = (n: number) => (n < 10 ? '0' : '') + n;
    cachedDateTime = `${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    cachedSecond = second;
  }
  return cachedDateTime;
}
