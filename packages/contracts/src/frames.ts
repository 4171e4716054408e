import { z } from 'zod';
import { idSchema } from './identifiers.js';

/** Client → server frames. Anything else is answered with an `error` frame. */

export const RESUME_CURSORS_MAX = 1000;

export const resumeFrameSchema = z.strictObject({
  type: z.literal('resume'),
  /** The store epoch the cursors were seen under (from `ready`); another epoch cannot be resumed. */
  epoch: z.string().min(1).max(64).optional(),
  cursors: z
    .record(idSchema, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
    .refine((cursors) => Object.keys(cursors).length <= RESUME_CURSORS_MAX, {
      message: `at most ${RESUME_CURSORS_MAX} cursors`,
    }),
});

export const authFrameSchema = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1).max(8192),
});

export const pingFrameSchema = z.strictObject({ type: z.literal('ping') });

export const clientFrameSchema = z.discriminatedUnion('type', [
  resumeFrameSchema,
  authFrameSchema,
  pingFrameSchema,
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ResumeFrame = z.infer<typeof resumeFrameSchema>;

/** Server → client frames. */

export interface ReadyFrame {
  type: 'ready';
  user: string;
  /** The store epoch: keep it with the cursors and send it back in `resume`. */
  epoch: string;
}

export interface ResumedFrame {
  type: 'resumed';
  recovered: boolean;
  /** With `recovered: false`: the conversations whose history no longer reaches back to the cursor. */
  conversations?: string[];
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

export interface PongFrame {
  type: 'pong';
}
