/**
 * The floor's gateway: bare ws and one pub/sub subscription per conversation. A socket names its
 * conversations when it connects (`/?c=a,b`); each published frame is written to every local
 * socket of that conversation. No token, resume, ordering or membership check.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { Redis } from 'ioredis';
import { CHANNEL_PREFIX } from './store-script.js';

const port = Number(process.env.FLOOR_PORT);
const subscriber = new Redis(process.env.FLOOR_REDIS_URL ?? '');
const socketsOf = new Map<string, Set<WebSocket>>();

subscriber.on('messageBuffer', (channel: Buffer, frame: Buffer) => {
  const sockets = socketsOf.get(channel.toString('latin1').slice(CHANNEL_PREFIX.length));
  if (!sockets) return;
  for (const socket of sockets) socket.send(frame, { binary: false });
});

const server = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
server.on('connection', (socket, req) => {
  const conversations = new URL(req.url ?? '/', 'http://floor').searchParams.get('c')?.split(',') ?? [];
  for (const conversation of conversations) {
    let sockets = socketsOf.get(conversation);
    if (!sockets) {
      sockets = new Set();
      socketsOf.set(conversation, sockets);
      void subscriber.subscribe(`${CHANNEL_PREFIX}${conversation}`);
    }
    sockets.add(socket);
  }
  socket.on('close', () => {
    for (const conversation of conversations) socketsOf.get(conversation)?.delete(socket);
  });
  socket.send('{"type":"ready"}');
});
server.on('listening', () => process.send?.('listening'));
process.on('SIGTERM', () => process.exit(0));
