/* Draws an answer's structured view (flows.views.AnswerView): the verdict strip, the card's text,
 * the cost table, a timeline picture (inline SVG) and the sources. Every string goes in as text. */
(function () {
  "use strict";

  var VERDICTS = {
    yes: { mark: "✅", label: "可以补缴" },
    conditional: { mark: "⚠️", label: "有条件补缴" },
    no: { mark: "❌", label: "不能补缴" },
    nothing_due: { mark: "✅", label: "无需补缴" }
  };
  // Timeline points in the order they happen; `phase` colours the stretch that starts there.
  var POINTS = [
    { key: "gap_start", label: "断缴开始", phase: "gap" },
    { key: "paid_on", label: "补缴/续缴", phase: "wait" },
    { key: "waiting_ends", label: "等待期满", phase: "ok" },
    { key: "benefits_resume", label: "恢复报销", phase: "ok" }
  ];
  var PHASE_NAMES = { gap: "断缴期", wait: "等待期", ok: "可以报销" };

  function strip(view, el) {
    var verdict = VERDICTS[view.verdict] || { mark: "ℹ️", label: "" };
    var box = el("div", "strip verdict-" + (VERDICTS[view.verdict] ? view.verdict : "unknown"));
    box.appendChild(el("span", "verdict", verdict.mark + " " + verdict.label));
    box.appendChild(el("span", "tag " + (view.local_rule ? "local" : "national"),
      view.local_rule ? "本地规定" : "全国一般做法"));
    if (view.confidence) box.appendChild(el("span", "tag confidence", "依据：" + view.confidence));
    if (view.changed && view.changed.length) box.appendChild(el("span", "tag changed", "已更新"));
    return box;
  }

  // The row drawn as what is owed: what the person pays when the employer pays the rest (an
  // employer-caused gap's 合计 is not the person's), else the 合计.
  function owedRow(rows) {
    var person = rows.filter(function (row) { return /^个人需交/.test(row[0]); });
    return person.length ? person[0] : rows.filter(function (row) { return /^合计/.test(row[0]); })[0];
  }

  function costTable(rows, verdict, el) {
    var table = el("table", "cost");
    // A conditional answer's cost only applies if the back-payment is allowed; the card says "如可补缴".
    table.appendChild(el("caption", null, verdict === "conditional" ? "费用明细（估算，如可补缴）" : "费用明细（估算）"));
    var body = el("tbody");
    var owed = owedRow(rows);
    rows.forEach(function (row) {
      var kind = row === owed ? "total" : /^合计/.test(row[0]) ? "subtotal" : /未计入/.test(row[0]) ? "aside" : null;
      var tr = el("tr", kind);
      var th = el("th", null, row[0]);
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", null, row[1]));
      body.appendChild(tr);
    });
    table.appendChild(body);
    var wrap = el("div", "table-wrap");
    wrap.appendChild(table);
    return wrap;
  }

  function timeline(dates, el, svg) {
    // The day benefits resume ends the waiting period; its last day is drawn only when no resume day is known.
    var keys = POINTS.filter(function (p) {
      return typeof dates[p.key] === "string" && !(p.key === "waiting_ends" && dates.benefits_resume);
    });
    // A resume day without a waiting period's end: the card says 不设等待期 (benefits from the
    // next month), so the stretch before it is not drawn as a wait.
    var noWait = typeof dates.paid_on === "string" && typeof dates.benefits_resume === "string" &&
      typeof dates.waiting_ends !== "string";
    var points = keys.map(function (p) {
      var phase = noWait && p.key === "paid_on" ? "ok" : p.phase;
      return { key: p.key, label: p.label, phase: phase, date: dates[p.key] };
    });
    if (points.length < 2) return null;
    var last = points[points.length - 1];
    // Drawn about as wide as a phone shows it, so its words stay readable (wider only when a date
    // would touch the next one); the "可以报销" stretch after the last point needs room of its own.
    var left = 40, tail = last.phase === "ok" ? 88 : 40, minStep = 86, y = 30, H = 84;
    var W = Math.max(300, left + (points.length - 1) * minStep + tail);
    var step = (W - tail - left) / (points.length - 1);
    var words = points.map(function (p) { return p.label + " " + p.date; }).join("，") + (noWait ? "，不设等待期" : "");
    var picture = svg("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
      "aria-label": "时间线：" + words, "class": "timeline", preserveAspectRatio: "xMinYMid meet" });
    picture.appendChild(svg("title", {}, "时间线：" + words));
    points.forEach(function (p, i) {
      var x = left + i * step;
      var end = i + 1 < points.length ? left + (i + 1) * step : (p.phase === "ok" ? W - 6 : x);
      if (end === x) return;
      picture.appendChild(svg("line", { x1: x, y1: y, x2: end, y2: y, "class": "seg " + p.phase }));
      // No payment day (a "no"): from the gap straight to the resume day, via a new enrolment's wait.
      var after = points[i + 1];
      var name = p.key === "gap_start" && after && after.key !== "paid_on" ? "断缴 · 重新参保后等待"
        : noWait && p.key === "paid_on" ? "不设等待期" : PHASE_NAMES[p.phase];
      picture.appendChild(svg("text", { x: (x + end) / 2, y: y - 10, "class": "phase",
        "text-anchor": "middle" }, name));
    });
    points.forEach(function (p, i) {
      var x = left + i * step;
      picture.appendChild(svg("circle", { cx: x, cy: y, r: 6, "class": "dot " + p.phase }));
      picture.appendChild(svg("text", { x: x, y: y + 25, "text-anchor": "middle", "class": "label" }, p.label));
      picture.appendChild(svg("text", { x: x, y: y + 43, "text-anchor": "middle", "class": "date" }, p.date));
    });
    var figure = el("figure", "timeline-box");
    figure.appendChild(picture);
    return figure;
  }

  function sources(list, el) {
    var box = el("details", "sources");
    box.appendChild(el("summary", null, "依据（" + list.length + " 条）"));
    var items = el("ol");
    list.forEach(function (source) {
      var li = el("li");
      li.appendChild(el("span", "source-title", source[0]));
      if (source[1]) li.appendChild(el("span", "source-confidence", source[1]));
      items.appendChild(li);
    });
    box.appendChild(items);
    return box;
  }

  // A paragraph of plain text whose dates ("2025-07-01") never break at their hyphens: a phone
  // would otherwise show "约2025-" on one line and "07-01起可报销" on the next.
  function textBlock(tag, className, text, el) {
    var block = el(tag, className);
    String(text).split(/(\d{4}-\d{2}-\d{2})/).forEach(function (part, i) {
      if (!part) return;
      block.appendChild(i % 2 ? el("span", "nobreak", part) : document.createTextNode(part));
    });
    return block;
  }

  function draw(view, text, el, svg) {
    var card = el("section", "card");
    card.appendChild(strip(view, el));
    card.appendChild(textBlock("p", "text", text, el));
    // What is drawn is what the view says: a "no" comes with no cost rows and no paying day
    // (flows/render.py decides; tests/flows/test_dialog_card.py holds it as a property).
    if (view.cost_rows && view.cost_rows.length) card.appendChild(costTable(view.cost_rows, view.verdict, el));
    var picture = timeline(view.timeline || {}, el, svg);
    if (picture) card.appendChild(picture);
    if (view.sources && view.sources.length) card.appendChild(sources(view.sources, el));
    return card;
  }

  window.YBView = { draw: draw, textBlock: textBlock };
})();
