import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConversation, postMessage, registerUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { connectClient } from '../support/ws-client.js';

/** Polls `check` every 20 ms until it holds; gives up after 10 s (the assertions below then say what is missing). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** chat_gateway_replayed_messages_total in a gateway's /metrics text (0 when absent). */
function replayedCount(metrics: string): number {
  return Number(/^chat_gateway_replayed_messages_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

/** After a short run, every series operators rely on is exposed by the service that owns it. */
describe('operator metrics after a short run', () => {
  let stack: Stack;
  const text: Record<string, string> = {};
  let replayedBefore = 0;

  before(async () => {
    stack = await startStack({ gateways: 1 });
    const [alice, bob] = [await registerUser(stack.apiUrl), await registerUser(stack.apiUrl)];
    const socket = await connectClient(stack.wsUrls[0] as string, bob.token);
    const conversation = await createConversation(stack.apiUrl, alice.token, [bob.username]);
    for (let i = 0; i < 5; i += 1) await postMessage(stack.apiUrl, alice.token, conversation.id, `m${i}`);
    await socket.waitForMessages(5);
    await socket.close();
    // The first socket may have had some of its messages from the store too: a message published
    // before its replica followed the new conversation is caught up from there (and counted).
    replayedBefore = replayedCount(await (await fetch(`${stack.gatewayUrls[0] as string}/metrics`)).text());
    // A new socket resuming from 3 is replayed 4 and 5 from the store.
    const again = await connectClient(stack.wsUrls[0] as string, bob.token);
    again.send({ type: 'resume', cursors: { [conversation.id]: 3 } });
    await again.nextFrame('resumed');
    await again.waitForMessages(2);
    await again.close();
    // A drain job counts its messages when it ends, after its linger: possibly after the frames arrived.
    await waitFor(async () => /^chat_delivery_messages_per_job_sum\{[^}]*\} 5$/m.test(await (await fetch(`${stack.workerUrl}/metrics`)).text()));
    for (const [name, url] of [['api', stack.apiUrl], ['worker', stack.workerUrl], ['gateway', stack.gatewayUrls[0] as string]] as const) {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      text[name] = await response.text();
    }
  });
  after(async () => {
    await stack?.stop();
  });

  const expectations: [string, RegExp][] = [
    ['api', /^http_request_duration_seconds_bucket\{[^}]*route="\/api\/conversations\/:id\/messages"[^}]*status="201"/m],
    ['api', /^chat_messages_accepted_total\{[^}]*\} 5$/m],
    ['api', /^# TYPE chat_redis_reconnects_total counter$/m],
    // One drain job carries every message its partition accepted until it ran: 1 to 5 jobs, 5 messages.
    ['worker', /^chat_delivery_jobs_total\{[^}]*outcome="completed"[^}]*\} [1-5]$/m],
    ['worker', /^chat_delivery_job_duration_seconds_count\{[^}]*\} [1-5]$/m],
    ['worker', /^chat_delivery_messages_per_job_sum\{[^}]*\} 5$/m],
    ['worker', /^chat_delivery_queue_jobs\{[^}]*state="waiting"[^}]*\} \d+$/m],
    ['worker', /^chat_delivery_queue_jobs\{[^}]*state="active"[^}]*\} \d+$/m],
    ['worker', /^chat_delivery_queue_jobs\{[^}]*state="failed"[^}]*\} \d+$/m],
    ['gateway', /^chat_gateway_open_sockets\{[^}]*\} \d+$/m],
    ['gateway', /^chat_gateway_frames_sent_total\{[^}]*\} [1-9]/m],
    ['gateway', /^chat_delivery_latency_seconds_count\{[^}]*\} [1-9]/m],
    ['gateway', /^chat_gateway_resume_requests_total\{[^}]*\} 1$/m],
    ['gateway', /^chat_gateway_closes_total\{[^}]*code="1000"[^}]*\} 2$/m],
    ['gateway', /^# TYPE chat_redis_reconnects_total counter$/m],
  ];

  it('exposes every named series, labelled with the process identity', () => {
    for (const [service, pattern] of expectations) assert.match(text[service] ?? '', pattern, `${service}: ${pattern}`);
    assert.equal(replayedCount(text.gateway ?? ''), replayedBefore + 2, 'the resume replayed 4 and 5');
    for (const service of ['api', 'worker', 'gateway']) {
      assert.match(text[service] ?? '', new RegExp(`^process_resident_memory_bytes\\{service="${service}",instance="[^"]+"\\} \\d+`, 'm'));
    }
  });
});
