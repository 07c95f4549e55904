// Every studio page in headless Chromium (the shared harness, chromium.js), checked with
// axe-core (npm, pinned in package.json) against WCAG 2.1 A and AA, with screenshots at 1280 and
// 360 px kept as test artefacts. The login page first, then each PATH after signing in. Reports,
// per page, the serious and critical violations, the rules it passed (so that a page axe did not
// check shows), and whether it scrolls sideways at 360 px.
// Usage: node studio-pages.js BASE_URL EMAIL PASSWORD PORT SHOT_DIR PATH...
const fs = require("fs");
const path = require("path");

const { withChromium, run, audit } = require("./chromium");

const [base, email, password, port, shotDir, ...paths] = process.argv.slice(2);

async function main() {
  await withChromium(port, ["--window-size=1280,900"], pages);
}

async function pages({ client, evaluate, navigate }) {
  const { Page } = client;
  const report = {};
  const check = async (name) => {
    const { violations, passed, sideways } = await audit({ client, evaluate }, (width) =>
      path.join(shotDir, `studio-page-${name}-${width}.png`),
    );
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
