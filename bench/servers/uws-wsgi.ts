// A WSGI app on uWebSockets.js: uWS.js's I/O on the JS thread, with the environ built by
// ferrowsgi's own buildEnviron. It is not a server anyone should run (no input, no validation,
// fixed addresses); its rows show what a WSGI server that does its socket I/O on the JS thread
// reaches, next to ferrowsgi, which does it on a tokio thread. uWS.js hands a request's headers
// to JS one call and two strings each, so with many headers the row also measures that crossing,
// which ferrowsgi's core avoids by sending them as one latin-1 text (BRIDGE.md).
import { Writable } from 'node:stream';
import type { App, Chunk, HeaderValue } from 'ferrowsgi';
import { buildEnviron, splitRequestText } from '../../dist/environ.js';
import type { Input } from '../../dist/input.js';
import { serveEachWithUws } from './uws-native.js';

const HTTP11 = 1;
const noInput = {} as Input;
const noErrors = new Writable({ write: (_chunk, _encoding, done) => done() });

export function serveWsgiWithUws(app: App): void {
  serveEachWithUws((res, req) => {
    const query = req.getQuery();
    const target = query === undefined || query === '' ? req.getUrl() : `${req.getUrl()}?${query}`;
    // The REQUEST text ferrowsgi's core hands to JS (BRIDGE.md): seven fields, then the headers.
    let text = `${req.getMethod().toUpperCase()}\0${target}\x00127.0.0.1\x0040000\x00127.0.0.1\x008080\0`;
    req.forEach((name, value) => {
      text += `\0${name}\0${value}`;
    });
    const env = buildEnviron(splitRequestText(text), HTTP11, noInput, noErrors, []);
    let status = '';
    let headers: ReadonlyArray<readonly [string, HeaderValue]> = [];
    // The scenarios' apps answer at once with an array.
    const body = app(env, (statusLine, headerList) => {
      status = statusLine;
      headers = headerList;
      return () => {};
    }) as Chunk[];
    res.cork(() => {
      res.writeStatus(status);
      for (const [name, value] of headers) res.writeHeader(name, String(value));
      res.end(body.length === 1 ? body[0] : Buffer.concat(body.map((part) => Buffer.from(part))));
    });
  });
}
