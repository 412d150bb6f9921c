// qdthermo explore: the page. Vanilla JS, no dependencies; every request is stateless.
"use strict";

const $ = (id) => document.getElementById(id);
const S = { presets: [], regimes: [], preset: null, values: {}, map: null, cut: null,
            mapData: null, point: null, mapVersion: 0, pointVersion: 0, mapMs: null, inFlight: 0 };
window.qdx = S;  // for tests and curious users

function tick(v) {
  if (Math.abs(v) < 1e-12) return "0";
  const a = Math.abs(v);
  return (a >= 1e4 || a < 1e-2) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

function fmt(v) {
  if (v === null || v === undefined) return "nan";
  if (typeof v === "string") return v;
  if (v === 0) return "0";
  const a = Math.abs(v);
  return (a >= 1e4 || a < 1e-3) ? v.toExponential(4) : v.toPrecision(5).replace(/\.?0+$/, "");
}

// ---------------------------------------------------------------- requests (latest wins)
function channel(path, onResult, onError) {
  // one request at a time per channel; while one runs, only the latest new query waits.
  // S.inFlight counts running and waiting requests of every channel (0: the page is up to date).
  let busy = false, pending = null;
  async function go(query) {
    if (busy) { if (!pending) S.inFlight++; pending = query; return; }
    busy = true; S.inFlight++;
    const t0 = performance.now();
    try {
      const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                       body: JSON.stringify(query) });
      const body = await resp.json();
      if (!resp.ok) onError(body.error || ("HTTP " + resp.status));
      else onResult(body, performance.now() - t0);
    } catch (e) {
      onError("no answer from the server: " + e);
    } finally {
      busy = false; S.inFlight--;
      if (pending) { const q = pending; pending = null; S.inFlight--; go(q); }
    }
  }
  return go;
}

const requestMap = channel("/api/map", (m, ms) => {
  S.mapData = m; S.mapMs = ms; S.mapVersion++;
  $("map-error").textContent = "";
  drawMaps();
  $("map-time").textContent = `${m.n}\u00d7${m.n} map: ${ms.toFixed(0)} ms (server ${(m.seconds * 1000).toFixed(0)} ms)`;
  document.body.dataset.mapVersion = S.mapVersion;
}, (err) => { showError(err, "map-error"); });

const requestPoint = channel("/api/point", (p) => {
  S.point = p; S.pointVersion++;
  clearErrors();
  renderPoint(); drawCut(); drawMaps();
  document.body.dataset.pointVersion = S.pointVersion;
}, (err) => { showError(err, "cut-error"); });

function query(withCut) {
  const q = { preset: S.preset.name, values: { ...S.values }, map: { ...S.map } };
  if (withCut) q.cut = { ...S.cut };
  return q;
}

// ---------------------------------------------------------------- errors
function fieldFor(msg) {
  for (const f of S.preset.fields) {
    if (msg.startsWith(f.name + " ") || msg.startsWith(f.name + ":") || msg.startsWith("'" + f.name + "'")
        || msg.includes("invalid parameters for preset " + S.preset.name + ": " + f.name + " ")) return f.name;
  }
  return null;
}

function showError(msg, fallback) {
  const name = fieldFor(msg);
  if (name) {
    const row = document.querySelector(`.field[data-name="${name}"]`);
    row.classList.add("bad");
    row.querySelector(".error").textContent = msg;
  } else {
    $(fallback).textContent = msg;
  }
  $("status").textContent = msg;
  $("status").className = "error";
  document.body.classList.add("stale");  // what is shown is for the last good values
}

function clearErrors() {
  for (const row of document.querySelectorAll(".field.bad")) {
    row.classList.remove("bad");
    row.querySelector(".error").textContent = "";
  }
  $("cut-error").textContent = "";
  $("status").textContent = "";
  $("status").className = "";
  document.body.classList.remove("stale");
}

// ---------------------------------------------------------------- updates
function isAxis(name) { return name === S.map.x || name === S.map.y; }

function changed(name) {
  clearErrors();
  requestPoint(query(true));
  if (!isAxis(name)) requestMap(query(false));
}

function mapChanged() {
  S.map.x = $("map-x").value; S.map.y = $("map-y").value; S.map.quantity = $("map-q").value;
  S.map.x_range = [$("map-x-lo").value, $("map-x-hi").value].map(Number);
  S.map.y_range = [$("map-y-lo").value, $("map-y-hi").value].map(Number);
  requestMap(query(false));
  requestPoint(query(true));
}

function cutChanged() {
  S.cut.param = $("cut-p").value; S.cut.quantity = $("cut-q").value;
  S.cut.range = [$("cut-lo").value, $("cut-hi").value].map(Number);
  requestPoint(query(true));
}

// ---------------------------------------------------------------- building the page
function options(select, names, selected) {
  select.innerHTML = "";
  for (const n of names) {
    const o = document.createElement("option");
    o.value = o.textContent = n;
    if (n === selected) o.selected = true;
    select.appendChild(o);
  }
}

function buildFields() {
  const box = $("params");
  box.innerHTML = "";
  for (const f of S.preset.fields) {
    const row = document.createElement("div");
    row.className = "field"; row.dataset.name = f.name;
    row.title = `${f.long_name}; allowed: ${f.range}`;
    const name = document.createElement("span");
    name.className = "name"; name.textContent = f.name;
    row.appendChild(name);
    let input;
    if (f.string) {
      if (f.choices.length) { input = document.createElement("select"); options(input, f.choices, f.value); }
      else { input = document.createElement("input"); input.type = "text"; input.value = f.value; }
      input.addEventListener("change", () => { S.values[f.name] = input.value; changed(f.name); });
      row.appendChild(document.createElement("span"));
      row.appendChild(input);
    } else {
      const slider = document.createElement("input");
      slider.type = "range"; slider.min = f.slider[0]; slider.max = f.slider[1]; slider.step = 0.01;
      slider.value = f.value; slider.setAttribute("aria-label", f.name + " slider");
      input = document.createElement("input");
      input.type = "text"; input.inputMode = "decimal"; input.value = String(f.value);
      input.setAttribute("aria-label", f.name);
      slider.addEventListener("input", () => { input.value = slider.value; S.values[f.name] = slider.value; changed(f.name); });
      input.addEventListener("change", () => {
        if (String(S.values[f.name]) === input.value) return;  // nothing new (e.g. a blur after a commit)
        S.values[f.name] = input.value;
        if (input.value.trim() !== "" && !isNaN(Number(input.value))) slider.value = input.value;
        changed(f.name);
      });
      row.appendChild(slider);
      row.appendChild(input);
    }
    input.classList.add("value");
    const units = document.createElement("span");
    units.className = "units"; units.textContent = f.units;
    row.appendChild(units);
    const err = document.createElement("div");
    err.className = "error";
    row.appendChild(err);
    box.appendChild(row);
  }
}

function selectPreset(name) {
  S.preset = S.presets.find((p) => p.name === name);
  S.values = {};
  for (const f of S.preset.fields) S.values[f.name] = f.value;
  S.map = JSON.parse(JSON.stringify(S.preset.map));
  S.cut = JSON.parse(JSON.stringify(S.preset.cut));
  S.mapData = null; S.point = null;
  $("summary").textContent = S.preset.summary + " (leads " + S.preset.leads.join(", ") + ")";
  buildFields();
  const numeric = S.preset.fields.filter((f) => !f.string).map((f) => f.name);
  options($("map-x"), numeric, S.map.x); options($("map-y"), numeric, S.map.y);
  options($("map-q"), S.preset.quantities, S.map.quantity);
  options($("cut-p"), numeric, S.cut.param);
  options($("cut-q"), S.preset.quantities.filter((q) => q !== "regime"), S.cut.quantity);
  $("map-x-lo").value = S.map.x_range[0]; $("map-x-hi").value = S.map.x_range[1];
  $("map-y-lo").value = S.map.y_range[0]; $("map-y-hi").value = S.map.y_range[1];
  $("cut-lo").value = S.cut.range[0]; $("cut-hi").value = S.cut.range[1];
  clearErrors();
  requestMap(query(false));
  requestPoint(query(true));
}

// ---------------------------------------------------------------- drawing
const MAP = { left: 46, top: 8, size: 302, bottom: 40 };

function decode(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function drawMaps() {
  const m = S.mapData, box = $("maps");
  if (!m) return;
  while (box.children.length > m.layers.length) box.removeChild(box.lastChild);
  m.layers.forEach((layer, k) => {
    let fig = box.children[k];
    if (!fig) {
      fig = document.createElement("figure");
      const c = document.createElement("canvas");
      c.width = MAP.left + MAP.size + 10; c.height = MAP.top + MAP.size + MAP.bottom;
      c.className = "map";
      fig.appendChild(c);
      fig.appendChild(document.createElement("figcaption"));
      box.appendChild(fig);
    }
    fig.querySelector("figcaption").textContent = layer.name +
      (layer.scale ? ` (${fmt(layer.scale[0])} \u2026 ${fmt(layer.scale[1])})` : "");
    drawLayer(fig.querySelector("canvas"), m, layer);
  });
  const legend = $("legend");
  legend.innerHTML = "";
  if (m.layers[0] && m.layers[0].kind === "regime") {
    for (const r of S.regimes) {
      const s = document.createElement("span");
      s.innerHTML = `<i style="background:${r.color}"></i>${r.name}`;
      legend.appendChild(s);
    }
  }
}

function drawLayer(canvas, m, layer) {
  if (!layer.pixels) {  // decode once per answer
    const codes = decode(layer.data), img = new ImageData(m.n, m.n);
    for (let i = 0; i < codes.length; i++) {
      const c = layer.lut[codes[i]];
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = c[3];
    }
    const off = document.createElement("canvas");
    off.width = off.height = m.n;
    off.getContext("2d").putImageData(img, 0, 0);
    layer.pixels = off;
  }
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingEnabled = false;
  g.drawImage(layer.pixels, MAP.left, MAP.top, MAP.size, MAP.size);
  g.strokeStyle = "#444"; g.strokeRect(MAP.left, MAP.top, MAP.size, MAP.size);
  g.fillStyle = "#222"; g.font = "12px sans-serif";
  const [x0, x1] = m.x_range, [y0, y1] = m.y_range;
  g.textAlign = "center";
  for (const t of [0, 0.5, 1]) {
    g.fillText(tick(x0 + t * (x1 - x0)), MAP.left + t * MAP.size, MAP.top + MAP.size + 14);
  }
  g.fillText(m.x, MAP.left + MAP.size / 2, MAP.top + MAP.size + 32);
  g.textAlign = "right";
  for (const t of [0, 0.5, 1]) g.fillText(tick(y0 + t * (y1 - y0)), MAP.left - 4, MAP.top + (1 - t) * MAP.size + 4);
  g.save(); g.translate(12, MAP.top + MAP.size / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
  g.fillText(m.y, 0, 0); g.restore();
  // the current point
  const px = Number(S.values[m.x]), py = Number(S.values[m.y]);
  if (isFinite(px) && isFinite(py)) {
    const u = (px - x0) / (x1 - x0), v = (py - y0) / (y1 - y0);
    if (u >= 0 && u <= 1 && v >= 0 && v <= 1) {
      const cx = MAP.left + u * MAP.size, cy = MAP.top + (1 - v) * MAP.size;
      g.lineWidth = 3; g.strokeStyle = "#fff";
      g.beginPath(); g.arc(cx, cy, 6, 0, 2 * Math.PI); g.stroke();
      g.lineWidth = 1.5; g.strokeStyle = "#000";
      g.beginPath(); g.arc(cx, cy, 6, 0, 2 * Math.PI); g.stroke();
      g.beginPath(); g.moveTo(cx - 10, cy); g.lineTo(cx + 10, cy); g.moveTo(cx, cy - 10); g.lineTo(cx, cy + 10); g.stroke();
      g.lineWidth = 1;
    }
  }
}

function drawCut() {
  const c = $("cut"), g = c.getContext("2d"), cut = S.point && S.point.cut;
  g.clearRect(0, 0, c.width, c.height);
  if (!cut) return;
  const L = 70, R = 10, T = 10, B = 40, W = c.width - L - R, H = c.height - T - B;
  const ys = cut.y.filter((y) => y !== null);
  let lo = Math.min(0, ...ys), hi = Math.max(0, ...ys);
  if (hi === lo) { hi += 1; lo -= 1; }
  const pad = 0.05 * (hi - lo); lo -= pad; hi += pad;
  const x0 = cut.x[0], x1 = cut.x[cut.x.length - 1];
  const X = (x) => L + (x - x0) / (x1 - x0) * W, Y = (y) => T + (hi - y) / (hi - lo) * H;
  g.strokeStyle = "#444"; g.strokeRect(L, T, W, H);
  g.strokeStyle = "#000"; g.setLineDash([4, 3]);
  g.beginPath(); g.moveTo(L, Y(0)); g.lineTo(L + W, Y(0)); g.stroke(); g.setLineDash([]);
  g.strokeStyle = "#4575b4"; g.lineWidth = 2; g.beginPath();
  let pen = false;
  cut.x.forEach((x, i) => {
    const y = cut.y[i];
    if (y === null) { pen = false; return; }
    if (pen) g.lineTo(X(x), Y(y)); else g.moveTo(X(x), Y(y));
    pen = true;
  });
  g.stroke(); g.lineWidth = 1;
  if (cut.x0 !== null && cut.y0 !== null && cut.x0 >= x0 && cut.x0 <= x1) {
    g.fillStyle = "#d73027"; g.beginPath(); g.arc(X(cut.x0), Y(cut.y0), 5, 0, 2 * Math.PI); g.fill();
  }
  g.fillStyle = "#222"; g.font = "12px sans-serif"; g.textAlign = "center";
  for (const t of [0, 0.5, 1]) g.fillText(tick(x0 + t * (x1 - x0)), L + t * W, T + H + 14);
  g.fillText(cut.param, L + W / 2, T + H + 32);
  g.textAlign = "right";
  for (const y of [lo, 0, hi]) g.fillText(tick(y), L - 4, Y(y) + 4);  // the ends and the zero line
  g.save(); g.translate(12, T + H / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
  g.fillText(cut.quantity, 0, 0); g.restore();
}

function table(headers, rows) {
  const esc = (s) => String(s).replace(/[&<>]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" }[ch]));
  return "<table><tr>" + headers.map((h) => `<th>${esc(h)}</th>`).join("") + "</tr>" +
    rows.map((r) => "<tr>" + r.map((c) => `<td>${esc(typeof c === "number" || c === null ? fmt(c) : c)}</td>`).join("") + "</tr>").join("") +
    "</table>";
}

function renderPoint() {
  const p = S.point;
  let html = "";
  html += "<h3>Currents (into the system)</h3>" + table(["lead", "T", "mu", "J_N", "J_E", "J_Q"],
    p.currents.map((r) => [r.lead, r.T, r.mu, r.J_N, r.J_E, r.J_Q]));
  const fl = Object.keys(p.fluxes), fo = Object.keys(p.forces);
  html += "<h3>Forces and fluxes</h3>" + table(["force", "value", "flux", "value", "regime"],
    fo.map((f, k) => [f, p.forces[f], fl[k], p.fluxes[fl[k]], p.regime ? (p.regime[fl[k]] || "") : ""]));
  html += "<h3>Entropy</h3>" + table(["quantity", "value"], Object.entries(p.thermo));
  html += "<h3>Performance</h3>" + table(["quantity", "value"], Object.entries(p.performance));
  if (!p.valid) html = "<p class='error'>no unique steady state at this point</p>" + html;
  $("point").innerHTML = html;
  $("command").textContent = p.command;
  $("download").href = "/api/netcdf?q=" + encodeURIComponent(JSON.stringify(query(false)));
}

// ---------------------------------------------------------------- start
async function start() {
  const resp = await fetch("/api/presets");
  const data = await resp.json();
  S.presets = data.presets; S.regimes = data.regimes;
  options($("preset"), S.presets.map((p) => p.name), "coupled_transport");
  $("preset").addEventListener("change", () => selectPreset($("preset").value));
  for (const id of ["map-x", "map-y", "map-q", "map-x-lo", "map-x-hi", "map-y-lo", "map-y-hi"]) {
    $(id).addEventListener("change", mapChanged);
  }
  for (const id of ["cut-p", "cut-q", "cut-lo", "cut-hi"]) $(id).addEventListener("change", cutChanged);
  $("copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText($("command").textContent));
  selectPreset($("preset").value);
}

start();
