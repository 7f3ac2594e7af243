// Headless Chromium for the browser tests: Debian's `chromium` package
// (installed by `npm test` when missing, scripts/tools.mjs), driven by
// playwright-core — which never downloads a browser of its own.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

/** Where the browser is: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/**
 * A headless Chromium with a fresh profile. This machine's network is
 * closed: background networking (updates, sync, Google lookups) is off so
 * that nothing but the page's own requests leave the browser.
 */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", // as root on CI; the pages are our own, on loopback
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}
