/**
 * The floor's api: bare node:http and one Redis script per message. It does only what any durable
 * chat path must: read a JSON body, store the message under the conversation's next seq, publish
 * it once on the conversation's channel, answer 201. No framework, authentication, membership,
 * rate limit, outbox or queue: see main.ts.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const STORE_AND_PUBLISH = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local frame = ARGV[1] .. seq .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, frame)
redis.call('PUBLISH', ARGV[3], frame)
return seq`;

const port = Number(process.env.FLOOR_PORT);
const redis = new Redis(process.env.FLOOR_REDIS_URL ?? '', { enableAutoPipelining: true });
const script = { sha: await redis.script('LOAD', STORE_AND_PUBLISH) as string };

function fail(res: import('node:http').ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":{"code":"bad_request"}}');
}

const server = createServer((req, res) => {
  const match = /^\/c\/([\w-]{1,64})$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) return fail(res, 404);
  const conversation = match[1] as string;
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
    const head = `{"type":"message","conversationId":"${conversation}","seq":`;
    const tail = `,"text":${JSON.stringify(body.text)},"createdAt":"${createdAt}"}`;
    redis.evalsha(script.sha, 2, `floor:c:${conversation}`, `floor:c:${conversation}:m`, head, tail, `floor:ch:${conversation}`).then(
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
