// The handshake between a benchmarked server and bench/server-process.ts: the server listens
// on loopback, on $PORT (0, a free port, when the harness starts it), and prints where.
export const HOST = '127.0.0.1';

export function portFromEnv(): number {
  return Number(process.env.PORT ?? 0);
}

export function announce(port: number, scheme: 'http' | 'https' = 'http'): void {
  console.log(`listening on ${scheme}://${HOST}:${port}`);
}

/** The certificate and key of the HTTPS scenario, which the harness makes for each run. */
export function tlsFilesFromEnv(): { certfile: string; keyfile: string } {
  const { CERTFILE: certfile, KEYFILE: keyfile } = process.env;
  if (!certfile || !keyfile) throw new Error('CERTFILE and KEYFILE must name the certificate and key (bench/run.ts sets them)');
  return { certfile, keyfile };
}
