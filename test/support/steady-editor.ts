import { apiRequest } from './api-client.js';

export interface EditingResult {
  /** Changes answered 200: the message's seq and the rev of the version answered. */
  changes: { seq: number; rev: number }[];
  /** Edits of a message already deleted (409, as the contract says). */
  conflicts: number;
  /** Status code → count, for everything else (0 = no answer). */
  refused: Record<number, number>;
}

/**
 * Edits and deletes recently posted messages, each with its author's token, at a steady rate for
 * a bounded time, one request at a time: one in five is a deletion. `pick` names the message (or
 * nothing yet). Every answer is recorded; nothing is retried.
 */
export async function editSteadily(options: {
  apiUrl: string;
  conversationId: string;
  perSecond: number;
  durationMs: number;
  pick: () => { seq: number; token: string } | undefined;
}): Promise<EditingResult> {
  const result: EditingResult = { changes: [], conflicts: 0, refused: {} };
  const intervalMs = 1000 / options.perSecond;
  const started = Date.now();
  for (let i = 0; Date.now() - started < options.durationMs; i += 1) {
    const wait = started + i * intervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const target = options.pick();
    if (!target) continue;
    const remove = i % 5 === 4;
    const response = await apiRequest(options.apiUrl, remove ? 'DELETE' : 'PATCH', `/api/conversations/${options.conversationId}/messages/${target.seq}`, {
      token: target.token,
      ...(remove ? {} : { body: { text: `edited ${i}` } }),
      timeoutMs: 5000,
    }).catch(() => undefined);
    const status = response?.status ?? 0;
    if (status === 200) result.changes.push({ seq: target.seq, rev: (response?.body as { rev: number }).rev });
    else if (status === 409) result.conflicts += 1;
    else result.refused[status] = (result.refused[status] ?? 0) + 1;
  }
  return result;
}
