import { UnavailableError } from '@chat/contracts';
import type { Logger } from '@chat/logger';
import { Counter, Gauge, type Registry } from '@chat/metrics';

/** Why a post was refused under load: the `reason` label of chat_messages_shed_total. */
export type ShedReason = 'backlog' | 'intake';

/** One guard's verdict: set from the guard's samples, enforced on every post. */
export interface ShedVerdict {
  /** The guard's latest sample (shown by its gauge) and its verdict; a change is logged, with `fields`. */
  sampled(signal: number, shedding: boolean, fields: Record<string, number>): void;
  /** Throws UnavailableError (503 + Retry-After), counted, while the verdict is to shed. */
  admit(): void;
  /** Refuses this post whatever the verdict says: the guard saw the overload in hand. */
  refuse(): never;
}

export interface ShedGuardSpec {
  reason: ShedReason;
  /** The gauge that shows the guard's signal, as last sampled. */
  signal: { name: string; help: string };
  /** The refusal's message (the body of the 503). */
  refusal: string;
  /** Logged when the guard starts shedding. */
  started: string;
  /** Logged when it stops. */
  stopped: string;
}

export interface MessageShedding {
  /** The verdict of one guard, with its gauge. */
  verdict(spec: ShedGuardSpec): ShedVerdict;
}

export interface MessageSheddingOptions {
  registry: Registry;
  logger: Logger;
  /** Sent as Retry-After with each refusal. */
  retryAfterSeconds: number;
}

/**
 * What every guard that sheds posts under load has in common: a gauge of its signal, a verdict
 * logged when it changes, one refusal (the contract's 503 `unavailable` with Retry-After, before
 * anything is stored) and one counter family, chat_messages_shed_total, labelled with the guard's
 * reason, so a dashboard sums them and still tells them apart.
 */
export function createMessageShedding({ registry, logger, retryAfterSeconds }: MessageSheddingOptions): MessageShedding {
  const shed = new Counter({
    name: 'chat_messages_shed_total',
    help: 'Messages refused with 503 + Retry-After before anything was stored: backlog (MAX_DELIVERY_BACKLOG), intake (MAX_EVENT_LOOP_DELAY_MS)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    verdict({ reason, signal, ...wording }) {
      // Every reason has a series from the start, so a rate over it never begins with a gap.
      shed.inc({ reason }, 0);
      const gauge = new Gauge({ ...signal, registers: [registry] });
      let shedding = false;
      const refuse = (): never => {
        shed.inc({ reason });
        throw new UnavailableError(wording.refusal, retryAfterSeconds);
      };
      return {
        sampled(value, next, fields) {
          gauge.set(value);
          if (next !== shedding) logger.warn(fields, next ? wording.started : wording.stopped);
          shedding = next;
        },
        admit() {
          if (shedding) refuse();
        },
        refuse,
      };
    },
  };
}
