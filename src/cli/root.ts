import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

/** The package root (where scenarios/ lives), found from this module whether bundled or not. */
export function packageRoot(): string {
  found ??= search();
  return found;
}

function search(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'vgic-lab') return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
