import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { UnavailableError } from '@chat/contracts';
import { createLogger, createProcessIdentity } from '@chat/logger';
import { createMetricsRegistry, type Registry } from '@chat/metrics';
import { createIntakeGuard, type IntakeGuard } from '../../services/api/src/delivery/intake-guard.js';
import { createMessageShedding } from '../../services/api/src/delivery/message-shedding.js';

/** Blocks this thread, and so its event loop, for `ms`: a long task, or a process given no CPU. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether admit() refused, and with what Retry-After. */
function verdict(guard: IntakeGuard): 'admitted' | number {
  try {
    guard.admit();
    return 'admitted';
  } catch (error) {
    assert.ok(error instanceof UnavailableError, `refused with ${String(error)}`);
    return error.retryAfterSeconds ?? -1;
  }
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const series = metric?.values.find((entry) => Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted));
  return series?.value;
}

/** Polls `holds` every 20 ms; fails after `timeoutMs`. */
async function until(holds: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

describe('intake guard (MAX_EVENT_LOOP_DELAY_MS)', () => {
  const started: IntakeGuard[] = [];
  afterEach(() => {
    for (const guard of started.splice(0)) guard.stop();
  });

  function startGuard(limitMs: number, windowMs: number) {
    const registry = createMetricsRegistry({ service: 'api', instance: 'test' });
    const logger = createLogger(createProcessIdentity('api'), { level: 'silent', pretty: false });
    const shedding = createMessageShedding({ registry, logger, retryAfterSeconds: 1 });
    const guard = createIntakeGuard({ limitMs, tickMs: 10, windowMs, shedding });
    guard.start();
    started.push(guard);
    return { guard, registry };
  }

  test('a stall over the limit refuses posts at once and for the window after it, counted as intake; on time again, they are admitted', async () => {
    // The stall is twice the window and six times the limit: no scheduling hiccup comes close.
    const { guard, registry } = startGuard(100, 300);
    stall(600);
    // No timer has run since the stall: the guard sees the loop late right now.
    assert.equal(verdict(guard), 1, 'refused with Retry-After: 1 before any sample');
    // The first tick after the stall closes its window, over the limit (the gauge shows it): the
    // next window sheds, though the loop is on time again.
    await until(async () => ((await value(registry, 'chat_event_loop_delay_seconds')) ?? 0) >= 0.5, 'the gauge to show the stall');
    assert.equal(verdict(guard), 1, 'refused while the last window was over the limit');
    assert.equal(await value(registry, 'chat_messages_shed_total', { reason: 'intake' }), 2);

    await until(() => verdict(guard) === 'admitted', 'a post to be admitted once the loop is on time');
  });

  test('after a stall of D ms, posts are refused for D ms more though the windows are on time again (what queued is still being read)', async () => {
    // A short window (50 ms) and a long stall (800 ms): the window verdict alone would admit again
    // ~50–100 ms after the stall; the hold-down refuses until ~800 ms after it.
    const { guard } = startGuard(100, 50);
    stall(800);
    const stalledAt = performance.now();
    assert.equal(verdict(guard), 1, 'refused right after the stall');
    await delay(300);
    assert.equal(verdict(guard), 1, 'still refused 300 ms after an 800 ms stall, windows on time');
    await until(() => verdict(guard) === 'admitted', 'a post to be admitted once the hold-down is over');
    assert.ok(performance.now() - stalledAt >= 700, 'not admitted before the length of the stall had passed');
  });

  test('0 refuses nothing, and the delay is still measured', async () => {
    const { guard, registry } = startGuard(0, 100);
    stall(300);
    assert.equal(verdict(guard), 'admitted');
    await until(async () => ((await value(registry, 'chat_event_loop_delay_seconds')) ?? 0) >= 0.2, 'the gauge to show the stall');
    assert.equal(verdict(guard), 'admitted');
    assert.equal(await value(registry, 'chat_messages_shed_total', { reason: 'intake' }), 0);
  });
});
