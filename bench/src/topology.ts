import type { RegisteredUser } from './api-client.js';
import { BenchSocket, type DeliverySink, type SocketEvents } from './bench-socket.js';
import { mapWithConcurrency } from './bounded-concurrency.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import type { RunContext } from './run-context.js';
import { sampleDistinct } from './seeded-random.js';

export interface PlannedConversation {
  id: string;
  /** Indexes into the users/sockets arrays of the workload. */
  members: number[];
}

const CREATE_CONCURRENCY = 16;
export const SOCKET_READY_TIMEOUT_MS = 30_000;

/** User i's socket goes to replica i mod R, so a conversation with members of both parities spans both. */
function replicaOf(userIndex: number, replicas: number): number {
  return userIndex % replicas;
}

/**
 * `count` conversations of `size` random members out of `users`, each spanning every replica it
 * can (a member list that landed on one replica gets a member swapped in from another).
 */
export async function createConversations(
  ctx: RunContext,
  label: string,
  users: RegisteredUser[],
  count: number,
  size: number,
  replicas: number,
): Promise<PlannedConversation[]> {
  const plans = Array.from({ length: count }, () => {
    const members = sampleDistinct(users.length, size, ctx.random);
    if (replicas > 1 && size >= 2) {
      const onReplica = new Set(members.map((member) => replicaOf(member, replicas)));
      if (onReplica.size === 1) {
        const wanted = (replicaOf(members[0] as number, replicas) + 1) % replicas;
        const candidate = users.findIndex((_, i) => replicaOf(i, replicas) === wanted && !members.includes(i));
        if (candidate >= 0) members[members.length - 1] = candidate;
      }
    }
    return members;
  });
  const created = await mapWithConcurrency(
    count,
    CREATE_CONCURRENCY,
    async (i) => {
      const members = plans[i] as number[];
      const [creator, ...others] = members.map((member) => users[member] as RegisteredUser);
      if (creator === undefined) throw new Error('a conversation needs members');
      const conversation = await ctx.api.createConversation(creator, `${label} ${i}`, others.map((user) => user.username));
      return { id: conversation.id, members };
    },
    (done) => ctx.progress.update(`${label}: creating conversations ${done}/${count}`),
  );
  return created;
}

/**
 * Connects one socket per user (user i to replica i mod R) and resolves once every one is ready.
 * If one fails, the ones already open are closed before the error is passed on.
 */
export async function connectSockets(
  ctx: RunContext,
  label: string,
  users: RegisteredUser[],
  wsUrls: string[],
  sink: DeliverySink,
  events: SocketEvents,
): Promise<{ sockets: BenchSocket[]; seconds: number }> {
  const started = performance.now();
  const opened: BenchSocket[] = [];
  try {
    const sockets = await mapWithConcurrency(
      users.length,
      ctx.options.connectConcurrency,
      async (i) => {
        if (ctx.signal.aborted) throw new Error('interrupted');
        const replica = replicaOf(i, wsUrls.length);
        const socket = await BenchSocket.connect(wsUrls[replica] as string, users[i] as RegisteredUser, i, replica, sink, events, SOCKET_READY_TIMEOUT_MS);
        opened.push(socket);
        return socket;
      },
      (done) => {
        if (done % 50 === 0 || done === users.length) ctx.progress.update(`${label}: sockets ready ${done}/${users.length}`);
      },
    );
    return { sockets, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await closeSockets(opened, ctx.options.connectConcurrency);
    throw error;
  }
}

export async function closeSockets(sockets: BenchSocket[], concurrency: number): Promise<void> {
  await mapWithConcurrency(sockets.length, concurrency, (i) => (sockets[i] as BenchSocket).close());
}

/** Tells the tracker which sockets owe which conversation's messages. */
export function trackConversations(tracker: DeliveryTracker, conversations: PlannedConversation[], sockets: BenchSocket[]): void {
  for (const conversation of conversations) {
    tracker.track(
      conversation.id,
      conversation.members.map((member) => sockets[member] as BenchSocket),
    );
  }
}

/** Socket events that count unexpected closes into the tracker's current step and remember errors. */
export function socketEvents(tracker: DeliveryTracker, problems: string[]): SocketEvents {
  return {
    onUnexpectedClose(socket, code, reason) {
      tracker.socketClosed();
      if (problems.length < 20) problems.push(`socket ${socket.user.username} (replica ${socket.replica}) closed: ${code} ${reason}`);
    },
    onProtocolError(socket, what) {
      if (problems.length < 20) problems.push(`socket ${socket.user.username}: ${what}`);
    },
  };
}
