// xmargin dashboard: fills the server-rendered page from the read-only JSON endpoints and
// keeps it current from /v1/events. The API key lives in sessionStorage and travels only
// in the Authorization header. Text from the server is set with textContent, never as HTML.
"use strict";
(() => {
  const KEY = "xmargin.key";
  const $ = (sel) => document.querySelector(sel);
  const page = document.body.dataset.page;
  const ACCOUNT = document.body.dataset.account || null;
  const MAX_EVENTS = 100;
  let session = null;
  let lastEventId = null;
  let streamCtl = null;

  // -- formatting -----------------------------------------------------------------------
  const NF = {
    money: new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 }),
    moneyFull: new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    whole: new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }),
    count: new Intl.NumberFormat("en-US"),
    price: new Intl.NumberFormat("en-US", { maximumSignificantDigits: 8 }),
    units: new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 }),
  };
  function fmt(kind, v) {
    if (v === null || v === undefined || v === "") return "–";
    const x = Number(v);
    switch (kind) {
      case "money": return Math.abs(x) >= 1e6 ? NF.money.format(x) : Math.abs(x) >= 1000 ? NF.whole.format(x) : NF.moneyFull.format(x);
      case "count": return NF.count.format(x);
      case "price": return NF.price.format(x);
      case "units": return NF.units.format(x);
      case "hf": return x.toFixed(4);
      case "pct": return (x * 100).toFixed(2) + "%";
      case "signed-pct": return (x >= 0 ? "+" : "") + (x * 100).toFixed(2) + "%";
      case "age": return x < 90 ? x.toFixed(0) + " s" : x < 5400 ? (x / 60).toFixed(0) + " min" : (x / 3600).toFixed(1) + " h";
      default: return String(v);
    }
  }
  const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj);
  function fill(root, data) {
    for (const el of root.querySelectorAll("[data-f]")) {
      const v = get(data, el.dataset.f);
      el.textContent = fmt(el.dataset.kind, v);
      el.title = v == null ? "" : String(v);
    }
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = c instanceof Node ? el("td") : el("td", c.text, c.cls);
      if (c instanceof Node) td.append(c);
      if (c.title) td.title = c.title;
      tr.append(td);
    }
    return tr;
  }
  const num = (kind, v, extra) => ({ text: fmt(kind, v), cls: "n" + (extra ? " " + extra : ""), title: v == null ? "" : String(v) });
  function accountCell(id) {
    if (!session || !["admin", "liquidator"].includes(session.role)) return el("span", id);
    const a = el("a", id);
    a.href = "/accounts/" + encodeURIComponent(id);
    return a;
  }
  function setRows(table, rows) {
    const tbody = $(table + " tbody");
    tbody.replaceChildren(...rows);
    if (!rows.length) tbody.append(row([{ text: "none", cls: "muted" }]));
  }
  function showError(msg) {
    const b = $("#error");
    b.textContent = msg || "";
    b.hidden = !msg;
  }

  // -- the key and the API --------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  const key = () => sessionStorage.getItem(KEY);
  async function api(path) {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + key(), Accept: "application/json" }, cache: "no-store" });
    const data = await r.json().catch(() => null);
    if (!r.ok) {
      const err = (data && data.error) || { code: "http_" + r.status, message: r.statusText };
      if (r.status === 401) askKey(err.message);
      throw new ApiError(r.status, err.code, err.message);
    }
    return data;
  }
  function askKey(message) {
    sessionStorage.removeItem(KEY);
    if (streamCtl) streamCtl.abort();
    $("#key-error").textContent = message || "";
    const d = $("#key-dialog");
    if (!d.open) d.showModal();
    $("#key-input").focus();
  }
  $("#key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = $("#key-input").value.trim();
    if (!k) return;
    sessionStorage.setItem(KEY, k);
    $("#key-input").value = "";
    $("#key-dialog").close();
    start();
  });
  $("#key-dialog").addEventListener("cancel", (ev) => ev.preventDefault());
  $("#logout").addEventListener("click", () => { askKey(""); location.reload(); });
  $("#goto-account").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = new FormData(ev.target).get("account").trim();
    if (id) location.assign("/accounts/" + encodeURIComponent(id));
  });

  // -- the live stream: fetch (to send the key as a header), parsed as SSE, reconnecting --
  function setLive(on, text) {
    const l = $("#live");
    l.className = "live " + (on ? "on" : "off");
    l.textContent = text || (on ? "live" : "offline");
  }
  function parseBlock(block) {
    let id = null, kind = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(":")) continue;
      const c = line.indexOf(":");
      const field = c < 0 ? line : line.slice(0, c);
      let v = c < 0 ? "" : line.slice(c + 1);
      if (v.startsWith(" ")) v = v.slice(1);
      if (field === "id") id = v;
      else if (field === "event") kind = v;
      else if (field === "data") data.push(v);
    }
    if (id !== null) lastEventId = id;
    if (!data.length) return;
    let payload;
    try { payload = JSON.parse(data.join("\n")); } catch { return; }
    onEvent(kind, payload);
  }
  async function stream() {
    let delay = 250;
    while (key()) {
      const ctl = new AbortController();
      streamCtl = ctl;
      try {
        const headers = { Authorization: "Bearer " + key(), Accept: "text/event-stream" };
        if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
        const r = await fetch("/v1/events", { headers, signal: ctl.signal, cache: "no-store" });
        if (r.status === 401) { askKey("the key was refused"); return; }
        if (!r.ok) throw new Error("HTTP " + r.status);
        setLive(true);
        delay = 250;
        refresh();  // catch up on whatever happened while disconnected
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let m;
          while ((m = /\r?\n\r?\n/.exec(buf))) {
            parseBlock(buf.slice(0, m.index));
            buf = buf.slice(m.index + m[0].length);
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      setLive(false, "reconnecting");
      await new Promise((res) => setTimeout(res, delay + Math.random() * 250));
      delay = Math.min(delay * 2, 8000);
    }
  }

  // -- events ---------------------------------------------------------------------------
  function describe(kind, d) {
    switch (kind) {
      case "prices": return Object.entries(d.prices).map(([a, p]) => a + " " + fmt("price", p)).join(", ");
      case "risk_level": return d.account + ": " + d.from + " → " + d.to + (d.health_factor ? " (health " + fmt("hf", d.health_factor) + ")" : "");
      case "liquidation": return d.account + " liquidated: repaid " + fmt("units", d.repaid) + " " + d.debt_asset + ", seized " + fmt("units", d.seized) + " " + d.collateral_asset;
      case "bad_debt": return d.account + ": bad debt written off, " + Object.entries(d.assets).map(([a, u]) => fmt("units", u) + " " + a).join(", ");
      case "price_rejected": return d.asset + " " + fmt("price", d.price) + " refused: " + d.message;
      case "asset_params": return d.asset + ": parameters changed";
      default: return JSON.stringify(d);
    }
  }
  function onEvent(kind, d) {
    if (kind === "lagged") return;
    const li = el("li", null, "ev ev-" + kind);
    const t = d.at ? new Date(d.at) : new Date();
    li.append(el("time", t.toLocaleTimeString("en-GB")), el("span", kind.replace("_", " "), "kind"), el("span", describe(kind, d), "what"));
    const list = $("#events");
    list.prepend(li);
    while (list.children.length > MAX_EVENTS) list.lastChild.remove();
    if (kind === "prices" && page === "overview") addPrices(d);
    schedule();
  }
  let timer = null, running = false, dirty = false;
  function schedule() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, 120);
  }
  async function refresh() {
    if (running) { dirty = true; return; }
    running = true;
    try {
      do {
        dirty = false;
        await (page === "overview" ? loadOverview() : loadAccount());
      } while (dirty);
      showError("");
    } catch (e) {
      showError(e.message);
    } finally {
      running = false;
    }
  }

  // -- the overview ---------------------------------------------------------------------
  const history = {};  // asset -> {x: [...dates], y: [...prices]}
  let overview = null;
  let mapAsset = null;
  function addPrices(d) {
    for (const [a, p] of Object.entries(d.prices)) {
      const h = (history[a] = history[a] || { x: [], y: [] });
      h.x.push(new Date(d.at));
      h.y.push(Number(p));
    }
  }
  async function loadHistory() {
    const h = await api("/v1/prices/history?limit=2000");
    for (const [a, pts] of Object.entries(h.assets)) {
      history[a] = { x: pts.map((p) => new Date(p.at)), y: pts.map((p) => Number(p.price)) };
    }
  }
  function renderPrices(o) {
    setRows("#prices", o.prices.map((p) => row([
      { text: p.asset }, num("price", p.price), { text: "", cls: "n age", title: p.price_at || "" },
      p.stale ? el("span", "stale", "badge s-liquidatable") : el("span", ""),
    ])));
    for (const [i, p] of o.prices.entries()) $("#prices tbody").children[i].dataset.at = p.price_at || "";
    tickAges();
  }
  function tickAges() {
    for (const tr of document.querySelectorAll("#prices tbody tr")) {
      const cell = tr.querySelector(".age");
      if (!cell) continue;
      cell.textContent = tr.dataset.at ? fmt("age", Math.max(0, (Date.now() - Date.parse(tr.dataset.at)) / 1000)) : "never";
    }
  }
  function capCell(use, cap) {
    if (cap == null) return { text: "no cap", cls: "muted" };
    const span = el("span", null, "cap");
    const bar = el("span", null, "bar");
    const fillBar = el("span", null, "fill" + (Number(use) >= 0.9 ? " hot" : ""));
    fillBar.style.width = Math.min(100, Number(use) * 100).toFixed(1) + "%";
    bar.append(fillBar);
    span.append(bar, el("span", fmt("pct", use)));
    span.title = "cap " + cap;
    return span;
  }
  function renderExposure(o) {
    setRows("#exposure", o.exposure.map((e) => row([
      { text: e.asset }, num("money", e.supply_value), num("money", e.borrow_value), num("pct", e.utilization),
      capCell(e.supply_cap_use, e.supply_cap), capCell(e.borrow_cap_use, e.borrow_cap), capCell(e.debt_ceiling_use, e.debt_ceiling),
      { text: e.suppliers.largest ? e.suppliers.largest + " " + fmt("pct", e.suppliers.largest_share) : "–", title: "HHI " + (e.suppliers.hhi || "–") },
      num("pct", e.suppliers.top5_share), num("money", e.deficit_value, Number(e.deficit) > 0 ? "bad" : ""),
    ])));
  }
  function renderTables(o) {
    setRows("#queue", o.queue.map((q) => row([accountCell(q.account), num("hf", q.health_factor, q.insolvent ? "bad" : "warn"), num("money", q.debt_value), num("money", q.collateral_value)])));
    setRows("#nearest", o.nearest.map((n) => row([accountCell(n.account), num("hf", n.health_factor), num("money", n.debt_value)])));
  }
  const LAYOUT = { margin: { l: 56, r: 16, t: 8, b: 36 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { size: 12 }, showlegend: false };
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtons: [["toImage"]] };
  function renderHealth(o) {
    const labels = o.health.map((b) => (b.high === null ? "≥" + b.low : Number(b.low) === 0 ? "<" + b.high : b.low + "–" + b.high));
    const colors = o.health.map((b) => (Number(b.low) < 1 ? "#c0392b" : Number(b.low) < 1.1 ? "#e69b00" : "#2e8b57"));
    Plotly.react("health-chart", [{ type: "bar", x: labels, y: o.health.map((b) => b.accounts), marker: { color: colors },
      customdata: o.health.map((b) => fmt("money", b.debt_value)), hovertemplate: "health %{x}<br>%{y} accounts<br>debt %{customdata}<extra></extra>" }],
      { ...LAYOUT, margin: { ...LAYOUT.margin, b: 64 }, xaxis: { title: { text: "health factor" }, type: "category", tickangle: -45, tickfont: { size: 10 } }, yaxis: { title: { text: "accounts" } } }, CONFIG);
  }
  async function renderMap() {
    if (!mapAsset) return;
    const m = await api("/v1/liquidation-map/" + encodeURIComponent(mapAsset) + "?bins=30");
    const h = history[mapAsset] || { x: [], y: [] };
    const now = new Date();
    const x = h.x.length ? h.x.concat([now]) : [now];
    const y = h.y.length ? h.y.concat([Number(m.price)]) : [Number(m.price)];
    const mid = m.bins.map((b) => (Number(b.price_low) + Number(b.price_high)) / 2);
    const width = m.bins.length ? Number(m.bins[0].price_high) - Number(m.bins[0].price_low) : 1;
    Plotly.react("price-chart", [
      { type: "scatter", mode: "lines+markers", x, y, line: { shape: "hv", color: "#1f5fa8" }, marker: { size: 4 }, name: "price", hovertemplate: "%{y}<extra>" + mapAsset + "</extra>" },
      { type: "bar", orientation: "h", xaxis: "x2", y: mid, x: m.bins.map((b) => Number(b.collateral_value)), width: width * 0.9,
        marker: { color: "#c0392b" }, opacity: 0.75, name: "liquidatable collateral",
        customdata: m.bins.map((b) => [b.accounts, fmt("money", b.cumulative_collateral_value)]),
        hovertemplate: "at %{y:.6g}: %{x:,.0f} " + m.quote + " of collateral<br>%{customdata[0]} accounts; %{customdata[1]} from today down<extra></extra>" },
    ], { ...LAYOUT,
      xaxis: { domain: [0, 0.68], type: "date", title: { text: "time" } },
      xaxis2: { domain: [0.72, 1], anchor: "y", title: { text: "collateral liquidatable (" + m.quote + ")" }, rangemode: "tozero" },
      yaxis: { title: { text: mapAsset + " price (" + m.quote + ")" }, range: [Number(m.price) * (1 - Number(m.depth)) * 0.98, Math.max(Number(m.price), ...y) * 1.03] },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: Number(m.price), y1: Number(m.price), line: { dash: "dot", color: "#555", width: 1 } }],
    }, CONFIG);
    $("#map-note").textContent = "Bars: collateral that becomes liquidatable as " + mapAsset + " falls to each price (other prices fixed), from every account's liquidation price. Liquidatable now: " +
      m.liquidatable_now + " accounts (" + fmt("money", m.liquidatable_now_collateral_value) + " " + m.quote + "); below " + fmt("price", m.bins.length ? m.bins[m.bins.length - 1].price_low : m.price) + ": " + m.below_range + " more.";
  }
  async function loadOverview() {
    const o = await api("/v1/overview");
    overview = o;
    fill($("main"), o);
    $("#fund-card").hidden = o.totals.insurance_fund === null;
    $("#market-name").textContent = (o.market || "market") + " · " + o.quote;
    const sel = $("#map-asset");
    if (!sel.options.length) {
      for (const e of o.exposure) sel.append(new Option(e.asset, e.asset));
      const exposed = o.exposure.slice().sort((a, b) => Number(b.supply_value) - Number(a.supply_value));
      mapAsset = exposed.length ? exposed[0].asset : null;
      sel.value = mapAsset;
    }
    renderPrices(o);
    renderExposure(o);
    renderTables(o);
    renderHealth(o);
    await renderMap();
    document.body.dataset.seq = String(o.journal_seq);
  }
  $("#map-asset") && $("#map-asset").addEventListener("change", (ev) => { mapAsset = ev.target.value; renderMap().catch((e) => showError(e.message)); });

  // -- the account page -----------------------------------------------------------------
  async function loadAccount() {
    const r = await api("/v1/accounts/" + encodeURIComponent(ACCOUNT) + "/risk");
    fill($("main"), r);
    const badge = $("#account-status");
    badge.textContent = r.health.status.replace("_", " ");
    badge.className = "badge s-" + r.health.status;
    $("#account-category").textContent = r.category ? "category " + r.category : "";
    $("#market-name").textContent = "values in " + r.quote;
    setRows("#positions", r.positions.map((p) => row([
      { text: p.asset }, num("price", p.price), num("units", p.supply), num("units", p.borrow),
      num("money", Number(p.supply_value) - Number(p.borrow_value)), num("units", p.liquidation_threshold),
      num("units", p.maintenance_borrow_weight), num("price", p.liquidation_price), num("signed-pct", p.liquidation_change),
    ])));
    const sel = $("#wi-asset");
    if (!sel.options.length) {
      for (const p of r.positions) sel.append(new Option(p.asset, p.asset));
    }
    $("#whatif").hidden = !r.positions.length;
    await whatIf();
  }
  async function whatIf() {
    const asset = $("#wi-asset").value;
    const pct = Number($("#wi-shock").value);
    $("#wi-shock-out").textContent = (pct >= 0 ? "+" : "") + pct + "%";
    if (!asset) return;
    const q = new URLSearchParams({ shock: asset + "=" + pct + "%" });
    const w = await api("/v1/accounts/" + encodeURIComponent(ACCOUNT) + "/what-if?" + q);
    $("#wi-price").textContent = fmt("price", w.prices[asset]) + " (" + (pct >= 0 ? "+" : "") + pct + "%)";
    $("#wi-hf").textContent = fmt("hf", w.before.health_factor) + " → " + fmt("hf", w.after.health_factor);
    $("#wi-collateral").textContent = fmt("money", w.before.collateral_value) + " → " + fmt("money", w.after.collateral_value);
    const st = $("#wi-status");
    st.textContent = w.after.status.replace("_", " ");
    st.className = "badge s-" + w.after.status;
    const l = w.liquidation;
    $("#wi-liquidation").textContent = l
      ? "liquidates: repay " + fmt("units", l.repaid) + " " + l.debt_asset + ", seize " + fmt("units", l.seized) + " " + l.collateral_asset +
        (Object.keys(l.bad_debt).length ? "; bad debt " + Object.entries(l.bad_debt).map(([a, u]) => fmt("units", u) + " " + a).join(", ") : "")
      : w.refused || "not liquidatable";
  }
  let wiTimer = null;
  function whatIfSoon() {
    clearTimeout(wiTimer);
    wiTimer = setTimeout(() => whatIf().catch((e) => showError(e.message)), 60);
  }
  if (page === "account") {
    $("#wi-shock").addEventListener("input", whatIfSoon);
    $("#wi-asset").addEventListener("change", whatIfSoon);
  }

  // -- start ----------------------------------------------------------------------------
  async function start() {
    if (!key()) { askKey(""); return; }
    try {
      session = await api("/v1/session");
    } catch (e) {
      if (e.status !== 401) showError(e.message);
      return;
    }
    $("#who").textContent = session.role + (session.account ? " · " + session.account : "");
    $("#logout").hidden = false;
    if (page === "overview" && !session.sees_book) {
      location.replace("/accounts/" + encodeURIComponent(session.account));
      return;
    }
    try {
      if (page === "overview") await loadHistory();
      await refresh();
    } catch (e) {
      showError(e.message);
    }
    stream();
  }
  setInterval(tickAges, 1000);
  start();
})();
