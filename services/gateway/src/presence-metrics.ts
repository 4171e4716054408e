import { Counter, type Registry } from '@chat/metrics';

/** Presence and typing on this replica (ephemeral frames: never stored). */
export function createPresenceMetrics(registry: Registry) {
  const registers = [registry];
  return {
    transitions: new Counter({
      name: 'chat_presence_transitions_total',
      help: 'Users this replica announced online or offline',
      labelNames: ['online'] as const,
      registers,
    }),
    announced: new Counter({
      name: 'chat_presence_announcements_total',
      help: 'Presence frames published to co-members (one per co-member per transition)',
      registers,
    }),
    typing: new Counter({
      name: 'chat_typing_frames_total',
      help: 'typing frames received from clients, by outcome (relayed, throttled, not_member)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    ephemeralSent: new Counter({
      name: 'chat_ephemeral_frames_sent_total',
      help: 'presence and typing frames written to sockets here',
      registers,
    }),
  };
}

export type PresenceMetrics = ReturnType<typeof createPresenceMetrics>;
