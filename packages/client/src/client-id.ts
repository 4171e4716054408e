/**
 * A fresh clientId for a message (`^[A-Za-z0-9_-]{1,64}$`): 128 random bits, base64url. Uses
 * crypto.getRandomValues, which browsers offer on plain-http pages too (randomUUID needs a
 * secure context).
 */
export function newClientId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
