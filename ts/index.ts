// ferrowsgi: an event-driven WSGI-style HTTP/1.1 server for Node.js on a Rust core.
export { listen, type Listener, type ListenOptions } from './listen.js';
export { server, type Server } from './server.js';
export { wrapSsl, type SslOptions } from './ssl.js';
export type { ServerOptions } from './options.js';
export type { App, Body, Environ, PostHook, StartResponse, WriteCallable } from './app.js';
export type { Input } from './input.js';
// The types of every argument and result above, for code that passes them around.
export type { CloseOptions } from './server.js';
export type { ListenAddress, ListenerAddressInfo } from './listen.js';
export type { LogTarget } from './options.js';
export type { Chunk, HeaderValue } from './app.js';
