// 统计看板：按区县、按维度、季度趋势三类图（Apache ECharts，随包分发于 /static/vendor/echarts）。
// 数据来自页面内的 JSON 块（#chart-data）；同样的数字在每个指标下的表格视图中。
(function () {
  "use strict";
  var node = document.getElementById("chart-data");
  if (!node || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var charts = [];

  function bar(names, values, unit, horizontal) {
    var category = { type: "category", data: names, axisLabel: { interval: horizontal ? 0 : "auto", rotate: horizontal ? 0 : 60 } };
    var value = { type: "value", name: unit };
    return {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 120 : 50, right: 20, top: 30, bottom: horizontal ? 30 : 90 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: [{ type: "bar", data: values, name: unit }]
    };
  }

  function option(spec, kind) {
    if (kind === "by_district") {
      return bar(spec.by_district.map(function (r) { return r.name; }),
                 spec.by_district.map(function (r) { return r.value; }), spec.unit, false);
    }
    if (kind === "by_dim") {
      return bar(spec.by_dim.map(function (r) { return r.name; }),
                 spec.by_dim.map(function (r) { return r.value; }), spec.unit, true);
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: spec.trend.quarters },
      yAxis: { type: "value", name: spec.unit },
      series: spec.trend.series.map(function (s) { return { type: "line", name: s.name, data: s.values }; })
    };
  }

  document.querySelectorAll(".chart").forEach(function (el) {
    var spec = data[el.getAttribute("data-indicator")];
    if (!spec) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec, el.getAttribute("data-kind")));
    if (el.getAttribute("data-kind") === "by_district") {
      // 下钻：点击某区县的柱子，打开该区县的分解与申请清单
      chart.on("click", function (p) {
        var row = spec.by_district[p.dataIndex];
        window.location.href = "/stats/drill?indicator=" + encodeURIComponent(el.getAttribute("data-indicator")) +
          "&district=" + row.district + "&quarter=" + encodeURIComponent(spec.quarter);
      });
    }
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
