/* sol15 dashboard: REST snapshots on (re)connect, then the /ws feed; controls over REST with the token. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "sol15.apiToken";
  const MAX_SIGNALS = 60;
  const MAX_EVENTS = 60;

  const state = {
    status: null,
    skew: 0, // server clock − this browser's clock, seconds
    window: null,
    selected: null, // the ticker picked in the live-markets table (null: the current market)
    spot: null,
    book: null,
    charts: { spot: [], yes_mid: [], model: [], signals: [], pnl: [] },
    performance: null, // /api/performance, from the ledger
    curve: "hourly", // the equity curve's buckets: hourly | daily
    limits: null, // /api/risk/limits
    signals: [],
    trades: [],
    events: [],
    actors: null,
    rendered: {}, // last rendered content per section, to skip needless DOM work
    open: new Set(), // <details> the user opened, kept open across re-renders
  };

  // -- small helpers ----------------------------------------------------------------------

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return el;
  }

  const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));
  function money(v, digits = 2) {
    const n = num(v);
    if (!Number.isFinite(n)) return "—";
    const text = "$" + Math.abs(n).toFixed(digits);
    return n < 0 ? "−" + text : text;
  }
  function pct(v) {
    const n = num(v);
    return Number.isFinite(n) ? (n * 100).toFixed(1) + "%" : "—";
  }
  /* A price or index level: 2 to 4 decimals, as many as it has (74.81070833 → 74.8107, 188.25 → 188.25). */
  function price(v) {
    const n = num(v);
    if (!Number.isFinite(n)) return "—";
    const text = n.toFixed(4).replace(/0{1,2}$/, "");
    return text;
  }
  function signedPrice(v) {
    const n = num(v);
    if (!Number.isFinite(n)) return "—";
    return (n > 0 ? "+" : n < 0 ? "−" : "") + price(Math.abs(n));
  }
  /* A metric value for humans: long fractions rounded, everything else as sent. */
  function metric(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "boolean") return v ? "yes" : "no";
    const n = typeof v === "number" || (typeof v === "string" && /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(v)) ? Number(v) : NaN;
    if (Number.isFinite(n)) return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  /* A <details> whose open state survives the list being rebuilt. */
  function details(key, cls, summary, ...children) {
    const el = h("details", { class: cls, open: state.open.has(key) }, h("summary", { text: summary }), ...children);
    el.addEventListener("toggle", () => (el.open ? state.open.add(key) : state.open.delete(key)));
    return el;
  }
  function hms(ts) {
    if (!Number.isFinite(ts)) return "—";
    const d = new Date(ts * 1000);
    return [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((x) => String(x).padStart(2, "0")).join(":");
  }
  const serverNow = () => Date.now() / 1000 + state.skew;
  const tone = (v) => (num(v) > 0 ? "pos" : num(v) < 0 ? "neg" : "");

  /* KXSOL15M-26JAN010015-15 → 26JAN010015-15: the series prefix is the same on every row. */
  function ticker(full) {
    const short = String(full || "").replace(/^KXSOL15M-/, "");
    return h("td", { class: "mono", title: full, text: short || "—" });
  }

  function replace(target, nodes) {
    target.replaceChildren(...nodes);
    if (target.tagName === "TBODY") labelCells(target);
  }

  /* Each cell carries its column's name: a table too wide for its card shows its rows as
     stacked cards (style.css), every field under its label, instead of cutting columns off. */
  function labelCells(body) {
    const head = body.closest("table").tHead;
    const names = head ? [...head.rows[0].cells].map((th) => th.textContent.trim()) : [];
    for (const row of body.rows) {
      [...row.cells].forEach((td, i) => {
        if (names[i] && td.colSpan === 1) td.dataset.label = names[i];
      });
    }
  }

  /* Run `fn` at most every `ms`, always with the latest call's effect. */
  function throttle(fn, ms) {
    let timer = null;
    let last = 0;
    return function () {
      if (timer) return;
      const wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    };
  }

  function changed(section, value) {
    const key = JSON.stringify(value);
    if (state.rendered[section] === key) return false;
    state.rendered[section] = key;
    return true;
  }

  function toast(title, text, level = "info") {
    const box = h("div", { class: "toast " + level, role: "status" }, h("div", { class: "tt", text: title }), text ? h("div", { class: "muted", text }) : null);
    $("toasts").appendChild(box);
    setTimeout(() => box.remove(), level === "error" || level === "critical" ? 9000 : 5000);
    while ($("toasts").children.length > 4) $("toasts").firstChild.remove();
  }

  // -- REST and the token -----------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token; // beyond loopback reads need it too
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data = null;
    try {
      data = await res.json();
    } catch (_) {
      data = null;
    }
    return { ok: res.ok, status: res.status, data };
  }

  async function getJSON(path) {
    try {
      const res = await api("GET", path);
      return res.ok ? res.data : null;
    } catch (_) {
      return null;
    }
  }

  function askToken() {
    const dialog = $("token-dialog");
    const input = $("token-input");
    input.value = "";
    return new Promise((resolve) => {
      const done = (value) => {
        $("token-form").removeEventListener("submit", onSubmit);
        $("token-cancel").removeEventListener("click", onCancel);
        if (dialog.open) dialog.close();
        resolve(value);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        done(token || null);
      };
      const onCancel = () => done(null);
      $("token-form").addEventListener("submit", onSubmit);
      $("token-cancel").addEventListener("click", onCancel);
      dialog.showModal();
      input.focus();
    });
  }

  async function control(path, label, method = "POST", body = undefined) {
    let res;
    try {
      res = await api(method, path, body);
      if (res.status === 401) {
        const token = await askToken();
        if (!token) return res;
        res = await api(method, path, body);
        reconnectNow(); // the feed may now use the token too
      }
    } catch (err) {
      toast(label + " failed", "the server is unreachable", "error");
      return { ok: false, status: 0, data: null };
    }
    if (!res.ok) {
      const message = (res.data && res.data.error && res.data.error.message) || "HTTP " + res.status;
      toast(label + " failed", message, "error");
    }
    return res;
  }

  // -- snapshots --------------------------------------------------------------------------------

  async function loadAll() {
    refreshPerformance();
    refreshLimits();
    const [status, dash, signals, trades, actors, scores] = await Promise.all([
      getJSON("/api/status"),
      getJSON(dashboardUrl()),
      getJSON("/api/signals?limit=" + MAX_SIGNALS),
      getJSON("/api/trades?limit=50"),
      getJSON("/api/actors"),
      getJSON("/api/scoreboard"),
    ]);
    renderScoreboard(scores);
    if (status) applyStatus(status);
    if (dash) applyDashboard(dash);
    if (signals) {
      state.signals = signals.signals;
      renderSignals();
    }
    if (trades) {
      state.trades = trades.trades;
      renderOrders();
    }
    if (actors) applyActors(actors);
  }

  function applyDashboard(d) {
    state.skew = d.server_time - Date.now() / 1000;
    state.window = d.window;
    state.book = d.window ? d.window.book : null;
    if (d.spot) state.spot = d.spot;
    state.charts = {
      spot: d.charts.spot.map((p) => [p[0], p[1]]),
      yes_mid: d.charts.yes_mid.map((p) => [p[0], p[1]]),
      model: d.charts.model.map((p) => [p[0], p[1]]),
      signals: (d.charts.signals || []).map((p) => [p[0], p[1]]),
      pnl: d.charts.pnl.map((p) => [p[0], p[1]]),
    };
    const events = d.alerts
      .map(alertEvent)
      .concat(d.actor_events.map(actorEvent), (d.market_events || []).map(marketEvent).filter(Boolean));
    events.sort((a, b) => b.t - a.t);
    state.events = events.slice(0, MAX_EVENTS);
    renderWindow();
    renderEvents();
    drawCharts();
  }

  const refreshTrades = throttle(async () => {
    const trades = await getJSON("/api/trades?limit=50");
    if (trades) {
      state.trades = trades.trades;
      renderOrders();
    }
  }, 300);

  const refreshPerformance = throttle(async () => {
    const perf = await getJSON("/api/performance");
    if (perf) renderPerformance(perf);
    else $("perf-note").textContent = "unavailable (no ledger, or it cannot be read)";
  }, 2000);

  const refreshLimits = throttle(async () => {
    const limits = await getJSON("/api/risk/limits");
    if (limits) renderLimits(limits);
  }, 500);

  const refreshActors = throttle(async () => {
    const actors = await getJSON("/api/actors");
    if (actors) applyActors(actors);
  }, 500);

  function dashboardUrl() {
    return "/api/dashboard" + (state.selected ? "?ticker=" + encodeURIComponent(state.selected) : "");
  }

  const refreshDashboard = throttle(async () => {
    const dash = await getJSON(dashboardUrl());
    if (dash) applyDashboard(dash);
  }, 1000);

  // -- the feed ---------------------------------------------------------------------------------

  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let pingSent = 0;

  function setConn(kind, text) {
    $("conn").dataset.state = kind;
    $("conn-text").textContent = text;
  }

  function wsUrl() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = sessionStorage.getItem(TOKEN_KEY);
    return proto + "//" + location.host + "/ws" + (token ? "?token=" + encodeURIComponent(token) : "");
  }

  // Beyond loopback the server wants the token for reads and the feed too (/api/health says
  // so, and answers without one): ask before connecting rather than fail in a loop.
  async function readTokenReady() {
    let health = null;
    try {
      const res = await fetch("/api/health", { cache: "no-store" });
      health = res.ok ? await res.json() : null;
    } catch (_) {
      return true; // unreachable: the reconnect loop shows it
    }
    if (!health || !health.read_auth_required) return true;
    if (sessionStorage.getItem(TOKEN_KEY)) {
      const probe = await api("GET", "/api/status");
      if (probe.status !== 401) return true;
      sessionStorage.removeItem(TOKEN_KEY); // wrong or expired: ask again
    }
    setConn("down", "the API token is needed");
    return Boolean(await askToken());
  }

  async function connect() {
    clearTimeout(retryTimer);
    setConn("connecting", "connecting…");
    if (!(await readTokenReady())) {
      setConn("down", "the API token is needed (reload to enter it)");
      return;
    }
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (_) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      attempt = 0;
      setConn("live", "live");
      loadAll();
      clearInterval(pingTimer);
      pingTimer = setInterval(ping, 15000);
      ping();
    };
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      dispatch(msg);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      clearInterval(pingTimer);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.8 + Math.random() * 0.4);
    attempt += 1;
    const until = Date.now() + delay;
    setConn("down", "reconnecting…");
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (!socket && left > 0) {
        setConn("down", "reconnecting in " + left + " s");
        setTimeout(tick, 500);
      }
    };
    tick();
    retryTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    const ws = socket;
    socket = null;
    if (ws) ws.close();
    attempt = 0;
    connect();
  }

  function ping() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      pingSent = performance.now();
      socket.send(JSON.stringify({ type: "ping" }));
    }
  }

  function dispatch(msg) {
    const d = msg.data || {};
    switch (msg.type) {
      case "status_update":
        applyStatus(d);
        break;
      case "market_update":
        applyMarket(d);
        break;
      case "trading_signal":
        addSignal(d);
        break;
      case "risk_decision":
        addDecision(d);
        break;
      case "trade_execution":
        refreshTrades();
        refreshPerformance();
        break;
      case "alert":
        if (d.alert_type === "risk_limits") refreshLimits();
        addEvent(alertEvent(d));
        toast(d.alert_type.replace(/_/g, " "), d.message, d.level);
        break;
      case "actor_event":
        addEvent(actorEvent(d));
        refreshActors();
        break;
      case "scoreboard_update":
        renderScoreboard(d);
        break;
      case "pong":
        if (pingSent) setConn("live", "live · " + Math.round(performance.now() - pingSent) + " ms");
        break;
      case "error":
        toast("server says", d.message || d.code, "warning");
        break;
      default:
        break;
    }
  }

  // -- status -----------------------------------------------------------------------------------

  function applyStatus(s) {
    state.status = s;
    if (Number.isFinite(s.server_time)) state.skew = s.server_time - Date.now() / 1000;
    $("mode").textContent = s.mode;
    const badge = $("trading-state");
    badge.textContent = s.trading_state.replace(/_/g, " ");
    badge.dataset.state = s.trading_state;
    badge.title = s.trading_state === "waiting_for_data" ? "trading is on, but market data is down or stale" : "";
    const r = s.risk_metrics || {};
    const pnl = $("kpi-pnl");
    pnl.textContent = money(r.daily_pnl);
    pnl.className = "value " + tone(r.daily_pnl);
    $("kpi-exposure").textContent = money(r.exposure);
    $("kpi-positions").textContent = r.open_positions ?? "—";
    const o = s.orders || {};
    $("kpi-orders").textContent = `${o.active ?? 0} · ${o.filled ?? 0} · ${o.canceled ?? 0}`;
    const breaker = $("kpi-breaker");
    breaker.textContent = r.circuit_breaker_triggered ? "TRIPPED" : "ok";
    breaker.className = "value " + (r.circuit_breaker_triggered ? "neg" : "pos");
    breaker.title = r.halt_reason || "";
    const banner = $("halt-banner");
    banner.hidden = !s.halt;
    banner.textContent = s.halt ? `${s.halt.message[0].toUpperCase()}${s.halt.message.slice(1)} — ${s.halt.clears}` : "";
    banner.dataset.state = s.halt ? s.halt.state : "";
    const on = s.trading_state === "running" || s.trading_state === "waiting_for_data";
    $("btn-start").disabled = on;
    $("btn-stop").disabled = !on;
    $("btn-reset").disabled = !r.circuit_breaker_triggered && s.trading_state !== "halted";
    if (r.updated_at && Number.isFinite(num(r.daily_pnl))) {
      pushPoint(state.charts.pnl, [r.updated_at, num(r.daily_pnl)], 5);
      $("pnl-now").textContent = money(r.daily_pnl);
      scheduleCharts();
    }
    const md = s.market_data || {};
    const warning =
      md.feed_connected === false ? "market data down" :
      md.exchange_active === false ? "exchange closed" :
      md.trading_active === false ? "exchange paused" :
      md.spot_stale ? "index stale" : "";
    const missing = Object.entries(s.series || {}).filter(([, v]) => v.missing).map(([k]) => k);
    const chip = $("md-chip");
    chip.textContent = warning || (missing.length ? "no live market: " + missing.join(", ") : "");
    chip.title = md.feed_reason || "";
    chip.hidden = !chip.textContent;
    renderPositions(s.positions || []);
    renderMarkets(s.markets || []);
    renderStrategies(s.strategies || []);
    modelFromStatus(s.strategies || []);
    if (state.selected && !(s.markets || []).some((m) => m.ticker === state.selected)) {
      state.selected = null; // the picked market ended: back to the current one
      refreshDashboard();
    } else if (!state.selected && s.market && (!state.window || state.window.ticker !== s.market.ticker)) refreshDashboard();
  }

  /* A compact row per live market; a click shows that market in the detail panel. */
  function renderMarkets(markets) {
    if (!changed("markets", [markets, state.selected])) return;
    const body = $("markets");
    if (!markets.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 7, text: "no live market yet" }))]);
      return;
    }
    const shown = state.window ? state.window.ticker : null;
    replace(
      body,
      markets.map((m) => {
        const left = Math.max(0, Math.round(m.seconds_left));
        const diff = m.index_value !== null && m.floor_strike !== null ? num(m.index_value) - num(m.floor_strike) : NaN;
        const pos = m.position ? `${m.position.contracts} ${String(m.position.side).toUpperCase()}` : "—";
        return h(
          "tr",
          {
            class: "clickable" + (m.ticker === shown ? " selected" : ""),
            title: m.ticker,
            dataset: { ticker: m.ticker },
            onclick: () => {
              state.selected = m.ticker;
              refreshDashboard();
            },
          },
          h("td", { class: "mono", text: m.series }),
          h("td", { class: "num mono", text: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` }),
          h("td", { class: "num mono" + (m.index_stale ? " neg" : ""), title: m.index || "", text: m.index_value === null ? "—" : price(m.index_value) }),
          h("td", { class: "num mono " + tone(diff), text: Number.isFinite(diff) ? signedPrice(diff) : "—" }),
          h("td", { class: "num mono", text: m.model_prob === null ? "—" : num(m.model_prob).toFixed(3) }),
          h("td", { class: "num mono", text: m.yes_mid === null ? "—" : num(m.yes_mid).toFixed(3) }),
          h("td", { text: pos })
        );
      })
    );
  }

  /* kelly_volatility reports its latest P(yes) per market every second: the model line. */
  function modelFromStatus(strategies) {
    const w = state.window;
    if (!w) return;
    let added = false;
    for (const s of strategies) {
      const markets = s.metrics && s.metrics.markets;
      const m = markets && typeof markets === "object" ? markets[w.ticker] : null;
      if (!m || !Number.isFinite(num(m.model_prob)) || !Number.isFinite(num(m.ts))) continue;
      pushPoint(state.charts.model, [num(m.ts), num(m.model_prob)], 1);
      added = true;
    }
    if (added) scheduleCharts();
  }

  function renderPositions(positions) {
    if (!changed("positions", positions)) return;
    const body = $("positions");
    if (!positions.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 7, text: "no open positions" }))]);
      return;
    }
    replace(
      body,
      positions.map((p) =>
        h(
          "tr",
          {},
          ticker(p.ticker),
          h("td", { class: "side-" + p.side, text: p.side.toUpperCase() }),
          h("td", { class: "num", text: p.contracts }),
          h("td", { class: "num", title: String(p.average_price), text: "$" + price(p.average_price) }),
          h("td", { class: "num opt", text: money(p.cost) }),
          h("td", { class: "num " + tone(p.unrealized_pnl), text: p.unrealized_pnl === null ? "—" : money(p.unrealized_pnl) }),
          h("td", {}, flattenButton(p))
        )
      )
    );
  }

  /* Sell the whole position at the best bid (risk checks it like any order; 409 says why not). */
  function flattenButton(p) {
    return h("button", {
      class: "btn small stop",
      type: "button",
      text: "Flatten",
      dataset: { flatten: p.ticker },
      title: "sell all at the best bid (within 5¢ of the mid)",
      onclick: async (event) => {
        const button = event.currentTarget;
        if (!window.confirm(`Sell all ${p.contracts} ${p.side.toUpperCase()} of ${p.ticker} at the best bid?`)) return;
        button.disabled = true;
        const res = await control(`/api/positions/${encodeURIComponent(p.ticker)}/flatten`, "Flatten");
        if (res.ok) {
          const r = res.data.result || {};
          toast("Flatten sent", `${p.ticker} sell ${r.count} ${String(r.side || "").toUpperCase()} at $${price(r.price)}`);
        } else button.disabled = false;
      },
    });
  }

  // -- performance: from the ledger ---------------------------------------------------------------

  function renderPerformance(p) {
    state.performance = p;
    const set = (id, text, cls) => {
      const el = $(id);
      el.textContent = text;
      el.className = "value " + (cls || "");
    };
    set("perf-balance", money(p.balance));
    set("perf-equity", money(p.equity), tone(num(p.equity) - num(p.starting_balance)));
    set("perf-realized", money(p.realized_pnl), tone(p.realized_pnl));
    set("perf-fees", money(p.fees));
    const r = p.record || {};
    set("perf-record", `${r.wins ?? 0}–${r.losses ?? 0}` + (r.win_rate === null || r.win_rate === undefined ? "" : ` · ${pct(r.win_rate)}`));
    const perContract = (v) => (v === null || v === undefined ? "—" : money(v, 4));
    set("perf-edge", `${perContract(r.avg_expected_edge)} · ${perContract(r.avg_realized_edge)}`, tone(r.avg_realized_edge));
    set("perf-drawdown", `${money(p.max_drawdown)} · ${pct(p.max_drawdown_pct)}`, num(p.max_drawdown) > 0 ? "neg" : "");
    $("perf-note").textContent = `from the ledger · started at ${money(p.starting_balance)} · ${r.trades ?? 0} closed, ${r.open_trades ?? 0} open`;
    renderPerfMarkets(p.markets || []);
    renderPerfTrades(p.trades || []);
    scheduleCharts();
  }

  function renderPerfMarkets(markets) {
    if (!changed("perf-markets", markets)) return;
    const body = $("perf-markets");
    if (!markets.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 8, text: "no trades in the ledger yet" }))]);
      return;
    }
    replace(
      body,
      markets.map((m) =>
        h(
          "tr",
          { dataset: { market: m.ticker } },
          ticker(m.ticker),
          h("td", { class: "num opt", text: m.trades }),
          h("td", { class: "num", text: m.contracts }),
          h("td", { class: "num opt", text: m.entry_price === null ? "—" : "$" + price(m.entry_price) }),
          h("td", { class: "num opt", text: m.exit_price === null ? "—" : "$" + price(m.exit_price) }),
          h("td", { class: "opt", text: m.settlement ? m.settlement.toUpperCase() : m.open ? "open" : "—" }),
          h("td", { class: "num opt", text: money(m.fees, 4) }),
          h("td", { class: "num " + tone(m.pnl), title: m.pnl, text: money(m.pnl) })
        )
      )
    );
  }

  function renderPerfTrades(trades) {
    if (!changed("perf-trades", trades)) return;
    const body = $("perf-trades");
    if (!trades.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 10, text: "no trades yet" }))]);
      return;
    }
    replace(
      body,
      trades.map((t) => {
        const exit = t.exit_price !== null ? "$" + price(t.exit_price) : t.settlement ? "settled " + t.settlement.toUpperCase() : "—";
        return h(
          "tr",
          {},
          h("td", { class: "mono opt", text: t.closed_at === null ? "open" : hms(t.closed_at) }),
          h("td", { class: "opt", text: t.strategy_name || "—" }),
          ticker(t.ticker),
          h("td", { class: "side-" + t.side, text: t.side.toUpperCase() }),
          h("td", { class: "num", text: t.contracts }),
          h("td", { class: "num", text: "$" + price(t.entry_price) }),
          h("td", { class: "num opt", text: exit }),
          h("td", { class: "num opt", text: money(t.fees, 4) }),
          h("td", { class: "num " + tone(t.pnl), title: t.pnl, text: money(t.pnl) }),
          h("td", {}, h("span", { class: "pill " + t.result, text: t.result }))
        );
      })
    );
  }

  function drawEquity() {
    const p = state.performance;
    const points = p ? (p.equity_curve[state.curve] || []).map((x) => [x.start, num(x.equity)]) : [];
    const start = p ? num(p.starting_balance) : NaN;
    const width = state.curve === "daily" ? 86400 : 3600;
    const ended = points.map(([t, v]) => [t + width, v]); // each bucket's equity at its end
    if (ended.length && Number.isFinite(start)) ended.unshift([points[0][0], start]);
    const last = ended.length ? ended[ended.length - 1][1] : start;
    Charts.lineChart($("chart-equity"), {
      series: [{ points: ended, color: last < start ? "#ff5c7a" : "#14f195", width: 2, dots: true }],
      hlines: Number.isFinite(start) && ended.length ? [{ y: start, color: "#4a556e", label: "start " + money(start) }] : [],
      xFormat: Charts.dateClock,
      yFormat: (v, digits) => money(v, Math.min(digits, 2)),
      empty: "no realized P&L in the ledger yet",
    });
  }

  function setCurve(which) {
    state.curve = which;
    $("perf-hourly").setAttribute("aria-pressed", String(which === "hourly"));
    $("perf-daily").setAttribute("aria-pressed", String(which === "daily"));
    drawEquity();
  }

  // -- risk limits, changed at runtime --------------------------------------------------------------

  const LIMIT_NAMES = {
    max_position_size: "Max position ($/market)",
    max_daily_loss: "Max daily loss ($)",
    circuit_breaker_pct: "Circuit breaker (drawdown)",
    max_concurrent_positions: "Max concurrent markets",
    min_edge: "Min edge ($/contract)",
  };

  function renderLimits(l) {
    state.limits = l;
    const by = l.changed_by ? `changed by ${l.changed_by} at ${hms(l.changed_at)} UTC` : "as started";
    $("limits-by").textContent = by + (l.persisted ? "" : " · not kept (no ledger)");
    if (!changed("limits", l)) return;
    replace(
      $("limits-rows"),
      (l.changeable || []).map((name) => {
        const now = l.limits[name];
        const changedHere = String(now ?? "") !== String(l.startup[name] ?? "");
        return h(
          "tr",
          { dataset: { limit: name }, class: changedHere ? "changed" : "" },
          h("td", { title: name.toUpperCase(), text: LIMIT_NAMES[name] || name }),
          h("td", { class: "num opt mono", text: l.startup[name] == null ? "off" : String(l.startup[name]) }),
          h("td", { class: "num" }, h("input", { class: "limit-input mono", name, value: String(now ?? ""), inputmode: "decimal", "aria-label": name, size: 8 }))
        );
      })
    );
  }

  async function applyLimits(event) {
    event.preventDefault();
    const l = state.limits;
    if (!l) return;
    const change = {};
    for (const input of $("limits-rows").querySelectorAll("input.limit-input")) {
      if (input.value.trim() !== String(l.limits[input.name] ?? "")) change[input.name] = input.value.trim();
    }
    if (!Object.keys(change).length) {
      toast("Risk limits", "nothing changed");
      return;
    }
    const res = await control("/api/risk/limits", "Risk limits", "PATCH", change);
    if (res.ok) {
      state.rendered.limits = null;
      renderLimits(res.data.result);
      toast("Risk limits changed", Object.entries(change).map(([k, v]) => `${k} ${v}`).join(", "));
    }
  }

  async function resetLimits() {
    const res = await control("/api/risk/limits/reset", "Reset limits");
    if (res.ok) {
      state.rendered.limits = null;
      renderLimits(res.data.result);
      toast("Risk limits", "back to the start-up limits");
    }
  }

  function kv(obj) {
    return Object.entries(obj || {}).map(([k, v]) => h("span", {}, k + " ", h("b", { text: metric(v) })));
  }

  const LEAD = ["signals_sent", "signals", "suppressed", "pending", "sigma", "vol_samples", "entries", "exits", "realized_pnl", "fees", "evaluations"];

  /* Scalars first (the usual ones in a fixed order), then the current market's figures, skips and positions. */
  function strategyMetrics(s) {
    const m = s.metrics || {};
    const scalars = {};
    const names = LEAD.filter((k) => k in m).concat(Object.keys(m).filter((k) => !LEAD.includes(k)));
    for (const k of names) if (m[k] === null || typeof m[k] !== "object") scalars[k] = m[k];
    const parts = [h("div", { class: "kv" }, kv(scalars))];
    const w = state.window;
    const markets = m.markets && typeof m.markets === "object" ? m.markets : null;
    const here = markets && w ? markets[w.ticker] : null;
    if (here && typeof here === "object") {
      const shown = {};
      for (const [k, v] of Object.entries(here)) {
        if (k === "ts") continue;
        shown[k === "model_prob" ? "P(yes)" : k] = k === "model_prob" ? pct(v) : v;
      }
      parts.push(h("div", { class: "kv market", title: w.ticker }, h("span", { class: "tag", text: "now" }), kv(shown)));
    }
    if (Array.isArray(m.positions) && m.positions.length) {
      const held = m.positions.map((p) => `${p.contracts ?? "?"} ${String(p.side || "").toUpperCase()} ${String(p.ticker || "").replace(/^KXSOL15M-/, "")}`);
      parts.push(h("div", { class: "kv" }, h("span", {}, "holding ", h("b", { text: held.join(", ") }))));
    }
    if (m.skips && typeof m.skips === "object" && Object.keys(m.skips).length) {
      const skips = Object.entries(m.skips).sort((a, b) => b[1] - a[1]);
      parts.push(details(`skips:${s.name}`, "more", "why it waited", h("div", { class: "kv" }, skips.map(([k, v]) => h("span", {}, k.replace(/_/g, " ") + " ", h("b", { text: String(v) }))))));
    }
    for (const [k, v] of Object.entries(m)) {
      if (v !== null && typeof v === "object" && !["markets", "positions", "skips"].includes(k)) {
        parts.push(h("div", { class: "kv" }, h("span", {}, k + " ", h("b", { text: JSON.stringify(v) }))));
      }
    }
    return parts;
  }

  function renderStrategies(strategies) {
    const view = strategies.map((s) => ({ s, ticker: state.window ? state.window.ticker : null }));
    if (!changed("strategies", view)) return;
    const list = $("strategies");
    if (!strategies.length) {
      replace(list, [h("li", { class: "empty", text: "waiting for strategies…" })]);
      return;
    }
    replace(
      list,
      strategies.map((s) => {
        const input = h("input", { type: "checkbox", role: "switch", "aria-label": "enable " + s.name, dataset: { strategy: s.name } });
        input.checked = s.enabled;
        input.addEventListener("change", async () => {
          const want = input.checked;
          input.disabled = true;
          const res = await control(`/api/strategies/${encodeURIComponent(s.name)}/${want ? "enable" : "disable"}`, (want ? "Enable " : "Disable ") + s.name);
          input.disabled = false;
          if (!res.ok) input.checked = !want;
        });
        return h(
          "li",
          { dataset: { strategy: s.name } },
          h("div", { class: "row" }, h("span", { class: "sname", text: s.name }), h("label", { class: "switch" }, input, h("span", { class: "track" }))),
          Object.keys(s.metrics || {}).length ? strategyMetrics(s) : null,
          Object.keys(s.params || {}).length ? details(`params:${s.name}`, "more", "parameters", h("div", { class: "kv" }, kv(s.params))) : null
        );
      })
    );
  }

  // -- market window ----------------------------------------------------------------------------

  function pushPoint(series, point, step) {
    const last = series[series.length - 1];
    if (last && point[0] < last[0]) {
      let i = series.length; // late point (another source's clock): insert it in time order
      while (i > 0 && series[i - 1][0] > point[0]) i -= 1;
      series.splice(i, 0, point);
      return;
    }
    const prev = series[series.length - 2];
    if (last && prev && point[0] - prev[0] < step) series[series.length - 1] = point;
    else series.push(point);
    if (series.length > 4000) series.splice(0, series.length - 4000);
  }

  function applyMarket(d) {
    if (d.kind === "spot") {
      const w = state.window;
      if (w && w.index && d.index !== w.index) return; // another series' index
      state.spot = d;
      pushPoint(state.charts.spot, [d.ts, num(d.price)], 1);
      renderWindow();
      scheduleCharts();
    } else if (d.kind === "book") {
      if (state.window && d.ticker === state.window.ticker) {
        state.book = d;
        if (d.yes_mid !== null && d.yes_mid !== undefined) pushPoint(state.charts.yes_mid, [d.ts, num(d.yes_mid)], 1);
        renderWindow();
        scheduleCharts();
      }
    } else if (d.kind === "market") {
      const now = serverNow();
      const current = state.window;
      if (current && d.ticker === current.ticker) {
        Object.assign(current, d);
        renderWindow();
        scheduleCharts();
      } else if (state.selected) {
        // a market picked by hand stays in the panel until it ends
      } else if (!current || (d.open_time <= now && d.open_time > current.open_time && d.series === current.series)) {
        refreshDashboard();
      }
    } else if (d.kind === "feed" || d.kind === "exchange" || d.kind === "lifecycle") {
      const event = marketEvent(d);
      if (event) addEvent(event);
    }
  }

  function marketEvent(d) {
    if (d.kind === "feed") {
      return { t: d.ts, cls: d.connected ? "info" : "warning", text: d.connected ? "market data " + d.reason : "market data disconnected: " + d.reason };
    }
    if (d.kind === "exchange") {
      const ok = d.exchange_active && d.trading_active;
      return { t: d.ts, cls: ok ? "info" : "warning", text: `exchange ${d.exchange_active ? "open" : "closed"}, trading ${d.trading_active ? "active" : "paused"}` };
    }
    if (d.kind === "lifecycle") {
      const settled = d.result ? " → " + d.result.toUpperCase() : "";
      const value = d.expiration_value !== null && d.expiration_value !== undefined ? ` (index average ${price(d.expiration_value)})` : "";
      return { t: d.ts, cls: "info", text: `${d.ticker} ${d.event_type}${settled}${value}` };
    }
    return null;
  }

  function renderWindow() {
    const w = state.window;
    $("win-ticker").textContent = w ? w.ticker : "no market yet";
    $("win-index").textContent = w && w.index ? w.index : "Index";
    $("win-strike").textContent = w && w.floor_strike !== null ? price(w.floor_strike) : "—";
    $("win-strike").title = w && w.floor_strike !== null ? String(w.floor_strike) : "";
    const spot = state.spot ? num(state.spot.price) : NaN;
    $("win-spot").textContent = Number.isFinite(spot) ? price(spot) : "—";
    const diff = w && w.floor_strike !== null && Number.isFinite(spot) ? spot - num(w.floor_strike) : NaN;
    const diffEl = $("win-diff");
    diffEl.textContent = Number.isFinite(diff) ? signedPrice(diff) : "—";
    diffEl.className = "value mono " + tone(diff);
    renderClock();
  }

  function renderClock() {
    const w = state.window;
    if (!w) {
      $("win-left").textContent = "—";
      return;
    }
    const now = serverNow();
    const left = Math.max(0, w.close_time - now);
    const m = Math.floor(left / 60);
    const s = Math.floor(left % 60);
    $("win-left").textContent = left > 0 ? `${m}:${String(s).padStart(2, "0")}` : "closed";
    const span = w.close_time - w.open_time;
    const done = span > 0 ? Math.min(1, Math.max(0, (now - w.open_time) / span)) : 0;
    $("win-progress").style.width = (done * 100).toFixed(1) + "%";
  }

  // -- charts -----------------------------------------------------------------------------------

  function drawCharts() {
    const w = state.window;
    const xMin = w ? w.open_time - 60 : undefined;
    const xMax = w ? w.close_time : undefined;
    const strike = w && w.floor_strike !== null ? num(w.floor_strike) : NaN;
    Charts.lineChart($("chart-spot"), {
      series: [{ points: state.charts.spot, color: "#14f195", width: 2 }],
      hlines: Number.isFinite(strike) ? [{ y: strike, color: "#ffb547", label: "strike " + price(strike) }] : [],
      xMin,
      xMax,
      yFormat: (v, digits) => v.toFixed(Math.min(4, Math.max(2, digits))),
      empty: "waiting for the SOL index…",
    });
    Charts.lineChart($("chart-model"), {
      series: [
        { points: state.charts.yes_mid, color: "#5aa9ff", width: 2 },
        { points: state.charts.model, color: "#9b7bff", width: 2 },
        { points: state.charts.signals, color: "#ffb547", dotsOnly: true },
      ],
      xMin,
      xMax,
      yMin: 0,
      yMax: 1,
      yFormat: (v) => Math.round(v * 100) + "%",
      empty: "waiting for prices…",
    });
    const pnl = state.charts.pnl;
    const last = pnl.length ? pnl[pnl.length - 1][1] : 0;
    Charts.lineChart($("chart-pnl"), {
      series: [{ points: pnl, color: last < 0 ? "#ff5c7a" : "#14f195", width: 2, area: true }],
      xMax: Math.max(serverNow(), pnl.length ? pnl[pnl.length - 1][0] : 0),
      minSpan: 600,
      zero: true,
      yFormat: (v, digits) => money(v, Math.min(digits, 2)),
      empty: "no P&L yet today",
    });
    drawEquity();
  }
  const scheduleCharts = throttle(() => requestAnimationFrame(drawCharts), 250);

  // -- signals ----------------------------------------------------------------------------------

  /* Risk may decide before the strategy's signal reaches the hub: a decision waits for its signal. */
  const earlyDecisions = new Map();

  function addSignal(d) {
    const decision = earlyDecisions.get(d.signal_id) || null;
    earlyDecisions.delete(d.signal_id);
    const signal = Object.assign({}, d, { decision });
    state.signals = [signal].concat(state.signals.filter((s) => s.signal_id !== d.signal_id)).slice(0, MAX_SIGNALS);
    if (decision) markApproved(signal);
    renderSignals();
  }

  function addDecision(d) {
    const signal = state.signals.find((s) => s.signal_id === d.signal_id);
    if (!signal) {
      earlyDecisions.set(d.signal_id, d);
      if (earlyDecisions.size > 200) earlyDecisions.delete(earlyDecisions.keys().next().value);
      return;
    }
    signal.decision = d;
    markApproved(signal);
    renderSignals();
  }

  /* The chart marks the signals risk approved (the ones that became orders). */
  function markApproved(signal) {
    const d = signal.decision;
    if (!d || !d.approved || !(d.quantity > 0) || !state.window || signal.ticker !== state.window.ticker) return;
    pushPoint(state.charts.signals, [signal.timestamp, num(signal.model_prob)], 0);
    scheduleCharts();
  }

  const INPUTS = ["spot", "strike", "sigma", "seconds_left", "effective_seconds", "fee", "kelly_fraction", "zscore", "reason", "signal_id"];

  function inputs(s) {
    const rows = INPUTS.filter((k) => s[k] !== null && s[k] !== undefined && s[k] !== "").flatMap((k) => {
      const v = s[k];
      const n = num(v);
      let text = String(v);
      if (k === "spot" || k === "strike") text = price(v);
      else if (k === "fee") text = money(v, 4);
      else if (k === "seconds_left" || k === "effective_seconds") text = n.toFixed(1) + " s";
      else if (k === "sigma" || k === "kelly_fraction" || k === "zscore") text = n.toFixed(4);
      return [h("dt", { text: k }), h("dd", { title: String(v), text })];
    });
    return details(`inputs:${s.signal_id}`, "inputs", "inputs", h("dl", {}, rows));
  }

  const renderSignals = throttle(() => {
    if (!changed("signals", state.signals)) return;
    const body = $("signals");
    if (!state.signals.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 10, text: "no signals yet" }))]);
      return;
    }
    replace(
      body,
      state.signals.map((s) => {
        const d = s.decision;
        const pill = d
          ? h("span", { class: "pill " + (d.approved ? "approved" : "rejected"), title: d.reason, text: d.approved ? `approved ×${d.quantity}` : "rejected: " + d.reason })
          : h("span", { class: "pill pending", text: "pending" });
        return h(
          "tr",
          { dataset: { signal: s.signal_id } },
          h("td", { class: "mono opt", text: hms(s.timestamp) }),
          h("td", { class: "opt", text: s.strategy_name }),
          ticker(s.ticker),
          h("td", { class: "side-" + s.direction, text: (s.action === "sell" ? "sell " : "") + s.direction.toUpperCase() }),
          h("td", { class: "num " + tone(s.edge), text: money(s.edge, 3) }),
          h("td", { class: "num", text: pct(s.model_prob) }),
          h("td", { class: "num opt", text: money(s.market_price) }),
          h("td", { class: "num opt", text: s.quantity }),
          h("td", {}, pill),
          h("td", {}, inputs(s))
        );
      })
    );
  }, 200);

  // -- orders -----------------------------------------------------------------------------------

  const ACTIVE = new Set(["pending", "resting"]);

  function renderOrders() {
    const trades = state.trades.slice().sort((a, b) => (ACTIVE.has(b.status) - ACTIVE.has(a.status)) || b.timestamp - a.timestamp);
    const active = trades.filter((t) => ACTIVE.has(t.status)).length;
    $("orders-count").textContent = `${active} resting · ${trades.length} shown`;
    if (!changed("orders", trades)) return;
    const body = $("orders");
    if (!trades.length) {
      replace(body, [h("tr", { class: "empty" }, h("td", { colspan: 9, text: "no orders yet" }))]);
      return;
    }
    replace(
      body,
      trades.map((t) => {
        const cancel = ACTIVE.has(t.status)
          ? h("button", {
              class: "btn small ghost",
              type: "button",
              text: "Cancel",
              dataset: { cancel: t.trade_id },
              onclick: async (event) => {
                const button = event.currentTarget;
                button.disabled = true;
                const res = await control(`/api/trades/${encodeURIComponent(t.trade_id)}/cancel`, "Cancel");
                if (res.ok) toast("Cancel requested", t.ticker + " " + t.side.toUpperCase() + " ×" + t.remaining);
                else button.disabled = false;
              },
            })
          : null;
        return h(
          "tr",
          { dataset: { order: t.trade_id, status: t.status } },
          h("td", { class: "mono opt", text: hms(t.timestamp) }),
          h("td", { class: "opt", text: t.strategy_name || "—" }),
          ticker(t.ticker),
          h("td", { class: "side-" + t.side, text: (t.action === "sell" ? "sell " : "") + (t.side || "").toUpperCase() }),
          h("td", { class: "num", text: t.quantity }),
          h("td", { class: "num opt", text: t.filled }),
          h("td", { class: "num", text: money(t.avg_fill_price || t.price) }),
          h("td", {}, h("span", { class: "pill " + t.status, title: t.status, text: t.status_text || t.status })),
          h("td", {}, cancel)
        );
      })
    );
  }

  // -- the scoreboard: does the model beat the market? -----------------------------------------

  const MARKETS = { kalshi: "real Kalshi market", "kalshi-demo": "Kalshi demo", simulated: "simulated makers", custom: "custom exchange" };

  /* An estimate with its 95% interval: 0.1842 [0.1700, 0.1990]; "—" before there is one. */
  function interval(iv, digits, signed = false, unit = "") {
    const fmt = (v) => (v === null || v === undefined ? "?" : (signed && v > 0 ? "+" : "") + Number(v).toFixed(digits) + unit);
    if (!iv || iv.estimate === null || iv.estimate === undefined) return [h("span", { class: "muted", text: "—" })];
    return [h("span", { text: fmt(iv.estimate) }), h("span", { class: "iv", text: `[${fmt(iv.low)}, ${fmt(iv.high)}]` })];
  }

  function renderScoreboard(r) {
    const box = $("scoreboard");
    if (!r) {
      box.dataset.state = "unavailable";
      $("sb-badge").textContent = "not reporting";
      $("sb-badge").className = "badge muted";
      $("sb-against").textContent = "the scoreboard has not reported yet (it starts with the bot and reads its ledger first)";
      return;
    }
    if (!changed("scoreboard", r)) return;
    box.dataset.state = r.status;
    box.dataset.market = r.market;
    const badge = $("sb-badge");
    badge.textContent = MARKETS[r.market] || r.market;
    badge.className = "badge " + (r.real_market ? "muted" : "warn");
    const computing = r.status === "computing" ? " · computing the scores…" : "";
    const kept = r.kept_in === "ledger" ? "kept in the ledger" : "in memory only";
    const plural = (n, word) => `${n ?? 0} ${word}${n === 1 ? "" : "s"}`;
    $("sb-against").textContent = `${r.model} against ${r.scored_against} · ${plural(r.settled_windows, "settled window")} (${r.mode} mode, ${kept})${computing}`;
    $("sb-against").title = r.summary_error || "";
    const rows = (r.horizons || []).map((m) => {
      // coloured only once there are enough windows for a verdict (one window resamples to itself)
      const cls = m.verdict === "model better" ? "pos" : m.verdict === "market better" ? "neg" : "";
      const missing = m.missing || {};
      return h(
        "tr",
        { dataset: { minutes: m.minutes } },
        h("td", { class: "mono", text: m.minutes + "m" }),
        h("td", { class: "num opt", title: `missing: model ${missing.model ?? 0}, market ${missing.market ?? 0}; shorter windows ${m.not_in_window ?? 0}`, text: m.windows }),
        h("td", { class: "num" }, interval(m.model_brier, 4)),
        h("td", { class: "num" }, interval(m.market_brier, 4)),
        h("td", { class: "num sb-diff " + cls }, interval(m.difference, 4, true)),
        h("td", { class: "opt", text: m.verdict }),
        h("td", { class: "num opt", text: m.real_kalshi_mid_brier === null ? "—" : Number(m.real_kalshi_mid_brier).toFixed(3) })
      );
    });
    replace($("sb-horizons"), rows.length ? rows : [h("tr", { class: "empty" }, h("td", { colspan: 7, text: "no settled windows yet" }))]);
    const t = r.trades || {};
    const floor = t.cost_floor_cents === null || t.cost_floor_cents === undefined ? "—" : Number(t.cost_floor_cents).toFixed(2) + "¢";
    replace($("sb-trades"), [
      h("span", {}, "realized edge ", h("b", {}, interval(t.realized_edge_cents, 2, true, "¢"))),
      h("span", {}, "cost floor ", h("b", { text: floor })),
      h("span", {}, "before costs ", h("b", {}, interval(t.edge_before_costs_cents, 2, true, "¢"))),
      h("span", {}, h("b", { text: `${plural(t.fills, "fill")}, ${plural(t.contracts, "contract")}, ${plural(t.windows, "window")}` })),
    ]);
    $("sb-verdict").textContent = t.verdict || "";
    const recent = (r.recent || []).map((w) => {
      const said = (w.forecasts || []).map((f) => `${f.minutes}m ${f.model_prob === null ? "—" : pct(f.model_prob)}/${f.market_mid === null ? "—" : pct(f.market_mid)}`);
      const name = String(w.ticker).replace(/^KXSOL15M-/, "");
      return h("li", { dataset: { window: w.ticker } }, `${name} → ${String(w.outcome || "?").toUpperCase()} · model/market ${said.join(" · ") || "—"} · ${plural(w.fills, "fill")}`);
    });
    replace($("sb-recent"), recent.length ? recent : [h("li", { class: "empty", text: "none yet" })]);
    $("sb-method").textContent = r.method || "";
  }

  // -- actors and events ---------------------------------------------------------------------------

  function applyActors(a) {
    state.actors = a;
    // what they were (which message, to whom, why), not just how many
    const letters = a.dead_letters, kinds = (letters.kinds || []).map((d) => `${d.count}× ${d.message} → ${d.to} (${d.reason})`);
    const shown = kinds.slice(0, 2).join(", ") + (kinds.length > 2 ? ", …" : "");
    $("dead-letters").textContent = letters.total ? `${letters.total} dead letter${letters.total === 1 ? "" : "s"}: ${shown}` : "";
    $("dead-letters").title = kinds.join("\n");
    if (!changed("actors", a.tree)) return;
    const render = (n) =>
      h(
        "li",
        {},
        h(
          "div",
          { class: "node", dataset: { state: n.state, actor: n.name }, title: `${n.name}: ${n.state}, mailbox ${n.mailbox_size}, handled ${n.messages_handled}` },
          h("span", { class: "sdot" }),
          h("span", { class: "mono", text: n.name }),
          n.kind === "supervisor" ? h("span", { class: "kind", text: n.strategy || "supervisor" }) : null,
          n.last_failure ? h("span", { class: "failure", title: n.last_failure.error, text: n.last_failure.error_type }) : null,
          h("span", { class: "restarts" + (n.restarts ? " hot" : ""), text: `↻${n.restarts} ✉${n.mailbox_size}` })
        ),
        n.children && n.children.length ? h("ul", {}, n.children.map(render)) : null
      );
    replace($("actors"), [render(a.tree)]);
  }

  function alertEvent(a) {
    return { t: a.timestamp, cls: a.level, text: `${a.alert_type.replace(/_/g, " ")}: ${a.message}` };
  }

  function actorEvent(e) {
    const what = {
      crashed: `${e.name} crashed: ${e.error_type}${e.error ? " (" + e.error + ")" : ""}`,
      restarted: `${e.name} restarted (#${e.restarts})`,
      stopped: `${e.name} stopped: ${e.reason}`,
      escalated: `${e.name} escalated after ${e.restarts} restarts`,
    }[e.event] || `${e.name} ${e.event}`;
    return { t: e.at, cls: e.event, text: what };
  }

  function addEvent(e) {
    state.events = [e].concat(state.events).slice(0, MAX_EVENTS);
    renderEvents();
  }

  function renderEvents() {
    const list = $("events");
    if (!state.events.length) {
      replace(list, [h("li", { class: "empty", text: "nothing yet" })]);
      return;
    }
    replace(
      list,
      state.events.map((e) => h("li", { class: e.cls }, h("span", { class: "t", text: hms(e.t) }), h("span", { class: "m", text: e.text })))
    );
  }

  // -- start ------------------------------------------------------------------------------------

  function wire() {
    $("btn-start").addEventListener("click", () => control("/api/start", "Start"));
    $("btn-stop").addEventListener("click", () => control("/api/stop", "Stop"));
    $("btn-reset").addEventListener("click", () => control("/api/circuit-breaker/reset", "Reset breaker"));
    $("perf-hourly").addEventListener("click", () => setCurve("hourly"));
    $("perf-daily").addEventListener("click", () => setCurve("daily"));
    $("limits-form").addEventListener("submit", applyLimits);
    $("limits-reset").addEventListener("click", resetLimits);
    setInterval(refreshPerformance, 30000);
    window.addEventListener("resize", scheduleCharts);
    setInterval(renderClock, 1000);
    setInterval(refreshActors, 10000);
    drawCharts();
    connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
