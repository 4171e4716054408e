/**
 * The peer: the deployment teams build instead of this project, express + Socket.IO 4 with the
 * Redis adapter, each process taking posts and holding sockets. A post stores the message with
 * the floor's script (no PUBLISH) and broadcasts it to the conversation's room; the adapter
 * carries it to the other processes over Redis pub/sub. Sockets join their rooms from `?c=a,b`.
 * No authentication, membership, ordering or recovery: what such a deployment usually has.
 */
import { createServer } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { CONVERSATION_ID, STORE_MESSAGE_SCRIPT, storeMessageArgs } from './store-script.js';

const port = Number(process.env.FLOOR_PORT);
const url = process.env.FLOOR_REDIS_URL ?? '';
const redis = new Redis(url, { enableAutoPipelining: true });
const sha = (await redis.script('LOAD', STORE_MESSAGE_SCRIPT)) as string;

const app = express();
app.use(express.json());
const server = createServer(app);
server.keepAliveTimeout = 65_000;
const io = new Server(server, { adapter: createAdapter(new Redis(url), new Redis(url)), transports: ['websocket'], perMessageDeflate: false });

io.on('connection', (socket) => {
  const rooms = String(socket.handshake.query.c ?? '').split(',').filter(Boolean);
  void socket.join(rooms);
});

app.post('/c/:conversation', (req, res) => {
  const conversation = req.params.conversation;
  const text: unknown = (req.body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || !CONVERSATION_ID.test(conversation)) {
    res.status(400).json({ error: { code: 'bad_request' } });
    return;
  }
  const createdAt = new Date().toISOString();
  const { keys, head, tail } = storeMessageArgs(conversation, text, createdAt);
  redis.evalsha(sha, 2, ...keys, head, tail, '').then(
    (seq) => {
      io.to(conversation).emit('message', { conversationId: conversation, seq, text, createdAt });
      res.status(201).json({ conversationId: conversation, seq, createdAt });
    },
    () => res.status(503).json({ error: { code: 'unavailable' } }),
  );
});

server.listen(port, '127.0.0.1', () => process.send?.('listening'));
process.on('SIGTERM', () => process.exit(0));
