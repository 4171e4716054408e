// A worker thread of the idle-sockets workload: opens its share of authenticated sockets, waits
// for each one's `ready`, holds them until told to close. Plain JavaScript so the thread needs no
// TypeScript loader. Messages to the parent: {ready, opened, problems}, then {closed}.
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const { wsUrl, tokens, localPorts, concurrency, readyTimeoutMs } = workerData;
const sockets = [];
const problems = [];
const note = (text) => {
  if (problems.length < 20) problems.push(text);
};

// Source ports to bind (see source-ports.ts); each is tried once, so retries are bounded.
let nextPort = 0;
const TAKEN = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

function open(token) {
  return new Promise((resolve) => {
    const localPort = nextPort < localPorts.length ? localPorts[nextPort++] : undefined;
    const source = localPort === undefined ? {} : { localAddress: '127.0.0.1', localPort };
    const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false, ...source });
    let ready = false;
    let portTaken = false;
    const timer = setTimeout(() => {
      note('no ready frame in time');
      ws.terminate();
      resolve();
    }, readyTimeoutMs);
    ws.on('message', (data) => {
      const type = JSON.parse(data.toString()).type;
      if (!ready && type === 'ready') {
        ready = true;
        clearTimeout(timer);
        sockets.push(ws);
        resolve();
      } else if (!['pong', 'presence', 'conversation', 'read', 'typing'].includes(type)) {
        // The 1.1 frames about a user's conversations and co-members (as bench-socket.ts's
        // PASSED_OVER): the chat workload's users reconnect here and share conversations.
        note(`idle socket got a ${type} frame`);
      }
    });
    ws.on('error', (error) => {
      // A port some other program holds: try the next one.
      if (localPort !== undefined && TAKEN.has(error.code) && !ready) portTaken = true;
      else note(`socket error: ${error.message}`);
    });
    ws.on('close', (code) => {
      if (!ready) {
        clearTimeout(timer);
        resolve(portTaken ? open(token) : undefined);
      } else if (!closing) {
        note(`socket closed: ${code}`);
      }
    });
  });
}

let closing = false;
let next = 0;
async function lane() {
  while (next < tokens.length) {
    const token = tokens[next];
    next += 1;
    await open(token);
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
parentPort.postMessage({ ready: true, opened: sockets.length, problems });

parentPort.on('message', async (message) => {
  if (message !== 'close') return;
  closing = true;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', resolve);
          ws.terminate();
        }),
    ),
  );
  parentPort.postMessage({ closed: true });
});
