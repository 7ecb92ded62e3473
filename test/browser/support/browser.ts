import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The system's Chromium (Debian's package; browsers cannot be downloaded here), driven by playwright-core.
 * `.ci/run` installs it when missing; locally: `apt-get install -y chromium`, or set CHROMIUM_PATH.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

/** `describe` when Chromium is there, else `describe.skip` (with the reason printed once). */
export const describeInBrowser: jest.Describe = HAS_CHROMIUM
  ? describe
  : ((() => {
      console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
      return describe.skip;
    })() as jest.Describe);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

/**
 * The system's Firefox ESR (Debian's package), driven by puppeteer-core over WebDriver BiDi (playwright-core needs
 * its own patched Firefox, which cannot be downloaded here). `.ci/run` installs it when missing.
 */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const HAS_FIREFOX = existsSync(FIREFOX_PATH);

export const describeInFirefox: jest.Describe = HAS_FIREFOX
  ? describe
  : ((() => {
      console.warn(`Firefox tests skipped: no Firefox at ${FIREFOX_PATH} (apt-get install -y firefox-esr)`);
      return describe.skip;
    })() as jest.Describe);
