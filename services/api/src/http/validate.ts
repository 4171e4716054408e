import { InvalidRequestError } from '@chat/contracts';
import type { z } from 'zod';

/** Parses untrusted input with a schema; failures become one readable 400. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : what;
      return issue.code === 'unrecognized_keys' ? `${where}: unknown field(s) ${issue.keys.join(', ')}` : `${where}: ${issue.message}`;
    })
    .join('; ');
  throw new InvalidRequestError(`invalid ${what}: ${details}`);
}
