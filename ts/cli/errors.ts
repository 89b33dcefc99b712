// The two ways the CLI gives up before serving, each reported as one line on stderr.

/** A mistake in what was asked for (an option, the module path, the export): exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A right command line that could not start (an address in use, a bad certificate): exit status 1. */
export class StartError extends Error {
  override name = 'StartError';
}
