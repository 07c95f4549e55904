// The studio's "new episode" page in headless Chromium (over DevTools, chrome-remote-interface):
// signs in, gives the file field a large file (DOM.setFileInputFiles), cuts the network
// (Network.emulateNetworkConditions offline) at about 40 % for 3 s and waits for the upload to
// go on by itself and finish; then a second file, the page reloaded at about 40 %: the page lists
// the unfinished upload with the server's offset, the same file chosen again resumes it (its
// first PATCH after the reload starts at that offset, and no new upload is created). Reports
// what it saw as JSON, with every Content Security Policy message. Screenshots at 1280 and
// 360 px of the page with the probe shown.
// Usage: node studio-upload.js BASE_URL EMAIL PASSWORD PORT SHOT_DIR PAGE_PATH FILE1 FILE2
const fs = require("fs");
const path = require("path");

const { sleep, withChromium, run } = require("./chromium");

const [base, email, password, port, shotDir, pagePath, file1, file2] = process.argv.slice(2);

async function main() {
  await withChromium(port, ["--window-size=1280,900"], drive);
}

async function drive({ client, evaluate, navigate, csp }) {
  const { Page, Network, DOM, Emulation } = client;
  await Network.enable();
  const requests = [];
  Network.requestWillBeSent(({ request }) => {
    if (request.url.includes("/api/v1/uploads")) {
      const h = request.headers;
      requests.push({
        method: request.method,
        url: request.url,
        offset: h["Upload-Offset"] ?? h["upload-offset"] ?? null,
        at: Date.now(),
      });
    }
  });
  const online = (yes) =>
    Network.emulateNetworkConditions({
      offline: !yes, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
    });
  const waitFor = async (what, expression, ms) => {
    const until = Date.now() + ms;
    for (;;) {
      const value = await evaluate(expression);
      if (value) return value;
      if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
      await sleep(25);
    }
  };
  const choose = async (file) => {
    const { root } = await DOM.getDocument({ depth: -1 });
    const { nodeId } = await DOM.querySelector({ nodeId: root.nodeId, selector: "#file" });
    await DOM.setFileInputFiles({ nodeId, files: [file] });
  };
  const item = (n) => `document.querySelectorAll('#queue li.upload')[${n}]`;
  // The fraction of the file the page has sent, as its progress says.
  const sent = (n, size) => evaluate(`(${item(n)} && Number(${item(n)}.dataset.sent || 0)) / ${size}`);
  const finished = async (n) => {
    await waitFor(`upload ${n} done`, `${item(n)} && ${item(n)}.dataset.state === 'done' &&
      !!${item(n)}.querySelector('section.probe')`, 60_000);
    return evaluate(`(() => { const li = ${item(n)}; const p = li.querySelector('section.probe');
      return { media: li.dataset.media, heading: p.querySelector('h2').textContent,
        title: p.querySelector('input[name=title]').value,
        date: p.querySelector('input[name=date]').value,
        facts: p.querySelector('dl.facts').textContent.replace(/\\s+/g, ' ') }; })()`);
  };

  // Signing in, sent back to the page.
  await navigate(`${base}${pagePath}`);
  const loginPage = await evaluate("location.pathname");
  await evaluate(`document.getElementById('email').value = ${JSON.stringify(email)};
    document.getElementById('password').value = ${JSON.stringify(password)}; true`);
  const landed = Page.loadEventFired();
  await evaluate("document.querySelector('main form').submit(); true");
  await landed;
  const page = await evaluate("location.pathname");
  const h1 = await evaluate("document.querySelector('h1').textContent");
  const enhanced = await evaluate("document.getElementById('upload-button').hidden");

  // 1. The network cut at about 40 % for 3 s.
  const size1 = fs.statSync(file1).size;
  const started1 = Date.now();
  await choose(file1);
  await waitFor("40 % of the first file", `${item(0)} && Number(${item(0)}.dataset.sent || 0) >= ${size1 * 0.4}`, 60_000);
  await online(false);
  const cutAt = await sent(0, size1);
  await sleep(3000);
  const whileOffline = {
    state: await evaluate(`${item(0)}.dataset.state`),
    onLine: await evaluate("navigator.onLine"),
    status: await evaluate(`${item(0)}.querySelector('.status').textContent`),
  };
  await online(true);
  const first = await finished(0);
  first.seconds = (Date.now() - started1) / 1000;
  first.requests = requests.length;

  const shoot = async (name, width) => {
    await Emulation.setDeviceMetricsOverride({ width, height: 900, deviceScaleFactor: 1, mobile: width < 500 });
    await sleep(150);
    const sideways = await evaluate("document.documentElement.scrollWidth > window.innerWidth");
    const { data } = await Page.captureScreenshot({ format: "png" });
    fs.writeFileSync(path.join(shotDir, `${name}-${width}.png`), Buffer.from(data, "base64"));
    return sideways;
  };
  const sideways = { probe360: await shoot("studio-upload", 360), probe1280: await shoot("studio-upload", 1280) };
  await Emulation.clearDeviceMetricsOverride();

  // 2. The page reloaded at about 40 % of a second file.
  const size2 = fs.statSync(file2).size;
  await choose(file2);
  await waitFor("40 % of the second file", `${item(1)} && Number(${item(1)}.dataset.sent || 0) >= ${size2 * 0.4}`, 60_000);
  const beforeReload = await sent(1, size2);
  const stored = await evaluate(`Object.keys(localStorage).filter((k) => k.startsWith('tus::'))
    .map((k) => JSON.parse(localStorage.getItem(k)))`);
  const reloaded = Page.loadEventFired();
  await Page.reload({ ignoreCache: false });
  await reloaded;
  const reloadAt = Date.now();
  // The page lists what it remembers, with the server's offset (its HEAD).
  await waitFor("the unfinished upload listed", "document.querySelector('#resume-list li[data-offset]')", 15_000);
  const listed = await evaluate(`(() => { const li = document.querySelector('#resume-list li');
    return { upload: li.dataset.upload, offset: Number(li.dataset.offset), text: li.textContent,
      hidden: document.getElementById('resume').hidden }; })()`);
  // And the server says so too.
  const server = await evaluate(`fetch(${JSON.stringify(listed.upload)}, { credentials: 'same-origin' })
    .then((r) => r.json())`);
  await choose(file2);
  const second = await finished(0);
  const after = requests.filter((r) => r.at >= reloadAt);
  const firstPatch = after.find((r) => r.method === "PATCH");
  const resumed = await evaluate(`${item(0)}.dataset.resumed || null`);
  const resumeListGone = await evaluate("document.getElementById('resume').hidden");
  await sleep(200);
  console.log(JSON.stringify({
    loginPage, page, h1, enhanced, cutAt, whileOffline, first, sideways,
    reload: {
      beforeReload, stored: stored.map((s) => s.uploadUrl), listed,
      serverOffset: server.offset, serverComplete: server.complete,
      firstPatchOffset: firstPatch ? Number(firstPatch.offset) : null,
      postsAfterReload: after.filter((r) => r.method === "POST").length,
      resumed, resumeListGone,
    },
    second, csp,
  }));
}

run("the studio upload browser test", main);
