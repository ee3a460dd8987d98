/* netsift dashboard: draw every figure embedded in the page (JSON in <script type="application/json">),
   and open a domain's page when its node in the infrastructure graph is clicked. No inline scripts: the
   Content-Security-Policy allows only this file and plotly.min.js. */
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true, topojsonURL: "/static/topojson/",
                modeBarButtonsToRemove: ["sendDataToCloud"]};
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (div) {
      var source = document.getElementById(div.getAttribute("data-figure"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      Plotly.newPlot(div, spec.data, spec.layout, config).then(function () {
        div.setAttribute("data-drawn", "1");
      });
      div.on && div.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && point.customdata;
        if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") {
          window.location.href = url;
        }
      });
    });
  }
  /* Live pages (netsift watch --serve): the server sends the watcher's health and a generation number
     (bumped when rows are stored or an analysis ends) as server-sent events; the health line is updated,
     and when the generation moved the page's <main> is fetched again and swapped in (at most every 2 s). */
  function live() {
    var url = document.body.getAttribute("data-live");
    if (!url || !window.EventSource) { return; }
    var shown = parseInt(document.body.getAttribute("data-generation") || "0", 10);
    var fetching = false, lastFetch = 0, wanted = shown;
    function text(h) {
      var parts = [h.events_per_second + " events/s", h.rows + " rows", h.rejected + " rejected",
                   h.alerts + " alerts"];
      if (h.last_alert) {
        parts.push("last alert " + h.last_alert.time + " " + h.last_alert.severity + " " + h.last_alert.kind);
      }
      return "live: " + parts.join(" · ");
    }
    function refresh() {
      if (fetching || wanted === shown) { return; }
      var wait = 2000 - (Date.now() - lastFetch);
      if (wait > 0) { setTimeout(refresh, wait); return; }
      fetching = true; lastFetch = Date.now();
      var target = wanted;
      fetch(window.location.href, {credentials: "same-origin"}).then(function (resp) {
        return resp.ok ? resp.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        var main = document.querySelector("main");
        if (next && main) {
          main.querySelectorAll("[data-drawn]").forEach(function (div) { window.Plotly && Plotly.purge(div); });
          main.innerHTML = next.innerHTML;
          main.setAttribute("data-generation", String(target));
          draw();
        }
        shown = target;
      }).finally(function () { fetching = false; if (wanted !== shown) { setTimeout(refresh, 100); } });
    }
    var source = new EventSource(url);
    source.onmessage = function (event) {
      var doc = JSON.parse(event.data);
      var line = document.getElementById("live-health");
      if (line) { line.textContent = text(doc.health); }
      wanted = doc.generation;
      refresh();
    };
  }
  function start() { draw(); live(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
