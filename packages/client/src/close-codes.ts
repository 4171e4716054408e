/**
 * The protocol's one close-code table (the gateway's codes and the SDK's own 1000, 1006 and 4408),
 * from @chat/contracts: zod-free, inlined into the bundle.
 */
export { CloseCode } from '@chat/contracts/close-codes';
