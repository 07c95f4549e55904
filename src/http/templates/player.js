// Seeks the page's player when a moment link (data-t) is followed, and on load when the address
// ends in #t=SECONDS (the permanent link of a moment). Draws the recording's waveform under the
// player (canvas#waveform, audiowaveform JSON): the part played shaded, the documents' moments
// marked, a click seeks there. In the studio's editor, fills a moment field from the player.
// Served by Siaran as a file under a name that carries its hash
// (see src/http/assets.rs): pages allow no inline script.
(function () {
  var p = document.getElementById('player');
  if (!p) return;
  function at(t) {
    t = +t;
    if (!(t >= 0)) return;
    if (p.readyState > 0) {
      p.currentTime = t;
    } else {
      p.addEventListener('loadedmetadata', function () { p.currentTime = t; }, { once: true });
      p.load();
    }
  }
  // The studio's "use the player's time": fills the moment field the button names with where
  // the player is, as m:ss (h:mm:ss past an hour).
  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-fill-time]');
    var field = b && document.getElementById(b.dataset.fillTime);
    if (!field) return;
    var s = Math.floor(p.currentTime), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    function two(n) { return (n < 10 ? '0' : '') + n; }
    field.value = (h ? h + ':' + two(m) : m) + ':' + two(s % 60);
    field.focus();
  });
  document.addEventListener('click', function (e) {
    var a = e.target.closest('a[data-t]');
    if (!a) return;
    e.preventDefault();
    at(a.dataset.t);
    history.replaceState(null, '', '#t=' + a.dataset.t);
    var r = p.play();
    if (r) r.catch(function () {});
  });
  function fromHash() {
    var m = location.hash.match(/t=([0-9.]+)/);
    if (m) at(m[1]);
  }
  fromHash();
  window.addEventListener('hashchange', fromHash);

  var c = document.getElementById('waveform');
  if (!c || !c.getContext || !window.fetch) return;
  var peaks = null;
  var moments = [].map.call(document.querySelectorAll('ul.documents a[data-t]'), function (a) {
    return +a.dataset.t;
  });
  function total() {
    return p.duration > 0 && isFinite(p.duration) ? p.duration : +c.dataset.duration / 1000;
  }
  function draw() {
    if (!peaks) return;
    var r = window.devicePixelRatio || 1;
    var w = Math.round(c.clientWidth * r), h = Math.round(c.clientHeight * r);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    var g = c.getContext('2d'), d = peaks.data, n = peaks.length, len = total();
    var perSecond = peaks.sample_rate / peaks.samples_per_pixel;
    var scale = peaks.bits === 8 ? 128 : 32768, mid = h / 2;
    var played = len > 0 ? p.currentTime / len * w : 0;
    g.clearRect(0, 0, w, h);
    for (var x = 0; x < w; x++) {
      var i0 = Math.floor(x / w * len * perSecond);
      var i1 = Math.min(n, Math.max(i0 + 1, Math.floor((x + 1) / w * len * perSecond)));
      var lo = 0, hi = 0;
      for (var i = i0; i < i1; i++) {
        if (d[2 * i] < lo) lo = d[2 * i];
        if (d[2 * i + 1] > hi) hi = d[2 * i + 1];
      }
      var top = mid - hi / scale * mid, bottom = mid - lo / scale * mid;
      g.fillStyle = x < played ? '#1f5f99' : '#a3b8cc';
      g.fillRect(x, top, 1, Math.max(r, bottom - top));
    }
    g.fillStyle = '#b3261e';
    moments.forEach(function (t) {
      if (len > 0) g.fillRect(Math.round(t / len * w), 0, Math.max(1, Math.round(2 * r)), h);
    });
    c.dataset.drawn = n;
  }
  fetch(c.dataset.src).then(function (res) {
    return res.ok ? res.json() : null;
  }).then(function (json) {
    if (json && json.data) { peaks = json; draw(); }
  }).catch(function () {});
  c.addEventListener('click', function (e) {
    var b = c.getBoundingClientRect(), len = total();
    if (len > 0 && b.width > 0) at((e.clientX - b.left) / b.width * len);
  });
  ['timeupdate', 'seeked', 'loadedmetadata'].forEach(function (ev) { p.addEventListener(ev, draw); });
  window.addEventListener('resize', draw);
})();
