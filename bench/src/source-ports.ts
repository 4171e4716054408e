import { readFileSync } from 'node:fs';

/**
 * Source ports for the idle workload's sockets, chosen by the generator instead of the kernel.
 *
 * Every socket of the workload goes from 127.0.0.1 to one gateway address, so all of them draw on
 * one ephemeral port range (32768–60999 by default). Linux hands out even ports to connect() first
 * and walks every taken one before it tries an odd one: once the ~14 000 even ports are in use,
 * each connect() spent ~1.25 ms of system time in that walk here (against ~20 µs before), and the
 * connect rate measured the generator's kernel, not the gateway. Real clients come from many
 * addresses and never hit this. An explicit bind() is one lookup, so the generator binds each
 * socket to a port below the ephemeral range, which the kernel never hands out itself (a port some
 * server listens on is skipped when bind() says it is taken).
 */
export interface SourcePorts {
  ports: number[];
  /** How the ports were chosen, for the report. */
  description: string;
}

const FIRST_UNPRIVILEGED_PORT = 1024;

function ephemeralRangeStart(): number | undefined {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Ports for sockets to `wsUrl`, or none (the kernel chooses) when the gateway is not on 127.0.0.1. */
export function sourcePortsFor(wsUrl: string): SourcePorts {
  const low = ephemeralRangeStart();
  if (new URL(wsUrl).hostname !== '127.0.0.1' || low === undefined || low <= FIRST_UNPRIVILEGED_PORT) {
    return { ports: [], description: 'chosen by the kernel' };
  }
  const ports = Array.from({ length: low - FIRST_UNPRIVILEGED_PORT }, (_, i) => FIRST_UNPRIVILEGED_PORT + i);
  return {
    ports,
    description: `bound by the generator to ${FIRST_UNPRIVILEGED_PORT}–${low - 1} (below the kernel's ephemeral range; the kernel chooses once they run out)`,
  };
}
