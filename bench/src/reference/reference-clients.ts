import WebSocket from 'ws';
import { io as connectSocketIo } from 'socket.io-client';
import type { StackName } from './reference-stacks.js';

/** The nonce of messageText(), in a floor frame (JSON) and in a Socket.IO message's text. */
const FRAME_NONCE = /"text":"n(\d+)\./;
const TEXT_NONCE = /^n(\d+)\./;

/**
 * Opens one socket of `stack`'s kind on `port`, in `conversations`' rooms, and resolves once it
 * can receive; `onNonce` gets the nonce of every message it receives. Returns how to close it.
 */
export async function connectReferenceSocket(stack: StackName, port: number, conversations: string[], onNonce: (nonce: string | undefined) => void): Promise<() => void> {
  const rooms = conversations.join(',');
  if (stack === 'floor') {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/?c=${rooms}`, { perMessageDeflate: false });
    socket.on('message', (data: Buffer) => onNonce(FRAME_NONCE.exec(data.toString('utf8'))?.[1]));
    // The fan-out says `ready` once the socket is in its rooms.
    await new Promise<void>((resolve, reject) => {
      socket.once('message', () => resolve());
      socket.once('error', reject);
    });
    return () => socket.terminate();
  }
  const socket = connectSocketIo(`http://127.0.0.1:${port}`, { transports: ['websocket'], query: { c: rooms }, forceNew: true, reconnection: false });
  socket.on('message', (message: { text: string }) => onNonce(TEXT_NONCE.exec(message.text)?.[1]));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return () => socket.disconnect();
}
