import { apiRequest } from './api-client.js';

export interface PostingResult {
  attempted: number;
  /** Seqs of the posts answered 201. */
  acceptedSeqs: number[];
  /** The text of each post answered 201, by its seq. */
  acceptedTexts: Map<number, string>;
  /** Status code → count, for everything but 201 (0 = no answer). */
  refused: Record<number, number>;
}

/**
 * Posts to one conversation at a steady rate for a bounded time, `concurrency` requests at most
 * in flight, rotating over the authors. Every answer is recorded; nothing is retried, so the
 * accepted seqs are exactly the acknowledged messages.
 */
export async function postSteadily(options: {
  apiUrl: string;
  conversationId: string;
  tokens: readonly string[];
  perSecond: number;
  durationMs: number;
  concurrency?: number;
  /** Told of every message answered 201, with the token that posted it. */
  onAccepted?: (seq: number, token: string) => void;
}): Promise<PostingResult> {
  const result: PostingResult = { attempted: 0, acceptedSeqs: [], acceptedTexts: new Map(), refused: {} };
  const total = Math.round((options.perSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.perSecond;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const concurrency = options.concurrency ?? 8;

  for (let i = 0; i < total; i += 1) {
    const due = started + i * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    result.attempted += 1;
    const token = options.tokens[i % options.tokens.length] as string;
    const text = `steady ${i}`;
    const post = apiRequest(options.apiUrl, 'POST', `/api/conversations/${options.conversationId}/messages`, {
      token,
      body: { text },
      timeoutMs: 5000,
    })
      .then((response) => {
        if (response.status === 201) {
          const { seq } = response.body as { seq: number };
          result.acceptedSeqs.push(seq);
          options.onAccepted?.(seq, token);
          result.acceptedTexts.set(seq, text);
        } else result.refused[response.status] = (result.refused[response.status] ?? 0) + 1;
      })
      .catch(() => {
        result.refused[0] = (result.refused[0] ?? 0) + 1;
      })
      .finally(() => inFlight.delete(post));
    inFlight.add(post);
  }
  await Promise.all(inFlight);
  return result;
}
