// The answer of the "64 MiB streamed response" scenario: the same 64 KiB chunk 1024 times, which
// the app hands over one at a time. Its total is sent as the Content-Length, as for a download of
// known size: the probe and wrk find the end of the response by it, and no chunked framing is
// added on either side.
export const CHUNK = Buffer.alloc(64 * 1024, 'x');
export const CHUNKS = 1024;
export const TOTAL_BYTES = CHUNK.length * CHUNKS;
