// The handshake between a benchmarked server and bench/server-process.ts: the server listens
// on loopback, on $PORT (0, a free port, when the harness starts it), and prints where.
export const HOST = '127.0.0.1';

export function portFromEnv(): number {
  return Number(process.env.PORT ?? 0);
}

export function announce(port: number): void {
  console.log(`listening on http://${HOST}:${port}`);
}
