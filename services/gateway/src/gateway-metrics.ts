import { Counter, Gauge, Histogram, type Registry } from '@chat/metrics';
import type { ConnectionRegistry } from './connection-registry.js';

export function createGatewayMetrics(registry: Registry, connections: ConnectionRegistry, pubsubChannels: () => number) {
  const registers = [registry];
  new Gauge({
    name: 'chat_gateway_open_sockets',
    help: 'WebSockets open on this replica',
    registers,
    collect() {
      this.set(connections.size);
    },
  });
  new Gauge({
    name: 'chat_gateway_connected_users',
    help: 'Distinct users with at least one socket on this replica',
    registers,
    collect() {
      this.set(connections.users);
    },
  });
  new Gauge({
    name: 'chat_gateway_pubsub_channels',
    help: "Pub/sub channels this replica follows: its users' own and their conversations' (each once)",
    registers,
    collect() {
      this.set(pubsubChannels());
    },
  });
  return {
    connections: new Counter({ name: 'chat_gateway_connections_total', help: 'Sockets accepted', registers }),
    refusedUpgrades: new Counter({
      name: 'chat_gateway_refused_upgrades_total',
      help: 'Upgrades refused, by HTTP status',
      labelNames: ['status'] as const,
      registers,
    }),
    closes: new Counter({
      name: 'chat_gateway_closes_total',
      help: 'Socket closes by close code',
      labelNames: ['code'] as const,
      registers,
    }),
    framesSent: new Counter({ name: 'chat_gateway_frames_sent_total', help: 'Frames written to sockets', registers }),
    events: new Counter({ name: 'chat_gateway_delivery_events_total', help: 'Delivery events from pub/sub that named a member with a socket here', registers }),
    malformedEvents: new Counter({ name: 'chat_gateway_malformed_events_total', help: 'Pub/sub payloads skipped as malformed', registers }),
    deliveryLatency: new Histogram({
      name: 'chat_delivery_latency_seconds',
      help: 'From the api accepting a message to its frame being written to the sockets here',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    resumes: new Counter({ name: 'chat_gateway_resume_requests_total', help: 'resume frames handled', registers }),
    replayed: new Counter({ name: 'chat_gateway_replayed_messages_total', help: 'Messages sent from the store (resume, gap fill)', registers }),
    historyReadFailures: new Counter({ name: 'chat_gateway_history_read_failures_total', help: 'Store reads for resume or gap fill that failed', registers }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
