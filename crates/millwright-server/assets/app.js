// Millwright dashboard: the small script the server-rendered pages use. It sends a page's changes to
// the /api/v1 routes (session cookie + CSRF header), draws charts with uPlot from JSON blocks the
// server wrote into the page, and follows a job's live events (EventSource reconnects by itself).
"use strict";

// An element's data-* attributes. Not `form.dataset`: a form's field named `dataset` (the API's own
// field name for a lake table) shadows that property, and the form would be sent by the browser itself.
const DATASET = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "dataset").get;
const dataOf = (el) => DATASET.call(el);

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function api(method, url, body, multipart) {
  const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
  let payload;
  if (multipart) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  const type = response.headers.get("content-type") || "";
  const data = type.startsWith("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = data && data.error ? data.error.message || data.error.code : String(data);
    throw new Error(message || response.status + " " + response.statusText);
  }
  return data;
}

// A form's fields as the JSON the API reads: data-type says how to read each (number, list, lines,
// bool, json, text); empty fields are left out so that the API's defaults apply.
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.dataset.skip !== undefined) continue;
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
      if (el.type === "checkbox" && el.dataset.type === "bool") body[el.name] = false;
      continue;
    }
    const raw = el.value.trim();
    if (raw === "" && el.dataset.type !== "bool") continue;
    let value;
    switch (el.dataset.type) {
      case "number": value = Number(raw); break;
      case "list": value = raw.split(/[,\n]/).map((s) => s.trim()).filter(Boolean); break;
      // One item per line (items that may hold commas: SQL expressions, column names).
      case "lines": value = raw.split("\n").map((s) => s.trim()).filter(Boolean); break;
      case "bool": value = el.type === "checkbox" ? el.checked : raw === "true"; break;
      case "json": value = JSON.parse(raw); break;
      default: value = el.type === "textarea" || el.tagName === "TEXTAREA" ? el.value : raw;
    }
    if (el.dataset.append !== undefined && body[el.name] !== undefined) {
      body[el.name] = [].concat(body[el.name], value);
    } else {
      body[el.name] = value;
    }
  }
  return body;
}

// Fills `{field}` in a URL from the answer's fields.
const fillUrl = (pattern, data) =>
  pattern.replace(/\{([a-z_]+)\}/g, (_, k) => encodeURIComponent(data && data[k] !== undefined ? data[k] : ""));

function after(el, data) {
  const then = dataOf(el).then || "";
  if (then === "job" && data && data.id !== undefined) {
    location.assign("/ui/jobs/" + data.id);
  } else if (then === "reload") {
    location.reload();
  } else if (then.startsWith("go:")) {
    location.assign(fillUrl(then.slice(3), data));
  } else if (then.startsWith("show:")) {
    const target = document.getElementById(then.slice(5));
    if (target) {
      target.hidden = false;
      const slot = target.querySelector("[data-slot]") || target;
      slot.textContent = typeof data === "string" ? data : data.token || JSON.stringify(data, null, 2);
    }
  }
}

function say(el, text, ok) {
  const out = el.querySelector("output") || el.parentElement.querySelector("output");
  if (!out) return;
  out.textContent = text;
  out.className = ok ? "ok" : "error";
  out.setAttribute("role", ok ? "status" : "alert");
}

async function act(el, method, url, body, multipart) {
  const attrs = dataOf(el);
  if (attrs.confirm && !confirm(attrs.confirm)) return;
  const buttons = el.tagName === "FORM" ? el.querySelectorAll("button") : [el];
  buttons.forEach((b) => (b.disabled = true));
  say(el, document.documentElement.dataset.working || "…", true);
  try {
    const data = await api(method, url, body, multipart);
    say(el, attrs.done || document.documentElement.dataset.done || "✓", true);
    after(el, data);
  } catch (e) {
    say(el, e.message, false);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const attrs = dataOf(form);
  if (!attrs.api) return;
  event.preventDefault();
  let url = attrs.api;
  let body;
  const multipart = form.enctype === "multipart/form-data";
  try {
    body = multipart ? new FormData(form) : formBody(form);
    // A multipart form's text fields fill the URL too (an upload's dataset name and mode).
    url = fillUrl(url, multipart ? Object.fromEntries(body) : body);
  } catch (e) {
    say(form, e.message, false);
    return;
  }
  act(form, attrs.method || "POST", url, body, multipart);
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-api]");
  if (!button || (button.form && dataOf(button.form).api)) return;
  const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
  act(button, button.dataset.method || "POST", button.dataset.api, body, false);
});

// ---- charts -------------------------------------------------------------------------------------

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

// spec: {x: [...], series: [{label, values}], x_label, y_label, kind: "line" | "bars" | "points",
// x_labels: optional category names for bar charts}
// A bar chart's value axis: from zero (or below, for negative bars) with a little room at the end.
function barRange(u, min, max) {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const pad = (hi - lo) * 0.05 || 1;
  return [lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0];
}

function drawChart(target, spec) {
  if (!window.uPlot || !target) return null;
  target.textContent = "";
  const width = Math.max(280, target.clientWidth - 12);
  const bars = spec.kind === "bars";
  const series = [{ label: spec.x_label || "" }].concat(
    spec.series.map((s, i) => ({
      label: s.label,
      stroke: PALETTE[i % PALETTE.length],
      fill: bars ? PALETTE[i % PALETTE.length] + "99" : undefined,
      width: 2,
      paths: bars ? uPlot.paths.bars({ size: [0.8, 60] }) : spec.kind === "points" ? () => null : undefined,
      points: { show: spec.kind === "points" || spec.x.length < 30 },
    })),
  );
  const xValues = spec.x_labels ? spec.x.map((_, i) => i) : spec.x;
  const axes = [
    {
      label: spec.x_label || "",
      values: spec.x_labels ? (u, ticks) => ticks.map((t) => spec.x_labels[t] ?? "") : undefined,
    },
    { label: spec.y_label || "" },
  ];
  const options = {
    width, height: spec.height || 260, series, axes,
    // Bars stand on categories 0..n-1 (half a category of room each side keeps the outer bars whole)
    // and grow from zero, so their heights compare.
    scales: bars
      ? { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, y: { range: barRange } }
      : { x: { time: false } },
    legend: { show: spec.series.length > 1 || !!spec.series[0]?.label },
  };
  const data = [xValues].concat(spec.series.map((s) => s.values.map((v) => (v === null ? null : Number(v)))));
  return new uPlot(options, data, target);
}

function drawStaticCharts() {
  for (const target of document.querySelectorAll("[data-chart]")) {
    const block = document.getElementById(target.dataset.chart);
    if (!block) continue;
    try {
      drawChart(target, JSON.parse(block.textContent));
    } catch (e) {
      target.textContent = e.message;
    }
  }
}

// ---- a job's live events ------------------------------------------------------------------------

function followJob(box) {
  const id = box.dataset.job;
  const states = JSON.parse(document.getElementById("job-states")?.textContent || "{}");
  const stateEl = document.getElementById("job-state");
  const stage = document.getElementById("job-stage");
  const bar = document.getElementById("job-bar");
  const count = document.getElementById("job-count");
  const note = document.getElementById("job-note");
  const banner = document.getElementById("live-status");
  const lossBox = document.getElementById("job-loss");
  const lossChart = document.getElementById("job-loss-chart");
  let loss = { x: [], train: [], val: [] };
  let plot = null;
  let total = null;

  const drawLoss = () => {
    lossBox.hidden = false;
    const spec = {
      x: loss.x, x_label: box.dataset.labelEpoch, y_label: box.dataset.labelLoss, kind: "line",
      series: [{ label: box.dataset.labelTrain, values: loss.train }, { label: box.dataset.labelVal, values: loss.val }],
    };
    if (plot) {
      plot.setData([loss.x, loss.train, loss.val]);
    } else {
      plot = drawChart(lossChart, spec);
    }
    lossChart.dataset.points = String(loss.x.length);
  };

  const source = new EventSource("/api/v1/jobs/" + id + "/events");
  source.addEventListener("open", () => {
    banner.hidden = true;
    // The stream replays the job's events from its start: begin the curve again.
    loss = { x: [], train: [], val: [] };
  });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) banner.hidden = false;
  });
  source.addEventListener("progress", (message) => {
    const e = JSON.parse(message.data).event;
    if (e.event === "stage") {
      stage.textContent = e.name;
      total = e.total;
      bar.max = total || 1;
      bar.value = 0;
      count.textContent = "";
    } else if (e.event === "advance") {
      bar.value = e.done;
      count.textContent = total ? e.done + " / " + total : String(e.done);
    } else if (e.event === "note") {
      note.textContent = e.text;
    } else if (e.event === "point" && e.curve === "loss") {
      loss.x.push(e.x);
      loss.train.push(e.values.train ?? null);
      loss.val.push(e.values.val ?? null);
      drawLoss();
    }
  });
  source.addEventListener("state", (message) => {
    const e = JSON.parse(message.data);
    stateEl.dataset.state = e.state;
    stateEl.textContent = states[e.state] || e.state;
    if (["succeeded", "failed", "cancelled"].includes(e.state)) {
      source.close();
      // The finished job's result is rendered by the server.
      setTimeout(() => location.reload(), 400);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  drawStaticCharts();
  const job = document.getElementById("job");
  if (job && job.dataset.final === "false") followJob(job);
});

// ---- twin: the line file editor (dash-twin) -----------------------------------------------------
// The server checked the text and names the line and column of the first error: put the caret there.
document.addEventListener("DOMContentLoaded", () => {
  const area = document.querySelector("textarea[data-error-line]");
  if (!area) return;
  const line = Number(area.dataset.errorLine);
  const column = Number(area.dataset.errorColumn || 1);
  const lines = area.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset = Math.min(area.value.length, offset + Math.max(0, column - 1));
  area.focus();
  area.setSelectionRange(offset, Math.min(area.value.length, offset + 1));
  const height = parseFloat(getComputedStyle(area).lineHeight) || 18;
  area.scrollTop = Math.max(0, (line - 4) * height);
});
