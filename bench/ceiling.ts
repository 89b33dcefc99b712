// The Rust ceiling (bench/ceiling/): built with cargo, in release, the first time a scenario needs
// it in a run, so that its row always measures the source next to it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MANIFEST = fileURLToPath(new URL('./ceiling/Cargo.toml', import.meta.url));
const BINARY = 'rust-ceiling';

let built: string | undefined;

/** The path of the built executable. Cargo's progress goes to stderr; a failed build throws. */
export function ceilingExecutable(): string {
  if (built !== undefined) return built;
  console.error(`  building ${BINARY} (cargo build --release)`);
  let stdout: string;
  try {
    // The artifact messages on stdout say where the executable is, wherever the target directory.
    stdout = execFileSync('cargo', [
      'build', '--release', '--manifest-path', MANIFEST, '--bin', BINARY, '--message-format=json-render-diagnostics',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'the rust ceiling needs cargo to build it' : `cargo could not build the rust ceiling: ${(err as Error).message}`);
  }
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as { reason?: string; target?: { name?: string }; executable?: string | null };
    if (message.reason === 'compiler-artifact' && message.target?.name === BINARY && message.executable) {
      built = message.executable;
      return built;
    }
  }
  throw new Error(`cargo built no ${BINARY} executable (${MANIFEST})`);
}
