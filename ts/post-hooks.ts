// `env['eventlet.posthooks']` (SPEC §11): run once the response is written or the client left.
import type { Environ, PostHook } from './app.js';
import type { Log } from './log.js';

/** The key is read again at the end because the app may replace the list (eventlet does too). */
export function hasPostHooks(env: Environ): boolean {
  const hooks: unknown = env['eventlet.posthooks'];
  return Array.isArray(hooks) && hooks.length > 0;
}

export function runPostHooks(env: Environ, log: Log): void {
  const hooks: unknown = env['eventlet.posthooks'];
  if (!Array.isArray(hooks)) return;
  for (const entry of hooks as PostHook[]) {
    try {
      const [hook, args = [], kwargs] = entry;
      const result: unknown = kwargs === undefined ? hook(env, ...args) : hook(env, ...args, kwargs);
      if (result instanceof Promise) result.catch((err: unknown) => logHookError(log, err));
    } catch (err) {
      // One failing hook must not keep the others from running (SPEC §12).
      logHookError(log, err);
    }
  }
}

function logHookError(log: Log, err: unknown): void {
  log.line(`post hook failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
