#!/usr/bin/env node
// The gateway's status page in headless Chromium (Debian's chromium, driven
// by playwright-core from $SWITCHBOARD_BROWSER_MODULES): opens BASE_URL/ in a
// phone-sized viewport, waits until SERVER shows "ready", prints `ready` and
// waits for the file SIGNAL to exist (the test kills SERVER's process, then
// creates it), and then
// follows SERVER's state on the live page until it is ready again with a
// restart counted. Prints one JSON line:
//   {"states":[states seen, in order], "restarts":"restarts N",
//    "fitsPhone":bool, "servers":[names shown]}
//
//   node tests/peers/status_page.mjs BASE_URL SERVER SIGNAL
//
// Every wait is bounded (20 s each); a failure exits 1 with the reason.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [base, server, signal] = process.argv.slice(2);
const modules = process.env.SWITCHBOARD_BROWSER_MODULES;
const chromium = process.env.SWITCHBOARD_CHROMIUM || "/usr/bin/chromium";
if (!base || !server || !signal || !modules) {
  console.error("usage: SWITCHBOARD_BROWSER_MODULES=... status_page.mjs BASE_URL SERVER SIGNAL (run bash .ci/install-peers.sh and . .peers/env.sh)");
  process.exit(2);
}
const { chromium: launcher } = await import(
  pathToFileURL(path.join(modules, "playwright-core", "index.mjs")).href
);
const browser = await launcher.launch({
  executablePath: chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = async (why) => {
  console.error(why);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${base}/`, { timeout: 20000 });
  const row = `section.server[data-server="${server}"]`;
  const stateOf = () => page.locator(`${row} .state`).textContent({ timeout: 20000 });
  await page.waitForSelector(`${row} .state[data-state="ready"]`, { timeout: 20000 });
  const states = [await stateOf()];
  const fitsPhone = await page.evaluate(
    () => document.documentElement.scrollWidth <= window.innerWidth,
  );
  const servers = await page.locator("section.server .name").allTextContents();
  console.log("ready");
  const told = Date.now() + 20000;
  while (!fs.existsSync(signal)) {
    if (Date.now() > told) await fail(`${signal} never appeared`);
    await page.waitForTimeout(50);
  }
  // Follow the live page: it polls /status.json once a second.
  const deadline = Date.now() + 20000;
  let restarts = "";
  for (;;) {
    if (Date.now() > deadline) await fail(`no state change back to ready: saw ${JSON.stringify(states)}`);
    const state = await stateOf();
    if (state !== states[states.length - 1]) states.push(state);
    restarts = (await page.locator(`${row} .numbers span`).allTextContents())
      .find((t) => t.startsWith("restarts")) || "";
    if (states.length >= 3 && state === "ready" && restarts !== "restarts 0") break;
    await page.waitForTimeout(100);
  }
  console.log(JSON.stringify({ states, restarts, fitsPhone, servers }));
  await browser.close();
} catch (e) {
  await fail(String(e && e.stack || e));
}
