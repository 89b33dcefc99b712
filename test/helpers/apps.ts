// Small applications shared by the tests.
import type { Environ, StartResponse } from '../../ts/index.js';

/** The request body object of a request (`wsgi.input`). */
export function inputOf(env: Environ) {
  return env['wsgi.input'];
}

/** Reads an environ key without relying on how the Environ type declares it. */
export function envGet(env: Environ, key: string): unknown {
  return (env as unknown as Record<string, unknown>)[key];
}

/** Sets an environ key without relying on how the Environ type declares it. */
export function envSet(env: Environ, key: string, value: unknown): void {
  (env as unknown as Record<string, unknown>)[key] = value;
}

/** A JSON-able picture of an environ: scalars and arrays as they are, other objects as markers. */
export function describeEnv(env: Environ): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const raw = env as unknown as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    const v = raw[key];
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[key] = v;
    else if (Array.isArray(v)) out[key] = v;
    else if (typeof v === 'function') out[key] = '[function]';
    else if (v === undefined) out[key] = '[undefined]';
    else out[key] = '[object]';
  }
  return out;
}

/** Answers every request with a JSON picture of its environ. */
export function envApp(env: Environ, startResponse: StartResponse) {
  const body = JSON.stringify(describeEnv(env));
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [body];
}

/** `hello world`, as eventlet's tests' hello_world app. */
export function helloApp(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello world'];
}

/** Echoes the path: body is PATH_INFO. */
export function pathApp(env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [String(envGet(env, 'PATH_INFO'))];
}

/** Reads the whole body and echoes it with a Content-Length. */
export async function echoApp(env: Environ, startResponse: StartResponse) {
  const body = await inputOf(env).read();
  startResponse('200 OK', [
    ['Content-Length', String(body.length)],
    ['X-Path', String(envGet(env, 'PATH_INFO'))],
  ]);
  return [body];
}
