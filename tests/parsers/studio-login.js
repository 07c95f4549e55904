// Signs in to the studio in headless Chromium (Debian's `chromium`, over the DevTools protocol
// with chrome-remote-interface): opens /studio (sent to the login page), types the email and
// password with the keyboard, submits with Enter, and reports where it landed, the page's <h1>,
// the session cookie's attributes, whether the page scrolls sideways at 360 px, and every
// Content Security Policy message. Then a page on another origin of the same site (another port
// of 127.0.0.1: the SameSite=Lax cookie goes with its POST) posts a form to the studio, and the
// answer is reported. Screenshots of the login page and the dashboard at 1280 and 360 px.
// Usage: node studio-login.js STUDIO_URL EMAIL PASSWORD PORT SHOT_DIR
const fs = require("fs");
const http = require("http");
const path = require("path");

const { sleep, withChromium, run } = require("./chromium");

const [studioUrl, email, password, port, shotDir] = process.argv.slice(2);
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
  const origin = new URL(studioUrl).origin;
  const hostile = await hostilePage(`${origin}/studio/tokens`);
  try {
    await withChromium(port, ["--window-size=1280,900"], (browser) => signIn(browser, hostile));
  } finally {
    hostile.close();
  }
}

async function signIn({ client, evaluate, navigate: open, csp }, hostile) {
  const { Page, Network, Input, Emulation } = client;
  await Network.enable();
  const statuses = {};
  Network.responseReceived(({ response, type }) => {
    if (type === "Document") statuses[response.url] = response.status;
  });
  const loadOf = () => Page.loadEventFired();
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
  await open(`http://127.0.0.1:${hostile.address().port}/`);
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
}

run("the studio browser test", main);
