import { createHash } from 'node:crypto';

/** Eight hex digits of the SHA-256 of a scenario file's text. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
