/**
 * The floor's api: bare node:http and one Redis script per message. It does only what any durable
 * chat path must: read a JSON body, store the message under the conversation's next seq, publish
 * it once on the conversation's channel, answer 201. No framework, authentication, membership,
 * rate limit, outbox or queue: see main.ts.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { CHANNEL_PREFIX, CONVERSATION_PATH, STORE_MESSAGE_SCRIPT, storeMessageArgs } from './store-script.js';

const port = Number(process.env.FLOOR_PORT);
const redis = new Redis(process.env.FLOOR_REDIS_URL ?? '', { enableAutoPipelining: true });
const sha = (await redis.script('LOAD', STORE_MESSAGE_SCRIPT)) as string;

function fail(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":{"code":"bad_request"}}');
}

const server = createServer((req, res) => {
  const conversation = CONVERSATION_PATH.exec(req.url ?? '')?.[1];
  if (req.method !== 'POST' || conversation === undefined) return fail(res, 404);
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return fail(res, 400);
    }
    if (typeof body !== 'object' || body === null || !('text' in body) || typeof body.text !== 'string') return fail(res, 400);
    const createdAt = new Date().toISOString();
    const { keys, head, tail } = storeMessageArgs(conversation, body.text, createdAt);
    redis.evalsha(sha, 2, ...keys, head, tail, `${CHANNEL_PREFIX}${conversation}`).then(
      (seq) => {
        res.writeHead(201, { 'content-type': 'application/json' }).end(`{"conversationId":"${conversation}","seq":${String(seq)},"createdAt":"${createdAt}"}`);
      },
      () => fail(res, 503),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.send?.('listening'));
process.on('SIGTERM', () => process.exit(0));
