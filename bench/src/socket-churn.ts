import { BenchSocket, type SocketEvents } from './bench-socket.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import { SOCKET_READY_TIMEOUT_MS } from './topology.js';

export interface SocketChurn {
  /** Sockets closed and reconnected so far. */
  readonly replaced: number;
  /** Reconnects that failed (the user stays offline until picked again). */
  readonly failed: number;
  /** Stops picking sockets and waits for the reconnects under way. */
  stop(): Promise<void>;
}

/**
 * Closes a random socket `perSecond` times a second and reconnects the same user to the same
 * replica, as clients that come and go do, so that a long run exercises the gateways' per-socket
 * setup and cleanup. `sockets` is updated in place with the new sockets.
 */
export function startSocketChurn(options: {
  sockets: BenchSocket[];
  wsUrls: string[];
  perSecond: number;
  tracker: DeliveryTracker;
  events: SocketEvents;
  random: () => number;
  onProblem: (what: string) => void;
}): SocketChurn {
  const { sockets, wsUrls, tracker, events } = options;
  const busy = new Set<number>();
  const underWay = new Set<Promise<void>>();
  let replaced = 0;
  let failed = 0;

  const churnOne = async (i: number) => {
    const old = sockets[i] as BenchSocket;
    const closed = old.close();
    tracker.forgive(old);
    await closed;
    try {
      const fresh = await BenchSocket.connect(wsUrls[old.replica] as string, old.user, old.index, old.replica, tracker, events, SOCKET_READY_TIMEOUT_MS);
      tracker.replaceSocket(old, fresh);
      sockets[i] = fresh;
      replaced += 1;
    } catch (error) {
      failed += 1;
      options.onProblem(`reconnect of ${old.user.username}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const timer =
    options.perSecond > 0
      ? setInterval(() => {
          const i = Math.floor(options.random() * sockets.length);
          if (busy.has(i)) return;
          busy.add(i);
          const done = churnOne(i).finally(() => {
            busy.delete(i);
            underWay.delete(done);
          });
          underWay.add(done);
        }, 1000 / options.perSecond)
      : undefined;

  return {
    get replaced() {
      return replaced;
    },
    get failed() {
      return failed;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(underWay);
    },
  };
}
