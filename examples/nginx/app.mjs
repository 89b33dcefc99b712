// The app behind examples/nginx/nginx.conf: answers with what it learns about the request, so
// that you can see which process served it and what nginx passed on.
// Run: npx ferrowsgi app.mjs --bind 127.0.0.1:8001

/** @type {import('ferrowsgi').App} */
export function app(env, startResponse) {
  const body = JSON.stringify({
    servedBy: env.SERVER_PORT,
    path: env.PATH_INFO,
    host: env.HTTP_HOST,
    // The peer is nginx; the client is the last address nginx appended to X-Forwarded-For.
    remoteAddr: env.REMOTE_ADDR,
    // The same port request after request: nginx keeps its connections to ferrowsgi open.
    remotePort: env.REMOTE_PORT,
    forwardedFor: env.HTTP_X_FORWARDED_FOR ?? null,
    forwardedProto: env.HTTP_X_FORWARDED_PROTO ?? null,
    realIp: env.HTTP_X_REAL_IP ?? null,
  });
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [body + '\n'];
}
