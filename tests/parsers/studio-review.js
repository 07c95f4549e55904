// Review before publication in headless Chromium (the shared harness, chromium.js): a
// contributor signs in by keyboard, lands on its draft's editor, replaces the title by
// keyboard, and submits it for review with the "review" button (reporting the buttons it had),
// after linking a document at a moment picked from the player ("use the player's time");
// it signs out; an editor signs in, follows the dashboard's review-queue link, opens the
// episode from the list and publishes it. Reported: where each step landed, the buttons, the
// status shown, the history's names, sideways scrolling at 360 px and every CSP message.
// Screenshots of the editor and the dashboard (studio-editor-*, studio-queue-*) at 360 and 1280 px.
// Usage: node studio-review.js BASE_URL EPISODE_ID CONTRIBUTOR EDITOR PASSWORD PORT SHOT_DIR TITLE
const fs = require("fs");
const path = require("path");

const { sleep, withChromium, run } = require("./chromium");

const [base, id, contributor, editor, password, port, shotDir, title] = process.argv.slice(2);

async function main() {
  await withChromium(port, ["--window-size=1280,900"], review);
}

async function review({ client, evaluate, navigate: open, csp }) {
  const { Page, Input, Emulation } = client;
  const type = async (text) => {
    for (const ch of text) await Input.dispatchKeyEvent({ type: "char", text: ch });
  };
  const key = async (k) => {
    const vk = k === "Enter" ? 13 : 9;
    const text = k === "Enter" ? "\r" : undefined;
    await Input.dispatchKeyEvent({ type: "keyDown", key: k, code: k, windowsVirtualKeyCode: vk, text });
    await Input.dispatchKeyEvent({ type: "keyUp", key: k, code: k, windowsVirtualKeyCode: vk });
  };
  const click = async (selector) => {
    const loaded = Page.loadEventFired();
    await evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
    await loaded;
  };
  const text = (selector) =>
    evaluate(`(document.querySelector(${JSON.stringify(selector)}) || {}).textContent || null`);
  const buttons = () =>
    evaluate("[...document.querySelectorAll('button[name=action]')].map((b) => b.value)");
  const where = () => evaluate("location.pathname + location.search");
  const sideways = {};
  const shoot = async (name) => {
    for (const width of [360, 1280]) {
      await Emulation.setDeviceMetricsOverride({ width, height: 900, deviceScaleFactor: 1, mobile: width < 500 });
      await sleep(100);
      sideways[`${name}${width}`] = await evaluate("document.documentElement.scrollWidth > window.innerWidth");
      const { data } = await Page.captureScreenshot({ format: "png" });
      fs.writeFileSync(path.join(shotDir, `studio-${name}-${width}.png`), Buffer.from(data, "base64"));
    }
  };
  const signIn = async (email, next) => {
    await open(`${base}/studio/login?next=${encodeURIComponent(next)}`);
    await evaluate("document.getElementById('email').focus()");
    await type(email);
    await key("Tab");
    await type(password);
    const loaded = Page.loadEventFired();
    await key("Enter");
    await loaded;
  };

  // The contributor.
  await signIn(contributor, `/studio/episodes/${id}`);
  const contributorAt = await where();
  const contributorButtons = await buttons();
  await shoot("editor");
  // A document at a moment picked from the player: seek to 1:05, "use the player's time", link.
  await evaluate(`new Promise((done) => {
    const p = document.getElementById('player');
    const go = () => { p.addEventListener('seeked', () => done(), { once: true }); p.currentTime = 65; };
    if (p.readyState > 0) go(); else { p.addEventListener('loadedmetadata', go, { once: true }); p.load(); }
  })`);
  await evaluate("document.querySelector('button[data-fill-time]').click()");
  const picked = await evaluate("document.getElementById('at').value");
  await click("form[action$='/documents'] button[type=submit]");
  const linked = {
    at: await where(),
    moments: await evaluate("[...document.querySelectorAll('ul.documents a[data-t]')].map((a) => a.dataset.t)"),
  };
  await evaluate("(() => { const t = document.getElementById('title'); t.focus(); t.select(); })()");
  await type(title);
  await click("button[name=action][value=review]");
  const afterReview = {
    at: await where(),
    h1: await text("h1"),
    status: await text(".status"),
    buttons: await buttons(),
  };
  await click("form.signout button");
  const signedOut = await where();

  // The editor.
  await signIn(editor, "/studio");
  const queue = await text("a.queue");
  await shoot("queue");
  await click("a.queue");
  const listed = await evaluate("[...document.querySelectorAll('ul.episodes a')].map((a) => a.textContent)");
  await click(`ul.episodes a[href="/studio/episodes/${id}"]`);
  const editorButtons = await buttons();
  await click("button[name=action][value=publish]");
  const afterPublish = {
    at: await where(),
    status: await text(".status"),
    notice: await text("p.notice.done"),
  };
  const history = await evaluate("[...document.querySelectorAll('ol.history .by')].map((b) => b.textContent)");
  await sleep(300);
  console.log(JSON.stringify({
    contributorAt, contributorButtons, picked, linked, afterReview, signedOut, queue, listed, editorButtons,
    afterPublish, history, sideways, csp,
  }));
}

run("the studio review test", main);
