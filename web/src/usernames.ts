/**
 * The usernames in what someone typed: separated by commas or spaces, trimmed, lower-cased (the
 * contract's usernames are lower-case), without duplicates, in the order given. Whether they exist
 * is the api's call: a wrong one comes back as its 400 message.
 */
export function parseUsernames(input: string): string[] {
  const names = input
    .split(/[\s,]+/)
    .map((name) => name.trim().replace(/^@/, '').toLowerCase())
    .filter((name) => name.length > 0);
  return [...new Set(names)];
}
