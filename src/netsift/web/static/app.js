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
        zoomable(div, spec);
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
  /* Time charts with data-zoom: zoomed in (drag, range slider), the chart asks the server for the range
     shown in the bucket that suits it (minutes instead of hours) and draws those steps; zoomed out
     (double click: autorange), it draws the whole chart again. data-bucket names the bucket drawn. */
  function zoomable(div, spec) {
    var url = div.getAttribute("data-zoom");
    if (!url || !div.on) { return; }
    var own = false, timer = null, asked = 0;
    function redraw(data, layout, bucket) {
      own = true;
      Plotly.react(div, data, layout, config).then(function () {
        own = false;
        if (bucket) { div.setAttribute("data-bucket", bucket); } else { div.removeAttribute("data-bucket"); }
      });
    }
    div.on("plotly_relayout", function (event) {
      if (own) { return; }
      if (event["xaxis.autorange"]) { asked += 1; redraw(spec.data, spec.layout, null); return; }
      var range = event["xaxis.range"] || [event["xaxis.range[0]"], event["xaxis.range[1]"]];
      if (range[0] === undefined || range[1] === undefined) { return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        var ticket = ++asked;
        var query = "from=" + encodeURIComponent(range[0]) + "&to=" + encodeURIComponent(range[1]);
        fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + query, {credentials: "same-origin"}).then(function (resp) {
          return resp.ok ? resp.json() : null;
        }).then(function (doc) {
          if (!doc || !doc.figure || ticket !== asked) { return; }  // a later zoom wins
          var fig = JSON.parse(doc.figure), layout = JSON.parse(JSON.stringify(div.layout));
          if (layout.yaxis && fig.layout.yaxis) { layout.yaxis.title = fig.layout.yaxis.title; }  // "per minute"
          layout.xaxis.range = range;
          layout.xaxis.autorange = false;
          if (layout.xaxis.rangeslider) { layout.xaxis.rangeslider.range = range; }
          redraw(fig.data, layout, doc.bucket);
        });
      }, 250);
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
