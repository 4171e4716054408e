import { encodeDeliveryEvent, messageFrame, summaryOfStored } from '@chat/contracts';

/**
 * Turns a stored message into the pub/sub event every member's gateway receives. Serialized once
 * here; gateways forward the frame bytes as they are.
 */
export function buildDeliveryEvent(storedMessage: string, conversationTitle: string): string {
  const summary = summaryOfStored(storedMessage, conversationTitle);
  return encodeDeliveryEvent(summary.conversationId, summary.seq, Date.parse(summary.createdAt), messageFrame(summary));
}
