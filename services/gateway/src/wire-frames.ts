import * as ws from 'ws';

/** ws's framer (`Sender.frame`): exported by ws at run time, absent from @types/ws. */
interface WsSender {
  frame(data: Buffer, options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[];
}

const sender = (ws as unknown as { Sender?: WsSender }).Sender;
// Checked at load, so an upgrade of ws that drops it fails at start (and in every gateway test),
// never in the middle of a delivery.
if (typeof sender?.frame !== 'function') throw new Error('ws no longer exports Sender.frame: see wire-frames.ts');

const TEXT_OPCODE = 0x1;
const wires = new WeakMap<Buffer, Buffer>();

/**
 * The bytes of a complete, unfragmented text frame carrying `payload`, framed by ws itself, built
 * once per payload however many sockets it goes to.
 *
 * A delivery event's frame is one Buffer shared by every local socket of its members (a big room:
 * hundreds), and a server's frames are never masked, so the wire bytes are the same for all of
 * them. `ws.send` would frame it again for each socket and hand the socket a header and the
 * payload as two writes; writing these bytes is one write of the same bytes. Valid because the
 * gateway never compresses (perMessageDeflate: false, upgrade-admission.ts) and never sends Blobs,
 * so ws's sender never queues a frame that these could overtake.
 */
export function wireFrame(payload: Buffer): Buffer {
  let wire = wires.get(payload);
  if (wire === undefined) {
    wire = Buffer.concat(sender!.frame(payload, { fin: true, rsv1: false, opcode: TEXT_OPCODE, mask: false, readOnly: true }));
    wires.set(payload, wire);
  }
  return wire;
}
