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
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
