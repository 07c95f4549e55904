// Headless Chromium (Debian's `chromium`) over the DevTools protocol (chrome-remote-interface,
// npm), as the page tests drive it: `withChromium` starts it with a fresh profile, connects,
// notes every Content Security Policy message the pages make, and stops it and removes the
// profile whatever happens; `run` runs a test's main with a deadline and its exit code.
const CDP = require("chrome-remote-interface");
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

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

// Starts Chromium with DevTools on `port` and `flags` besides the common ones, and calls `body`
// with the DevTools `client`, `evaluate(expression)` (its value, awaited; throws on an
// exception), `navigate(url)` (returns once the page has loaded) and `csp` (the messages so far).
async function withChromium(port, flags, body) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "siaran-chromium-"));
  chrome = spawn(
    "chromium",
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, ...flags, "about:blank",
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
    const { Page, Runtime, Log } = client;
    await Page.enable();
    await Runtime.enable();
    await Log.enable();
    // Violations are logged as console messages, whatever refused them (a script, a style, a
    // stylesheet, a media load).
    const csp = [];
    const noteCsp = (text, url) => {
      if (/Content[ -]Security[ -]Policy/i.test(text)) csp.push(`${url || ""}: ${text}`);
    };
    Log.entryAdded(({ entry }) => noteCsp(entry.text, entry.url));
    Runtime.consoleAPICalled(({ args, type }) =>
      noteCsp(args.map((a) => a.value ?? a.description ?? "").join(" "), type));
    Runtime.exceptionThrown(({ exceptionDetails }) =>
      noteCsp(JSON.stringify(exceptionDetails), "exception"));
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await Runtime.evaluate({
        expression, awaitPromise: true, returnByValue: true,
      });
      if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
      return result.value;
    };
    const navigate = async (url) => {
      const loaded = Page.loadEventFired();
      await Page.navigate({ url });
      await loaded;
    };
    return await body({ client, evaluate, navigate, csp });
  } finally {
    if (client) await client.close();
    const exited = new Promise((r) => chrome.once("exit", r));
    killGroup();
    await exited;
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

// Runs `main` and exits: 0 when it ends, 1 with its error, 1 if it has not ended within 90 s.
function run(what, main) {
  const deadline = setTimeout(() => {
    console.error(`${what} did not finish within 90 s`);
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
}

// The page as the studio and public page tests check it: axe-core against WCAG 2.1 A and AA (its
// serious and critical violations, and the rules that passed), then a screenshot at 1280 and at
// 360 px wide (`shot(width)`: the file) and whether the page scrolls sideways at 360.
async function audit({ client, evaluate }, shot) {
  const { Emulation, Page } = client;
  await evaluate(`${fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8")};0`);
  const { violations, passed } = await evaluate(`axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    }).then((r) => ({
      violations: r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) })),
      passed: r.passes.map((p) => p.id),
    }))`);
  let sideways = null;
  for (const width of [1280, 360]) {
    await Emulation.setDeviceMetricsOverride({ width, height: 900, deviceScaleFactor: 1, mobile: width < 500 });
    await sleep(100);
    if (width === 360) sideways = await evaluate("document.documentElement.scrollWidth > window.innerWidth");
    const { data } = await Page.captureScreenshot({ format: "png" });
    fs.writeFileSync(shot(width), Buffer.from(data, "base64"));
  }
  await Emulation.clearDeviceMetricsOverride();
  return { violations, passed, sideways };
}

module.exports = { sleep, withChromium, run, audit };
