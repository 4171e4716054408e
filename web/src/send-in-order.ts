import type { ChatApi, Message } from '@chat/client';

export interface SendInOrderDeps {
  api: ChatApi;
  /** Aborted when the screen ends: nothing more is sent, and no answer is reported. */
  signal: AbortSignal;
  onSent: (conversationId: string, message: Message) => void;
  onFailed: (conversationId: string, text: string, error: unknown) => void;
}

/**
 * A send function that posts messages in the order typed: each waits for the one before it to be
 * accepted (or refused), so two sent back to back can never swap places.
 */
export function sendInOrder({ api, signal, onSent, onFailed }: SendInOrderDeps): (conversationId: string, text: string) => void {
  let chain: Promise<void> = Promise.resolve();
  return (conversationId, text) => {
    chain = chain.then(async () => {
      if (signal.aborted) return;
      try {
        const message = await api.postMessage(conversationId, text);
        if (!signal.aborted) onSent(conversationId, message);
      } catch (error) {
        if (!signal.aborted) onFailed(conversationId, text, error);
      }
    });
  };
}
