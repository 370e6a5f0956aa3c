/* The bureau dashboard's charts (templates/overview/bureau_statistics.html).
   The figures come from the page itself (json_script "dashboard-data", the same as its tables);
   Apache ECharts is vendored in static/vendor/echarts. No inline script: a CSP can forbid them. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var L = data.labels;
  var colours = {
    not_submitted: "#adb5bd", awaiting_firm: "#f0ad4e", awaiting_bureau: "#0dcaf0",
    returned: "#dc3545", approved: "#198754", submitted: "#0a58ca",
    compliance_rate: "#198754", abnormal_rate: "#dc3545", certified_rate: "#6f42c1",
    trained_rate: "#0a58ca"
  };
  var charts = [];

  function draw(id, option, rows) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (rows) { el.style.height = Math.max(160, 70 + 30 * rows) + "px"; }  // one bar a row
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(Object.assign({
      animation: false,
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true }
    }, option));
    charts.push(chart);
  }

  function series(keys, block, extra) {
    return keys.map(function (key) {
      return Object.assign({
        name: L[key], type: "bar", stack: "total", data: block[key], barMaxWidth: 24,
        itemStyle: { color: colours[key] }, emphasis: { focus: "series" }
      }, extra || {});
    });
  }

  var stagesWithNot = ["not_submitted"].concat(data.stages);

  if (data.days.x.length) {
    draw("chart-days", {
      xAxis: { type: "category", data: data.days.x, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1 },
      series: series(data.stages, data.days, {
        type: "line", areaStyle: {}, symbol: "none", lineStyle: { width: 1 }
      }).concat([{
        name: L.submitted, type: "line", data: data.days.submitted, symbol: "none",
        lineStyle: { type: "dashed", color: colours.submitted }, itemStyle: { color: colours.submitted }
      }])
    });
  }
  if (data.areas.x.length) {
    draw("chart-areas", {
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.areas.x, inverse: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      series: series(stagesWithNot, data.areas)
    }, data.areas.x.length);
    draw("chart-rates", {
      xAxis: { type: "category", data: data.areas.x, axisLabel: { interval: 0, rotate: data.areas.x.length > 6 ? 40 : 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true, valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      series: ["compliance_rate", "abnormal_rate", "certified_rate", "trained_rate"].map(function (key) {
        return { name: L[key], type: "bar", data: data.areas[key], barMaxWidth: 24, itemStyle: { color: colours[key] } };
      })
    });
  }
  if (data.firms.x.length) {
    draw("chart-firms", {
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.firms.x, inverse: true, axisLabel: { width: 140, overflow: "truncate" } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      series: series(stagesWithNot, data.firms)
    }, data.firms.x.length);
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
