// Drives headless Chromium (Debian's `chromium`) over the DevTools protocol
// (chrome-remote-interface, npm): opens an episode page, plays the briefing, clicks the first
// document moment and reports where the player went, then how the waveform under the player is
// drawn and where a click on it sends the player; then opens the page's permanent link of a
// moment (#t=SECONDS) and reports where the player starts. Then the embeddable player at a
// moment, and the show's feed as a browser shows it (the page the server makes of it). Reports
// whether each page's style file applied, and every Content Security Policy message the browser
// logged (pages allow no inline script or style). Saves a screenshot.
// Usage: node browser.js PAGE_URL SCREENSHOT.png PORT MOMENT_SECONDS EMBED_URL FEED_URL
const fs = require("fs");
const http = require("http");

const { sleep, withChromium, run } = require("./chromium");

const [pageUrl, shot, port, moment, embedUrl, feedUrl] = process.argv.slice(2);

async function main() {
  await withChromium(
    port,
    [
      "--mute-audio", "--autoplay-policy=no-user-gesture-required",
      // Chromium's notice that XSLT is deprecated is an element with inline style and an inline
      // event handler, which the feed page's policy refuses (logged as violations of ours).
      "--disable-features=GenerateXSLTWarningBanner",
      "--window-size=900,1400",
    ],
    visit,
  );
}

async function visit({ client, evaluate, navigate, csp }) {
  const { Page, Runtime } = client;
  const open = async (url) => {
    await navigate(url);
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

  // The waveform under the player: drawn from the recording's peaks, the document's moment
  // marked on it; a real click at three quarters of its width seeks the player there.
  const waveform = await evaluate(`new Promise((ok) => {
    const c = document.getElementById('waveform');
    if (!c) return ok(null);
    const look = (tries) => {
      if (!c.dataset.drawn && tries < 100) return setTimeout(() => look(tries + 1), 100);
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
      const p = document.getElementById('player');
      const at = Number(document.querySelector('ul.documents a[data-t]').dataset.t);
      const x = Math.round(at / p.duration * c.width);
      let marked = false;
      for (let dx = -2; dx <= 2; dx++) {
        for (let y = 0; y < c.height; y++) {
          const i = (y * c.width + x + dx) * 4;
          if (d[i] > 150 && d[i + 1] < 80 && d[i + 2] < 80 && d[i + 3] > 0) marked = true;
        }
      }
      const b = c.getBoundingClientRect();
      ok({ drawn: Number(c.dataset.drawn || 0), inked: inked / (c.width * c.height), marked,
           duration: p.duration, x: b.left + b.width * 0.75, y: b.top + b.height / 2 });
    };
    look(0);
  })`);
  if (waveform) {
    const { x, y } = waveform;
    await client.Input.dispatchMouseEvent({ type: "mousePressed", x, y, button: "left", clickCount: 1 });
    await client.Input.dispatchMouseEvent({ type: "mouseReleased", x, y, button: "left", clickCount: 1 });
    waveform.afterClick = await waitFor(waveform.duration * 0.75);
  }
  const { data } = await Page.captureScreenshot({ format: "png" });
  fs.writeFileSync(shot, Buffer.from(data, "base64"));

  // A new document (a query), not a same-page jump, which would fire no load event.
  await open(`${pageUrl}?lang=id#t=${moment}`);
  const fromLink = await waitFor(Number(moment));
  // The style file applied (46rem wide pages).
  const pageStyled = await evaluate("getComputedStyle(document.body).maxWidth");

  // The embeddable player, at a moment, with its own styles.
  await open(`${embedUrl}#t=${moment}`);
  const embedFrom = await waitFor(Number(moment));
  const embedStyled = await evaluate("getComputedStyle(document.body).marginTop");

  // Another site (another port, so another origin) frames the embed and a page: the embed
  // loads there, the page is refused. Its refusal is the one violation expected here,
  // reported apart.
  const before = csp.length;
  const site = http.createServer((req, res) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(`<!DOCTYPE html><iframe src="${embedUrl}"></iframe><iframe src="${pageUrl}"></iframe>`);
  });
  await new Promise((ok) => site.listen(0, "127.0.0.1", ok));
  const framed = Page.loadEventFired();
  await Page.navigate({ url: `http://127.0.0.1:${site.address().port}/` });
  await framed;
  await sleep(500);
  site.close();
  // Does each frame hold a player? Asked in a world of our own inside it (it is another
  // origin than the framing page).
  const frames = [];
  const { frameTree } = await Page.getFrameTree();
  for (const { frame } of frameTree.childFrames || []) {
    const { executionContextId } = await Page.createIsolatedWorld({ frameId: frame.id });
    const { result } = await Runtime.evaluate({
      expression: "!!document.getElementById('player')", contextId: executionContextId,
      returnByValue: true,
    });
    // A refused frame shows Chromium's error page instead.
    frames.push({ url: frame.url, player: result.value });
  }
  const framingRefused = csp.splice(before);

  // The feed's address as a browser opens it: the page the server makes of it.
  const loaded = Page.loadEventFired();
  await Page.navigate({ url: feedUrl });
  await loaded;
  const feed = await evaluate(`(() => {
    const h1 = document.querySelector('h1'), address = document.querySelector('aside input');
    return { h1: h1 && h1.textContent, players: document.querySelectorAll('audio, video').length,
             address: address && address.value, styled: getComputedStyle(document.body).maxWidth };
  })()`);
  await sleep(300); // for the last page's messages
  console.log(JSON.stringify({ playedTo, clicked: Number(clicked), afterClick, paused, hash,
    waveform, fromLink, pageStyled, embedFrom, embedStyled, frames, framingRefused, feed, csp }));
}

run("the browser test", main);
