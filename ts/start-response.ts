// Checks what an app passes to `startResponse` (SPEC §5) and prepares its headers for the head,
// so that nothing invalid can reach the wire and the head is composed without a second pass.
import type { HeaderValue } from './app.js';

/** A validated status and header list, with what the server needs to know about them. */
export interface ResponseStart {
  status: string;
  statusCode: number;
  headers: ReadonlyArray<readonly [string, HeaderValue]>;
  /** `Name: value\r\n` for every header the app gave, names as sent. */
  block: string;
  /** The app's Content-Length, or -1. */
  contentLength: number;
  hasDate: boolean;
  hasConnection: boolean;
  /** The app's Connection header lists `close`. */
  connectionClose: boolean;
}

const STATUS = /^[0-9]{3} [^\0-\x08\x0a-\x1f\x7f\u0100-\uffff]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: HTAB, SP, visible ASCII and obs-text (RFC 9110 §5.5); never CR, LF or NUL. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^[0-9]{1,15}$/;

const enum Kind {
  Other,
  ContentLength,
  Date,
  Connection,
  TransferEncoding,
}

interface HeaderName {
  capitalized: string;
  kind: Kind;
}

// App header names repeat from request to request; the cache stops growing at a bound so that
// apps sending made-up names cannot make it grow without end.
const NAME_CACHE_LIMIT = 1024;
const names = new Map<string, HeaderName>();

function headerName(name: string): HeaderName {
  let known = names.get(name);
  if (known !== undefined) return known;
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError(`startResponse: invalid header name ${JSON.stringify(name)}`);
  }
  const lower = name.toLowerCase();
  known = {
    capitalized: capitalize(name),
    kind: lower === 'content-length' ? Kind.ContentLength
      : lower === 'date' ? Kind.Date
      : lower === 'connection' ? Kind.Connection
      : lower === 'transfer-encoding' ? Kind.TransferEncoding
      : Kind.Other,
  };
  if (names.size < NAME_CACHE_LIMIT) names.set(name, known);
  return known;
}

/**
 * eventlet's capitalization (Python's `bytes.capitalize` per `-`-separated part): the first
 * character upper-cased, the rest lower-cased, ASCII letters only (`sOMe-WEirD` → `Some-Weird`,
 * `ETag` → `Etag`).
 */
export function capitalize(name: string): string {
  let out = '';
  let partStart = true;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (partStart && code >= 97 && code <= 122) out += String.fromCharCode(code - 32);
    else if (!partStart && code >= 65 && code <= 90) out += String.fromCharCode(code + 32);
    else out += name[i];
    partStart = code === 45;
  }
  return out;
}

export function prepareResponseStart(
  status: unknown,
  headers: unknown,
  capitalizeNames: boolean,
): ResponseStart {
  if (typeof status !== 'string' || !STATUS.test(status)) {
    throw new TypeError(`startResponse: status must be three digits, a space and a reason, got ${JSON.stringify(status)}`);
  }
  if (!Array.isArray(headers)) throw new TypeError('startResponse: headers must be an array of [name, value] pairs');
  let block = '';
  let contentLength = -1;
  let hasDate = false;
  let hasConnection = false;
  let connectionClose = false;
  for (let i = 0; i < headers.length; i++) {
    const header: unknown = headers[i];
    if (!Array.isArray(header) || header.length !== 2) {
      throw new TypeError(`startResponse: header ${i} is not a [name, value] pair`);
    }
    const name = headerName(header[0]);
    const raw: unknown = header[1];
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;
    if (value === undefined || INVALID_VALUE.test(value)) {
      throw new TypeError(`startResponse: invalid value for header ${header[0]}: ${JSON.stringify(raw)}`);
    }
    switch (name.kind) {
      case Kind.ContentLength: {
        if (!DIGITS.test(value)) throw new TypeError(`startResponse: invalid Content-Length ${JSON.stringify(value)}`);
        const length = Number(value);
        if (contentLength >= 0 && contentLength !== length) {
          throw new TypeError('startResponse: two different Content-Length headers');
        }
        contentLength = length;
        break;
      }
      case Kind.Date:
        hasDate = true;
        break;
      case Kind.Connection:
        hasConnection = true;
        if (/(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value)) connectionClose = true;
        break;
      case Kind.TransferEncoding:
        // Framing is the server's job (SPEC §8): it chooses chunked itself and never sends two codings.
        continue;
    }
    block += (capitalizeNames ? name.capitalized : header[0]) + ': ' + value + '\r\n';
  }
  return {
    status,
    statusCode: (status.charCodeAt(0) - 48) * 100 + (status.charCodeAt(1) - 48) * 10 + status.charCodeAt(2) - 48,
    headers: headers as ReadonlyArray<readonly [string, HeaderValue]>,
    block,
    contentLength,
    hasDate,
    hasConnection,
    connectionClose,
  };
}
