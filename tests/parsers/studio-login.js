// Signs in to the studio in headless Chromium (Debian's `chromium`, over the DevTools protocol
// with chrome-remote-interface): opens /studio (sent to the login page), types the email and
// password with the keyboard, submits with Enter, and reports where it landed, the page's <h1>,
// the session cookie's attributes, whether the page scrolls sideways at 360 px, and every
// Content Security Policy message. Then a page on another origin of the same site (another port
// of 127.0.0.1: the SameSite=Lax cookie goes with its POST) posts a form to the studio, and the
// answer is reported. Screenshots of the login page and the dashboard at 1280 and 360 px.
// Usage: node studio-login.js STUDIO_URL EMAIL PASSWORD PORT SHOT_DIR
const CDP = require("chrome-remote-interface");
const { spawn } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");

const [studioUrl, email, password, port, shotDir] = process.argv.slice(2);
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

// The other origin's page: a form posting to the studio, as a hostile page would.
function hostilePage(target) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>x</title><form method="post" action="${target}">
      <input name="name" value="dicuri"><button id="go" type="submit">go</button></form>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "siaran-chromium-"));
  chrome = spawn(
    "chromium",
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`,
      "--window-size=1280,900", "about:blank",
    ],
    { stdio: "ignore", detached: true },
  );
  let client;
  let server;
  try {
    for (let i = 0; i < 100 && !client; i++) {
      try {
        client = await CDP({ port: Number(port) });
      } catch {
        await sleep(200);
      }
    }
    if (!client) throw new Error("Chromium's DevTools port did not open");
    const { Page, Runtime, Log, Network, Input, Emulation } = client;
    await Page.enable();
    await Runtime.enable();
    await Log.enable();
    await Network.enable();
    const csp = [];
    const noteCsp = (text, url) => {
      if (/Content[ -]Security[ -]Policy/i.test(text)) csp.push(`${url || ""}: ${text}`);
    };
    Log.entryAdded(({ entry }) => noteCsp(entry.text, entry.url));
    Runtime.consoleAPICalled(({ args }) =>
      noteCsp(args.map((a) => a.value ?? a.description ?? "").join(" ")));
    const statuses = {};
    Network.responseReceived(({ response, type }) => {
      if (type === "Document") statuses[response.url] = response.status;
    });
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await Runtime.evaluate({
        expression, awaitPromise: true, returnByValue: true,
      });
      if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
      return result.value;
    };
    const loadOf = () => Page.loadEventFired();
    const open = async (url) => {
      const loaded = loadOf();
      await Page.navigate({ url });
      await loaded;
    };
    const type = async (text) => {
      for (const ch of text) await Input.dispatchKeyEvent({ type: "char", text: ch });
    };
    // A key pressed and released; Enter carries its text, which is what submits a form.
    const key = async (k) => {
      const vk = k === "Enter" ? 13 : 9;
      const text = k === "Enter" ? "\r" : undefined;
      await Input.dispatchKeyEvent({ type: "keyDown", key: k, code: k, windowsVirtualKeyCode: vk, text });
      await Input.dispatchKeyEvent({ type: "keyUp", key: k, code: k, windowsVirtualKeyCode: vk });
    };
    const shoot = async (name, width) => {
      await Emulation.setDeviceMetricsOverride({ width, height: 900, deviceScaleFactor: 1, mobile: width < 500 });
      await sleep(100);
      const sideways = await evaluate("document.documentElement.scrollWidth > window.innerWidth");
      const { data } = await Page.captureScreenshot({ format: "png" });
      fs.writeFileSync(path.join(shotDir, `${name}-${width}.png`), Buffer.from(data, "base64"));
      return sideways;
    };

    await open(`${studioUrl}`);
    const loginUrl = await evaluate("location.pathname + location.search");
    const sideways = {};
    sideways.login360 = await shoot("studio-login", 360);
    sideways.login1280 = await shoot("studio-login", 1280);
    // The email field has the focus; Tab goes to the password; Enter submits.
    const focused = await evaluate("document.activeElement && document.activeElement.id");
    await type(email);
    await key("Tab");
    const focusedAfterTab = await evaluate("document.activeElement && document.activeElement.id");
    await type(password);
    const landed = loadOf();
    await key("Enter");
    await landed;
    const after = await evaluate("location.pathname");
    const h1 = await evaluate("document.querySelector('h1') && document.querySelector('h1').textContent");
    const styled = await evaluate("getComputedStyle(document.body).maxWidth");
    sideways.dashboard360 = await shoot("studio-dashboard", 360);
    sideways.dashboard1280 = await shoot("studio-dashboard", 1280);
    const { cookies } = await Network.getCookies({ urls: [studioUrl] });
    const session = cookies.find((c) => c.name === "siaran_session");

    const origin = new URL(studioUrl).origin;
    server = await hostilePage(`${origin}/studio/tokens`);
    await open(`http://127.0.0.1:${server.address().port}/`);
    const posted = loadOf();
    await evaluate("document.getElementById('go').click()");
    await posted;
    const crossSite = {
      status: statuses[`${origin}/studio/tokens`],
      h1: await evaluate("document.querySelector('h1') && document.querySelector('h1').textContent"),
    };
    await sleep(300);
    console.log(JSON.stringify({
      loginUrl, focused, focusedAfterTab, after, h1, styled, sideways, crossSite, csp,
      cookie: session && { httpOnly: session.httpOnly, sameSite: session.sameSite, path: session.path },
    }));
  } finally {
    if (server) server.close();
    if (client) await client.close();
    const exited = new Promise((r) => chrome.once("exit", r));
    killGroup();
    await exited;
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

const deadline = setTimeout(() => {
  console.error("the studio browser test did not finish within 90 s");
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
