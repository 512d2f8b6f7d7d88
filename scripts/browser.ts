// Where the HTML report's browser tests and `npm run screenshot` find Chromium: $VGIC_LAB_CHROMIUM, else
// Debian's package (scripts/install-browser.sh installs it). Never a downloaded browser build.
import { accessSync, constants } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];

/** The Chromium executable to drive, or null when there is none. */
export function findChromium(): string | null {
  for (const file of [process.env.VGIC_LAB_CHROMIUM, ...CANDIDATES]) {
    if (!file) continue;
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not there, or not executable: the next candidate.
    }
  }
  return null;
}
