// Drives headless Chromium (Debian's `chromium`) over the DevTools protocol
// (chrome-remote-interface, npm): opens an episode page, plays the briefing, clicks the first
// document moment and reports where the player went; then opens the page's permanent link of a
// moment (#t=SECONDS) and reports where the player starts. Saves a screenshot.
// Usage: node browser.js PAGE_URL SCREENSHOT.png PORT MOMENT_SECONDS
const CDP = require("chrome-remote-interface");
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [pageUrl, shot, port, moment] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let chrome;
const killGroup = () => {
  if (!chrome) return;
  try {
    process.kill(-chrome.pid, "SIGKILL");
  } catch {
    chrome.kill("SIGKILL");
  }
};

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "siaran-chromium-"));
  chrome = spawn(
    "chromium",
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio", "--no-first-run",
      "--autoplay-policy=no-user-gesture-required", `--remote-debugging-port=${port}`,
      `--user-data-dir=${profile}`, "--window-size=900,1400", "about:blank",
    ],
    // Its own process group, so that its helpers (zygote, renderers, crash handler) are
    // stopped with it: they outlived a kill of the browser alone and went on writing into the
    // profile while it was being removed (ENOTEMPTY, once in a CI-equivalent run).
    { stdio: "ignore", detached: true },
  );
  let client;
  try {
    for (let i = 0; i < 100 && !client; i++) {
      try {
        client = await CDP({ port: Number(port) });
      } catch {
        await sleep(200);
      }
    }
    if (!client) throw new Error("Chromium's DevTools port did not open");
    const { Page, Runtime } = client;
    await Page.enable();
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await Runtime.evaluate({
        expression, awaitPromise: true, returnByValue: true,
      });
      if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
      return result.value;
    };
    const open = async (url) => {
      const loaded = Page.loadEventFired();
      await Page.navigate({ url });
      await loaded;
      // Until the player knows the recording's length.
      await evaluate(`new Promise((ok) => { const p = document.getElementById('player');
        if (p.readyState >= 1) ok(); else p.addEventListener('loadedmetadata', () => ok(), { once: true }); })`);
    };
    const currentTime = () => evaluate("document.getElementById('player').currentTime");
    const waitFor = async (target) => {
      for (let i = 0; i < 50; i++) {
        const t = await currentTime();
        if (Math.abs(t - target) < 3) return t;
        await sleep(100);
      }
      return currentTime();
    };

    await open(pageUrl);
    await evaluate("document.getElementById('player').play().then(() => true)");
    await sleep(700);
    const playedTo = await currentTime();
    const clicked = await evaluate(`(() => { const a = document.querySelector('ul.documents a[data-t]');
      a.click(); return a.dataset.t; })()`);
    const afterClick = await waitFor(Number(clicked));
    const paused = await evaluate("document.getElementById('player').paused");
    const hash = await evaluate("location.hash");
    const { data } = await Page.captureScreenshot({ format: "png" });
    fs.writeFileSync(shot, Buffer.from(data, "base64"));

    // A new document (a query), not a same-page jump, which would fire no load event.
    await open(`${pageUrl}?lang=id#t=${moment}`);
    const fromLink = await waitFor(Number(moment));
    console.log(JSON.stringify({ playedTo, clicked: Number(clicked), afterClick, paused, hash, fromLink }));
  } finally {
    if (client) await client.close();
    const exited = new Promise((r) => chrome.once("exit", r));
    killGroup();
    await exited;
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

const deadline = setTimeout(() => {
  console.error("the browser test did not finish within 90 s");
  killGroup();
  process.exit(1);
}, 90_000);
main().then(
  () => {
    clearTimeout(deadline);
    process.exit(0);
  },
  (e) => {
    console.error(e.stack || String(e));
    process.exit(1);
  },
);
