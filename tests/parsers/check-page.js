// The public clip check page, /cek, in headless Chromium (the shared harness, chromium.js): the
// form checked with axe-core against WCAG 2.1 A and AA, then a file given to its field
// (DOM.setFileInputFiles) and the form submitted as a person would (a plain multipart POST, no
// script of the page's), and the result page checked the same way. Reports, per page, the
// serious and critical violations, the rules it passed, whether it scrolls sideways at 360 px,
// and of the result its heading, summary and Content Security Policy messages. Screenshots at
// 1280 and 360 px are kept as test artefacts.
// Usage: node check-page.js BASE_URL PORT SHOT_DIR FILE
const fs = require("fs");
const path = require("path");

const { withChromium, run, audit } = require("./chromium");

const [base, port, shotDir, file] = process.argv.slice(2);

async function main() {
  await withChromium(port, ["--window-size=1280,900"], pages);
}

async function pages({ client, evaluate, navigate, csp }) {
  const { DOM, Page } = client;
  await DOM.enable();
  const report = {};
  const check = async (name) => {
    const title = await evaluate("document.title");
    const h1 = await evaluate("document.querySelector('h1') && document.querySelector('h1').textContent");
    const { violations, passed, sideways } = await audit({ client, evaluate }, (width) =>
      path.join(shotDir, `check-page-${name}-${width}.png`),
    );
    report[name] = { title, h1, violations, passed, sideways };
  };

  // Indonesian asked for by the link (headless Chromium sends Accept-Language: en-US); the
  // form carries it to the result.
  await navigate(`${base}/cek?lang=id`);
  await check("form");
  const { root } = await DOM.getDocument({ depth: -1 });
  const { nodeId } = await DOM.querySelector({ nodeId: root.nodeId, selector: "#clip" });
  await DOM.setFileInputFiles({ nodeId, files: [file] });
  const loaded = Page.loadEventFired();
  await evaluate("document.getElementById('clip').form.requestSubmit()");
  await loaded;
  await check("result");
  report.result.summary = await evaluate(
    "document.querySelector('#result .summary') && document.querySelector('#result .summary').textContent");
  report.csp = csp;
  console.log(JSON.stringify(report));
}

run("the clip check page test", main);
