// Every studio page in headless Chromium (the shared harness, chromium.js), checked with
// axe-core (npm, pinned in package.json) against WCAG 2.1 A and AA, with screenshots at 1280 and
// 360 px kept as test artefacts. The login page first, then each PATH after signing in. Reports,
// per page, the serious and critical violations, the rules it passed (so that a page axe did not
// check shows), and whether it scrolls sideways at 360 px.
// Usage: node studio-pages.js BASE_URL EMAIL PASSWORD PORT SHOT_DIR PATH...
const fs = require("fs");
const path = require("path");

const { sleep, withChromium, run } = require("./chromium");

const axe = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, email, password, port, shotDir, ...paths] = process.argv.slice(2);

async function main() {
  await withChromium(port, ["--window-size=1280,900"], pages);
}

async function pages({ client, evaluate, navigate }) {
  const { Emulation, Page } = client;
  const report = {};
  const check = async (name) => {
    await evaluate(`${axe};0`);
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
      fs.writeFileSync(path.join(shotDir, `studio-page-${name}-${width}.png`), Buffer.from(data, "base64"));
    }
    await Emulation.clearDeviceMetricsOverride();
    report[name] = { violations, passed, sideways };
  };
  const nameOf = (p) => p.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") || "studio";

  await navigate(`${base}/studio/login`);
  await check("login");
  await evaluate(`(() => {
    document.getElementById('email').value = ${JSON.stringify(email)};
    document.getElementById('password').value = ${JSON.stringify(password)};
  })()`);
  const loaded = Page.loadEventFired();
  await evaluate("document.getElementById('password').form.requestSubmit()");
  await loaded;
  for (const p of paths) {
    await navigate(base + p);
    report[nameOf(p)] = null;
    await check(nameOf(p));
  }
  console.log(JSON.stringify(report));
}

run("the studio pages test", main);
