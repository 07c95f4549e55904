// The studio's "new episode" page (http/studio/upload.rs): files chosen in the field or dropped
// on the page are uploaded one after another through tus (the vendored tus-js-client, `tus`),
// with the session's cookie, to the API's /api/v1/uploads/. Each shows its progress, speed and
// time left; a dropped network is retried by tus-js-client and, once the browser is online
// again, resumed; after a reload the page lists the uploads it remembers (tus-js-client's
// fingerprints in localStorage) with how far the server has them, and choosing the same file
// again resumes it. A finished file shows the page's own rendering of its probe and draft form
// (GET ...?media=ID). Without this module the field posts the file as a plain form.
"use strict";

const form = document.getElementById("upload-form");
const en = document.documentElement.lang === "en";
const say = (id, english) => (en ? english : id);
// What the page last saw sent of an upload, by its address (see the list of unfinished ones).
const SENT = "siaran-sent::";

function start() {
  if (!form || !window.tus || !tus.isSupported) return;
  const endpoint = new URL(form.dataset.endpoint, location.href).href;
  const pagePath = form.dataset.page;
  const input = document.getElementById("file");
  const queueList = document.getElementById("queue");
  document.getElementById("upload-button").hidden = true;
  input.required = false;

  const queue = [];
  let busy = false;
  let current = null;

  const options = {
    endpoint,
    // No chunkSize: the whole file in one PATCH. The server keeps a cut body up to its last
    // byte, so a cut or a reload loses nothing it received, and a body that reaches the end is
    // written once, straight into the media file (service::uploads). Chunks would each cost a
    // round trip and be copied again into that file at the end.
    retryDelays: [0, 1000, 2000, 4000, 8000, 15000, 30000, 60000],
    removeFingerprintOnSuccess: true,
    headers: { "Accept-Language": en ? "en" : "id" },
  };

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const mb = (bytes) => {
    const text = (bytes / 1e6).toFixed(1);
    return `${en ? text : text.replace(".", ",")} MB`;
  };
  const clock = (seconds) => {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  };

  function enqueue(file) {
    const bar = el("progress", { max: 100, value: 0 });
    const status = el("span", { className: "status" }, say("Menunggu giliran", "Waiting"));
    const li = el("li", { className: "upload" }, el("strong", {}, file.name), " ", bar, " ", status);
    bar.setAttribute("aria-label", `${say("Kemajuan unggahan", "Upload progress")} ${file.name}`);
    queueList.append(li);
    queue.push({ file, li, bar, status });
    pump();
  }

  function pump() {
    if (busy || !queue.length) return;
    busy = true;
    const item = queue.shift();
    send(item).finally(() => {
      busy = false;
      current = null;
      pump();
    });
  }

  // Speed over the last few seconds, not since the start: a resumed upload's earlier bytes
  // came in another period.
  function meter(item, sent, total) {
    const now = performance.now();
    const samples = (item.samples ||= []);
    samples.push([now, sent]);
    while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
    const [t0, b0] = samples[0];
    const rate = now > t0 ? ((sent - b0) * 1000) / (now - t0) : 0;
    const pct = total ? Math.floor((sent / total) * 100) : 0;
    item.bar.value = pct;
    item.li.dataset.sent = String(sent);
    const parts = [`${pct}%`, `${mb(sent)} / ${mb(total)}`];
    if (rate > 0) {
      parts.push(`${mb(rate)}/s`);
      parts.push(`${clock((total - sent) / rate)} ${say("lagi", "left")}`);
    }
    item.status.textContent = parts.join(" · ");
  }

  function failure(err) {
    const res = err && err.originalResponse;
    if (res) {
      try {
        const body = JSON.parse(res.getBody());
        if (body && body.message) return { status: res.getStatus(), text: body.message };
      } catch {
        // Not our JSON: the status alone.
      }
      return { status: res.getStatus(), text: `HTTP ${res.getStatus()}` };
    }
    return { status: 0, text: say("Jaringan terputus", "The network is down") };
  }

  function send(item) {
    return new Promise((resolve) => {
      item.li.dataset.state = "uploading";
      const upload = new tus.Upload(item.file, {
        ...options,
        metadata: { filename: item.file.name, filetype: item.file.type || "application/octet-stream" },
        onProgress: (sent, total) => {
          meter(item, sent, total);
          if (upload.url) localStorage.setItem(SENT + upload.url, String(sent));
        },
        onSuccess: ({ lastResponse }) => {
          localStorage.removeItem(SENT + upload.url);
          const media = lastResponse && lastResponse.getHeader("Siaran-Media-Id");
          item.li.dataset.state = "done";
          item.bar.value = 100;
          item.status.textContent = say("Selesai diunggah", "Uploaded");
          showProbe(item, media).finally(resolve);
        },
        onError: (err) => {
          const { status, text } = failure(err);
          if (!navigator.onLine || status === 0 || status >= 500) {
            // Waits for the network, or for the person (a retry button).
            item.li.dataset.state = "waiting";
            item.status.textContent = navigator.onLine
              ? `${text}. `
              : `${say("Menunggu jaringan", "Waiting for the network")}…`;
            if (navigator.onLine) {
              const again = el("button", { type: "button" }, say("Coba lagi", "Try again"));
              again.addEventListener("click", () => {
                again.remove();
                item.li.dataset.state = "uploading";
                upload.start();
              });
              item.status.append(again);
            }
            return;
          }
          item.li.dataset.state = "failed";
          item.status.textContent = text;
          item.status.setAttribute("role", "alert");
          resolve();
        },
      });
      current = { item, upload };
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          item.li.dataset.resumed = previous[0].uploadUrl;
          forget(previous[0].uploadUrl);
        }
        upload.start();
      });
    });
  }

  // Back online: an upload that gave up while offline goes on from the server's offset.
  window.addEventListener("online", () => {
    if (current && current.item.li.dataset.state === "waiting") {
      current.item.li.dataset.state = "uploading";
      current.item.status.textContent = say("Melanjutkan…", "Resuming…");
      current.upload.start();
    }
  });

  async function showProbe(item, media) {
    if (!media) return;
    item.li.dataset.media = media;
    // The file may be in just as the network drops (a PATCH under way is not cut by it): ask
    // again until it is back.
    let res;
    for (let wait = 1000; !res; wait = Math.min(wait * 2, 30000)) {
      try {
        res = await fetch(`${pagePath}?media=${encodeURIComponent(media)}`, {
          credentials: "same-origin",
        });
      } catch {
        item.status.textContent = `${say("Selesai diunggah", "Uploaded")} · ${say(
          "menunggu jaringan",
          "waiting for the network",
        )}…`;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    item.status.textContent = say("Selesai diunggah", "Uploaded");
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const section = doc.getElementById(`probe-${media}`);
    if (section) item.li.append(document.importNode(section, true));
  }

  input.addEventListener("change", () => {
    for (const file of input.files) enqueue(file);
    input.value = "";
  });
  form.addEventListener("submit", (e) => e.preventDefault());

  // Files dropped anywhere on the page join the queue.
  document.addEventListener("dragover", (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
      e.preventDefault();
      document.body.classList.add("dropping");
    }
  });
  document.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) document.body.classList.remove("dropping");
  });
  document.addEventListener("drop", (e) => {
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    document.body.classList.remove("dropping");
    for (const file of e.dataTransfer.files) enqueue(file);
  });

  // The uploads this browser remembers and has not finished: how far the server has each.
  const resume = document.getElementById("resume");
  const resumeList = document.getElementById("resume-list");
  function forget(url) {
    for (const li of resumeList.querySelectorAll("li")) {
      if (li.dataset.upload === url) li.remove();
    }
    if (!resumeList.children.length) resume.hidden = true;
  }
  tus.defaultOptions.urlStorage.findAllUploads().then(async (stored) => {
    for (const upload of stored) {
      if (!upload.uploadUrl || !upload.uploadUrl.startsWith(endpoint)) continue;
      const name = (upload.metadata && upload.metadata.filename) || "?";
      const li = el("li", {}, el("strong", {}, name), " ");
      li.dataset.upload = upload.uploadUrl;
      const status = el("span", { className: "status" }, mb(upload.size));
      li.append(status);
      resumeList.append(li);
      resume.hidden = false;
      const head = () =>
        fetch(upload.uploadUrl, {
          method: "HEAD",
          credentials: "same-origin",
          headers: { "Tus-Resumable": "1.0.0" },
        });
      try {
        let res = await head();
        // The PATCH the reload cut is stored a moment after this page asks: while the server
        // is behind what the page had sent, ask again (for 3 s at most: bytes still in the
        // connection when it was cut never arrive).
        const sent = Number(localStorage.getItem(SENT + upload.uploadUrl) || 0);
        for (let i = 0; i < 12 && res.ok && Number(res.headers.get("Upload-Offset")) < sent; i++) {
          await new Promise((r) => setTimeout(r, 250));
          res = await head();
        }
        if (!res.ok) {
          // Finished elsewhere, expired or removed: nothing to resume.
          tus.defaultOptions.urlStorage.removeUpload(upload.urlStorageKey);
          localStorage.removeItem(SENT + upload.uploadUrl);
          li.remove();
          continue;
        }
        const offset = Number(res.headers.get("Upload-Offset"));
        li.dataset.offset = String(offset);
        const pct = upload.size ? Math.floor((offset / upload.size) * 100) : 0;
        status.textContent = `${pct}% · ${mb(offset)} / ${mb(upload.size)}`;
      } catch {
        // Offline: the size alone.
      }
    }
    if (!resumeList.children.length) resume.hidden = true;
  });
}

start();
