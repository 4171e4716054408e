/**
 * A stand-in service for the supervision tests (write it to a .mjs file and start it): configured by
 * env, answers /healthz, exits 0 on SIGTERM like the real ones; DIE_AFTER_MS makes it die (exit 1)
 * that long after its first answer (so it always passes its start-up health check first).
 */
export const TINY_SERVICE = `
import { createServer } from 'node:http';
if (process.env.FAIL_AT_START) {
  console.error('cannot start: ' + process.env.FAIL_AT_START);
  process.exit(3);
}
let dying = false;
const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404);
  res.end();
  if (process.env.DIE_AFTER_MS && !dying) {
    dying = true;
    setTimeout(() => process.exit(1), Number(process.env.DIE_AFTER_MS));
  }
});
if (process.env.NEVER_LISTEN) {
  setInterval(() => {}, 1000);
} else {
  server.listen(Number(process.env.PORT), '127.0.0.1', () => {
    console.log(JSON.stringify({
      greeting: process.env.GREETING,
      hasPath: Boolean(process.env.PATH),
      leaked: process.env.DEVSTACK_TEST_LEAK ?? null,
    }));
  });
}
process.on('SIGTERM', () => {
  if (process.env.IGNORE_SIGTERM) {
    console.log('ignoring SIGTERM');
    return;
  }
  console.log('tiny stopping');
  server.close(() => process.exit(0));
});
`;
