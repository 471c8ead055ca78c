// A streamed upload refused before its body is read (over the quota, too large): the answer goes out
// and the connection closes without losing it. Closing a socket that still holds unread bytes makes
// the kernel send a reset, which throws away whatever of the answer is still on its way; Caddy in
// front then reports a 502 instead of the 507 (seen on a real cell: issue 12, test/e2e/files-ui).
// So, like Go's and nginx's lingering close: the answer says `Connection: close`, the write side is
// shut once it is sent (FIN), what the client still sends is read and dropped for at most `lingerMs`,
// and then the socket goes, whatever the client does (a client that keeps sending cannot hold it).
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const LINGER_MS = 2000;

export function closeAfterRefusedBody(req: FastifyRequest, reply: FastifyReply, lingerMs = LINGER_MS): void {
  reply.header('connection', 'close');
  const socket: Socket = req.raw.socket;
  let lingering = false;
  const linger = () => {
    if (lingering || socket.destroyed) return;
    lingering = true;
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    // The rest of the body is read and dropped (no 'data' listener is left on it).
    req.raw.removeAllListeners('data');
    req.raw.resume();
  };
  // Node ends a `Connection: close` exchange with socket.destroySoon(), which destroys the socket as
  // soon as the answer is written, unread bytes and all: that is the reset. Linger instead.
  socket.destroySoon = linger;
  reply.raw.once('finish', linger);
}
