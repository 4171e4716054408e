/** A socket whose writes are held (corked) until the end of the current turn. */
export interface BatchedWriter {
  flush(): void;
}

let held: BatchedWriter[] = [];

function flushAll(): void {
  const writers = held;
  held = [];
  for (const writer of writers) writer.flush();
}

/**
 * Frames written to a socket in one turn of the event loop leave in one write: under load, when
 * pub/sub hands over many events at once, a socket gets its backlog in one syscall instead of one
 * per frame. The caller corks its socket and registers here once per turn; one tick at the end of
 * the turn uncorks every socket written to (rather than a tick per socket: a big-room message
 * reaches hundreds of sockets in one turn).
 */
export function holdUntilEndOfTurn(writer: BatchedWriter): void {
  if (held.length === 0) process.nextTick(flushAll);
  held.push(writer);
}
