// Refreshes the page's <main> in place every data-refresh seconds, so that a reader keeps
// their scroll position; the page works the same without it (reload to update). Unticking
// the box stops it, remembered per browser; a hidden tab does not refresh.
(function () {
  "use strict";
  var toggle = document.getElementById("refresh-toggle");
  var box = document.getElementById("autorefresh");
  var every = Number(document.body.dataset.refresh) * 1000;
  if (!toggle || !box || !(every > 0) || !window.fetch || !window.DOMParser) return;
  toggle.hidden = false;
  box.checked = localStorage.getItem("edgetel.autorefresh") !== "off";
  box.addEventListener("change", function () {
    localStorage.setItem("edgetel.autorefresh", box.checked ? "on" : "off");
  });
  setInterval(function () {
    if (!box.checked || document.hidden) return;
    fetch(location.href, { cache: "no-store" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var main = doc.getElementById("main"), updated = doc.getElementById("updated");
      if (main) document.getElementById("main").replaceWith(main);
      if (updated) document.getElementById("updated").replaceWith(updated);
    }).catch(function () { /* the next tick tries again */ });
  }, every);
})();
