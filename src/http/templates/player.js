// Seeks the page's player when a moment link (data-t) is followed, and on load when the address
// ends in #t=SECONDS (the permanent link of a moment). Served by Siaran as a file under a name
// that carries its hash (see src/http/assets.rs): pages allow no inline script.
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
})();
