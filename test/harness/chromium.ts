/**
 * Headless Chromium for the dashboard's browser tests: Debian's `chromium` package, driven by
 * playwright-core (which never downloads a browser). ZKTS_CHROMIUM names another binary.
 * scripts/test.mjs makes the same check and refuses, under CI=true, to let these tests skip.
 */
import { accessSync, constants } from "node:fs";
import type { Browser } from "playwright-core";

export const CHROMIUM = process.env.ZKTS_CHROMIUM || "/usr/bin/chromium";

/** Why Chromium cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return `${CHROMIUM} is missing (apt-get install chromium, as .ci/run does)`;
  }
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}
