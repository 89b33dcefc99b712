// Where a server's I/O runs (crates/node/src/runtime.rs): on the JS thread that started it, by
// default on Linux, or on FERROWSGI_IO_THREADS threads of the addon's own. The vitest project
// `io-thread` runs this file with FERROWSGI_IO_THREADS=1.
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { cleanup, serve } from './helpers/serve.js';

afterEach(cleanup);

const linux = process.platform === 'linux';
const asked = Number(process.env.FERROWSGI_IO_THREADS ?? 0);
/** Whether servers run their I/O on their JS thread: the default, where it can be done. */
const inline = linux && asked === 0;
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** The threads of this process that tokio's multi-thread runtime started. */
function ioThreads(): number {
  return readdirSync('/proc/self/task').filter((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'ferrowsgi-io';
    } catch {
      return false; // the thread ended meanwhile
    }
  }).length;
}

const hello = (_env: unknown, startResponse: (status: string, headers: Array<[string, string]>) => void) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello'];
};

it.runIf(linux)(`the I/O runs on ${asked > 0 ? `${asked} thread(s) of its own` : 'the JS thread: there is no I/O thread'}`, async () => {
  const { port } = await serve(hello);
  const response = await fetch(`http://127.0.0.1:${port}/`);
  expect(await response.text()).toBe('hello');
  expect(ioThreads()).toBe(asked);
});

/** Starts a server in a worker thread and returns the worker and the server's port. */
async function serverInWorker(): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(
    `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(dist)}).then(async ({ listen, server }) => {
      const srv = server(listen(['127.0.0.1', 0]), (env, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['from a worker'];
      }, { logOutput: false });
      await srv.listening;
      parentPort.postMessage(srv.address.port);
    });
    `,
    { eval: true },
  );
  const [port] = (await once(worker, 'message')) as [number];
  return { worker, port };
}

/** Whether a connection to `port` is refused. */
async function refused(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  } finally {
    socket.destroy();
  }
}

it('servers in worker threads serve beside one on the main thread, and a worker can end with its server open', async () => {
  const main = await serve(hello);
  const first = await serverInWorker();
  const second = await serverInWorker();
  for (const port of [first.port, second.port]) {
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    expect(await response.text()).toBe('from a worker');
  }

  await first.worker.terminate();
  // The others serve on, and with inline I/O the worker's server went with its thread.
  if (inline) expect(await refused(first.port)).toBe(true);
  const fromSecond = await fetch(`http://127.0.0.1:${second.port}/`, { headers: { connection: 'close' } });
  expect(await fromSecond.text()).toBe('from a worker');
  const fromMain = await fetch(`http://127.0.0.1:${main.port}/`, { headers: { connection: 'close' } });
  expect(await fromMain.text()).toBe('hello');
  await second.worker.terminate();
});
