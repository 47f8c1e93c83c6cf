// The investigator's page: plain ES module, no build step. Every request goes to this
// origin with the token typed into the page (kept in sessionStorage, never in the URL).
// Every word it shows comes from a message catalogue (/ui/i18n/<language>.json); ids and
// codes from the ledger are shown as they are. The graph libraries (cytoscape,
// cytoscape-dagre) are loaded on first use from /ui/vendor/.

const MAX_DRAWN = 2000; // nodes drawn at most; the rest are counted, listed in the GraphML
const DAGRE_MAX = 300; // up to this many drawn nodes dagre lays them out; beyond, ranks by depth
const TRACE_ROWS = 200; // rows shown in each trace table until "Show all" is pressed
const LABEL_PX = 12; // node label size in graph units
const READABLE_PX = 11; // the smallest label size on screen a fitted graph may have
const KIND_ORDER = ["lot", "mine", "alluvial_site", "certificate", "participant", "operator"];
const NODE_KINDS = ["lot", "source", "certificate", "participant", "operator"];
const LANGUAGES = ["en", "fr", "pt", "es", "ru"];
const RISKS = [
  "embargoed_source",
  "embargoed_origin",
  "sanctioned",
  "possible_sanctions_match",
  "flagged",
  "seized",
  "cancelled",
];
// A symbol per mark, so that a mark reads without colour (each also has a word and a pattern).
const RISK_SYMBOL = {
  embargoed_source: "⊗",
  embargoed_origin: "⚠",
  sanctioned: "⊘",
  possible_sanctions_match: "≈",
  flagged: "⚑",
  seized: "■",
  cancelled: "✕",
};
const REVIEW_STATUSES = ["open", "confirmed", "dismissed"];
const SEVERITIES = ["high", "medium", "low"];
const TOKEN_KEY = "kpledger.token";
const LANGUAGE_KEY = "kpledger.language";

const $ = (id) => document.getElementById(id);
const state = { root: null, kind: null, seq: 0, cy: null, graphSize: 0, tried: false, risks: new Map(), rerender: null, triage: new Map() };
const i18n = { language: "en", messages: {}, english: {} };
const kpl = { cy: null, state, i18n, open: (id) => navigate(id), timings: {}, graphStyle: (large) => graphStyle(large) };
window.kpl = kpl;

// -- words and numbers in the reader's language -----------------------------------------

async function catalogue(language) {
  const response = await fetch(`/ui/i18n/${language}.json`, { cache: "no-cache", credentials: "omit" });
  if (!response.ok) throw new Error(`/ui/i18n/${language}.json: ${response.status}`);
  return response.json();
}

function t(key, params = {}) {
  const text = i18n.messages[key] ?? i18n.english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function tx(family, value) {
  // A protocol word (a kind, a status, an alert or document type) in the reader's language;
  // a value the catalogues do not know yet is shown as it is.
  const key = `${family}.${value}`;
  return i18n.messages[key] ?? i18n.english[key] ?? String(value).replaceAll("_", " ");
}

const formats = new Map();
function format(name, make) {
  const key = `${i18n.language}:${name}`;
  if (!formats.has(key)) formats.set(key, make(i18n.language));
  return formats.get(key);
}

function decimal(text) {
  // A decimal string of the API ("1234.50"), grouped and pointed as the language writes it,
  // digit for digit (never through a binary float).
  if (text === undefined || text === null || text === "") return "";
  const value = String(text);
  if (!/^-?\d+(\.\d+)?$/.test(value)) return value;
  const negative = value.startsWith("-");
  const [whole, part] = value.replace("-", "").split(".");
  const grouped = format("integer", (l) => new Intl.NumberFormat(l, { useGrouping: true })).format(BigInt(whole));
  const point = format("point", (l) => new Intl.NumberFormat(l).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".");
  return (negative ? "-" : "") + grouped + (part !== undefined ? point + part : "");
}

function count(n) {
  return format("count", (l) => new Intl.NumberFormat(l)).format(n);
}

function percent(fraction) {
  return format("percent", (l) => new Intl.NumberFormat(l, { style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(fraction);
}

function day(text) {
  // A protocol date (YYYY-MM-DD), as the language writes dates.
  if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return text ?? "";
  return format("day", (l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeZone: "UTC" })).format(new Date(text + "T00:00:00Z"));
}

function instant(text) {
  // A date-time with an offset, shown in UTC as the language writes it.
  const date = new Date(text);
  if (!text || Number.isNaN(date.getTime())) return text ?? "";
  return format("instant", (l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })).format(date) + " UTC";
}

function translateStatic() {
  document.documentElement.lang = i18n.language;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  $("language").value = i18n.language;
}

function preferredLanguage() {
  const kept = localStorage.getItem(LANGUAGE_KEY);
  if (LANGUAGES.includes(kept)) return kept;
  for (const wanted of navigator.languages || []) {
    const code = wanted.slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(code)) return code;
  }
  return "en";
}

async function setLanguage(language, { keep = false } = {}) {
  if (!LANGUAGES.includes(language)) language = "en";
  if (!Object.keys(i18n.english).length) i18n.english = await catalogue("en");
  i18n.messages = language === "en" ? i18n.english : await catalogue(language);
  i18n.language = language;
  if (keep) localStorage.setItem(LANGUAGE_KEY, language);
  translateStatic();
  document.body.dataset.language = language;
}

// -- small DOM helpers (text only: nothing from the ledger is parsed as HTML) ------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") element.setAttribute("style", value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

function idLink(id, text = id) {
  return h("a", { href: "#root=" + encodeURIComponent(id), class: "id", dataset: { id } }, text);
}

function panel(title, ...body) {
  return h("section", { class: "panel", "aria-label": title }, h("h2", {}, title), ...body);
}

function table(id, caption, columns, rows, numeric = []) {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : "" }, c)))),
      rows instanceof Node ? rows : h("tbody", {}, rows),
    ),
  );
}

// -- risk marks: a colour, a symbol and a pattern, and a word ----------------------------

function riskMark(risk) {
  return h(
    "span",
    { class: `risk risk-${risk}`, dataset: { risk }, title: t(`risk_help.${risk}`) },
    h("span", { class: "risk-symbol", "aria-hidden": "true" }, RISK_SYMBOL[risk] ?? "!"),
    tx("risk", risk),
  );
}

function riskMarks(risks) {
  const known = (risks || []).filter((risk) => typeof risk === "string");
  if (!known.length) return null;
  return h("span", { class: "risks" }, known.map(riskMark));
}

function remember(id, risks) {
  if (!id || !Array.isArray(risks)) return;
  const seen = state.risks.get(id) || [];
  state.risks.set(id, [...new Set([...seen, ...risks])]);
}

function risksOf(id) {
  return state.risks.get(id) || [];
}

function rememberGraph(settled) {
  if (settled?.status !== "fulfilled") return;
  for (const node of settled.value.nodes || []) remember(keyOf(node.id), node.risk);
}

function markedLink(id, text = id) {
  return [idLink(id, text), riskMarks(risksOf(id))];
}

function nodeShapeIcon(kind) {
  const shapes = {
    lot: svg("circle", { cx: 9, cy: 9, r: 7 }),
    source: svg("polygon", { points: "9,1 17,16 1,16" }),
    certificate: svg("rect", { x: 1, y: 4, width: 16, height: 10, rx: 3 }),
    participant: svg("polygon", { points: "5,2 13,2 17,9 13,16 5,16 1,9" }),
    operator: svg("polygon", { points: "9,1 17,9 9,17 1,9" }),
  };
  return svg("svg", { class: `shape shape-${kind}`, width: 18, height: 18, viewBox: "0 0 18 18", "aria-hidden": "true" }, shapes[kind]);
}

function legend() {
  return h(
    "section",
    { class: "panel wide legend", id: "legend", "aria-label": t("legend.title") },
    h("h2", {}, t("legend.title")),
    h(
      "div",
      { class: "legend-columns" },
      h("div", {}, h("h3", {}, t("legend.marks")), h("ul", { class: "legend-list" }, RISKS.map((risk) => h("li", { dataset: { risk } }, riskMark(risk), " ", h("span", { class: "muted" }, t(`risk_help.${risk}`)))))),
      h(
        "div",
        {},
        h("h3", {}, t("legend.shapes")),
        h("ul", { class: "legend-list" }, NODE_KINDS.map((kind) => h("li", { dataset: { kind } }, nodeShapeIcon(kind), " ", tx("node", kind)))),
        h("p", { class: "muted" }, t("legend.edges")),
      ),
    ),
  );
}

// -- talking to the service ------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function asOf() {
  return $("as-of").value.trim();
}

function apiUrl(path, params = {}, { replay = true } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  // URLSearchParams writes "+" as %2B, as the protocol asks for offsets.
  if (replay && asOf()) url.searchParams.set("as_of", asOf());
  return url;
}

async function request(url, init = {}) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { Authorization: "Bearer " + token(), ...(init.headers || {}) },
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(0, "network", String(error));
  }
  if (response.ok) return response;
  let code = "";
  let message = response.statusText;
  let detail = null;
  try {
    const body = await response.json();
    code = body.error?.code ?? "";
    message = body.error?.message ?? message;
    detail = body.error?.detail ?? null;
  } catch (_) {
    /* not JSON: keep the status text */
  }
  throw new ApiError(response.status, code, message, detail);
}

async function api(path, params = {}, options = {}) {
  return (await request(apiUrl(path, params, options))).json();
}

async function post(document) {
  const response = await request(new URL("/v1/events", location.origin), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(document),
  });
  return response.json();
}

function uuid4() {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function explain(error, id) {
  if (!(error instanceof ApiError)) return t("error.page", { error: String(error) });
  const when = asOf() ? t("error.when", { as_of: asOf() }) : "";
  switch (error.status) {
    case 0:
      return t("error.network", { origin: location.origin });
    case 401:
      return t("error.401");
    case 403:
      return t("error.403", { message: error.message });
    case 404:
      return id ? t("error.404_id", { id, when }) : t("error.404", { when, message: error.message });
    case 422:
      return t("error.422", { message: error.message });
    default:
      return t("error.other", { status: error.status, message: error.message });
  }
}

// -- messages, status ------------------------------------------------------------------

function showMessage(text, tone = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = "message " + tone;
  box.hidden = false;
}

function clearMessage() {
  const box = $("message");
  box.textContent = "";
  box.hidden = true;
}

function setStatus(text) {
  $("status").textContent = text;
}

function mark(phase) {
  // Milliseconds since the current open started, per phase: kpl.timings.phases.
  if (kpl.timings.phases) kpl.timings.phases[phase] = Math.round(performance.now() - kpl.timings.started);
}

function showView(...sections) {
  mark("fetched");
  const view = $("view");
  if (state.cy) {
    state.cy.destroy();
    state.cy = kpl.cy = null;
  }
  view.replaceChildren(...sections.filter(Boolean));
  mark("shown");
  const replay = $("replay");
  replay.hidden = !asOf();
  replay.textContent = asOf() ? t("replay.notice", { as_of: asOf() }) : "";
}

// -- opening an id ---------------------------------------------------------------------

function fragment() {
  return new URLSearchParams(location.hash.slice(1));
}

function rootFromHash() {
  const value = fragment().get("root");
  return value ? value.trim() : "";
}

function navigate(id) {
  id = (id || "").trim();
  if (!id) return;
  const hash = "#root=" + encodeURIComponent(id);
  if (location.hash === hash) open(id);
  else location.hash = hash; // hashchange opens it, and the back button comes back
}

function route() {
  // What the fragment asks for: #root=ID, #alerts[&status=...], #from=A&to=B.
  const params = fragment();
  if (params.has("root")) return open(rootFromHash());
  if (location.hash === "#alerts" || params.has("alerts")) return openAlerts();
  if (params.has("from") && params.has("to")) return openPaths(params.get("from"), params.get("to"));
  return null;
}

async function resolve(text) {
  const { results } = await api("/v1/search", { q: text, limit: 50 }, { replay: false });
  for (const hit of results) remember(hit.id, hit.risk);
  const byKind = (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
  const exact = results.filter((hit) => hit.id === text).sort(byKind);
  if (exact.length) return { hit: exact[0], results };
  const loose = results.filter((hit) => hit.id.toLowerCase() === text.toLowerCase());
  if (loose.length === 1) return { hit: loose[0], results };
  if (results.length === 1) return { hit: results[0], results };
  if (!results.length) {
    // Search lists only what the token may read: ask for the lot itself, so that a lot
    // this token may not read says 403 (and an unknown id 404) rather than nothing.
    await api("/v1/lots/" + encodeURIComponent(text), {}, { replay: false });
    return { hit: { id: text, kind: "lot", label: "" }, results };
  }
  return { hit: null, results };
}

function begin(text) {
  if (!token()) {
    showMessage(t("message.token_first"));
    $("token").focus();
    return null;
  }
  const seq = ++state.seq;
  state.tried = true;
  kpl.timings.started = performance.now();
  kpl.timings.phases = {};
  state.risks = new Map();
  clearMessage();
  setStatus(t("status.opening", { id: text }));
  $("view").setAttribute("aria-busy", "true");
  $("view").dataset.opened = "";
  return seq;
}

function finish(seq, opened, statusText) {
  if (seq !== state.seq) return;
  const took = Math.round(performance.now() - kpl.timings.started);
  kpl.timings[opened] = took;
  kpl.timings.last = took;
  $("view").dataset.opened = opened;
  setStatus(statusText(took));
  updateDownloads();
}

async function open(text) {
  text = (text || "").trim();
  if (!text) return;
  await languageReady;
  const seq = begin(text);
  if (seq === null) return;
  state.rerender = () => open(text);
  try {
    const { hit, results } = await resolve(text);
    if (seq !== state.seq) return;
    if (!hit) {
      showMatches(text, results);
      return;
    }
    state.root = hit.id;
    state.kind = hit.kind;
    $("search").value = hit.id;
    if (location.hash !== "#root=" + encodeURIComponent(hit.id)) {
      history.replaceState(null, "", "#root=" + encodeURIComponent(hit.id));
    }
    const views = {
      lot: openLot,
      mine: openSource,
      alluvial_site: openSource,
      certificate: openCertificate,
      participant: openParticipant,
      operator: openOperator,
    };
    await views[hit.kind](hit, seq);
    finish(seq, hit.id, (took) => t("status.opened", { kind: tx("kind", hit.kind), id: hit.id, ms: count(took) }));
  } catch (error) {
    if (seq !== state.seq) return;
    showMessage(explain(error, text));
    setStatus("");
  } finally {
    if (seq === state.seq) $("view").removeAttribute("aria-busy");
  }
}

function showMatches(text, results) {
  showView(
    panel(
      t("matches.title", { text }),
      h("p", {}, t("matches.count", { n: count(results.length) })),
      h(
        "ul",
        { class: "matches" },
        results.map((hit) =>
          h("li", { dataset: { id: hit.id } }, idLink(hit.id), " ", h("span", { class: "kind" }, tx("kind", hit.kind)), " ", hit.label, " ", riskMarks(hit.risk)),
        ),
      ),
    ),
    legend(),
  );
  setStatus("");
}

// -- a lot -----------------------------------------------------------------------------

async function openLot(hit, seq) {
  const id = hit.id;
  const path = "/v1/lots/" + encodeURIComponent(id);
  const lot = await api(path); // 401, 403 and 404 end here, with one message
  // The lot's history (for retracted steps) is read beside the view, not before it.
  const history = api(path + "/history");
  history.catch(() => {});
  const [provenance, custody, alerts, graph] = await Promise.allSettled([
    api(path + "/provenance"),
    api(path + "/custody"),
    api("/v1/alerts"),
    api("/v1/graph", { root: id, direction: "both" }),
    api(path + "/history"),
  ]);
  if (seq !== state.seq) return;
  rememberGraph(graph);
  if (lot.status === "seized") remember(id, ["seized"]);
  const steps = custody.status === "fulfilled" ? custody.value.steps : [];
  const graphPanel = graphSection(graph, id, { wide: false });
  showView(
    lotSummary(lot),
    settledPanel(t("provenance.title"), provenance, provenancePanel),
    graphPanel.section,
    settledPanel(t("custody.title"), custody, (value) => custodyPanel(value, history, seq)),
    settledPanel(t("alerts.title"), alerts, (value) => alertsPanel(value.alerts, concerning(value.alerts, id, steps), t("alerts.none_lot"))),
    legend(),
  );
  defaultYear(steps.length ? steps[steps.length - 1].occurred_at : null);
  await graphPanel.draw();
}

function settledPanel(title, settled, render) {
  if (settled.status === "fulfilled") return render(settled.value);
  return panel(title, h("p", { class: "refused" }, explain(settled.reason)));
}

function facts(pairs, inline = false) {
  return h("dl", { class: inline ? "facts inline" : "facts" }, pairs.filter(Boolean).map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function summaryPanel(kind, id, wide, ...body) {
  return h(
    "section",
    { class: wide ? "panel summary wide" : "panel summary", "aria-label": tx("kind", kind), id: "summary" },
    h("h2", {}, tx("kind", kind), " ", h("span", { class: "mono" }, id), " ", riskMarks(risksOf(id))),
    ...body,
  );
}

function lotSummary(lot) {
  const list = (ids) => (ids.length ? ids.map((p) => [markedLink(p), " "]) : t("value.none"));
  return summaryPanel(
    "lot",
    lot.lot_id,
    true,
    facts(
      [
        [t("lot.carats"), decimal(lot.carats)],
        [t("lot.value_usd"), decimal(lot.value_usd)],
        [t("lot.holder"), lot.holder],
        "operator" in lot ? [t("lot.operator"), lot.operator ? markedLink(lot.operator) : t("value.none")] : null,
        [t("lot.status"), tx("status", lot.status)],
        [t("lot.certificate"), lot.certificate_id ? markedLink(lot.certificate_id) : t("value.none")],
        [t("lot.source"), lot.source_id ? markedLink(lot.source_id) : t("lot.no_source")],
        [t("lot.parents"), list(lot.parents)],
        [t("lot.children"), list(lot.children)],
      ],
      true,
    ),
  );
}

function provenancePanel(provenance) {
  const rows = provenance.sources.map((source) =>
    h(
      "tr",
      { dataset: { sourceId: source.source_id, fraction: source.fraction } },
      h("th", { scope: "row" }, markedLink(source.source_id), h("br"), h("small", { class: "muted" }, source.region)),
      h("td", {}, tx("kind", source.kind)),
      h("td", {}, source.participant),
      h("td", { class: "num carats" }, decimal(source.carats)),
      h("td", { class: "num share" }, percent(source.fraction)),
    ),
  );
  const palette = ["c0", "c1", "c2", "c3", "c4", "c5"];
  const sourcesBar = h(
    "div",
    { class: "stack", role: "img", "aria-label": t("provenance.by_source") },
    provenance.sources.map((source, index) =>
      h(
        "span",
        {
          class: "seg " + palette[index % palette.length],
          style: `width:${(source.fraction * 100).toFixed(3)}%`,
          title: `${source.source_id}: ${decimal(source.carats)} ct, ${percent(source.fraction)}`,
        },
        h("span", { class: "seg-label" }, `${source.source_id} ${percent(source.fraction)}`),
      ),
    ),
  );
  const embargoed = provenance.embargoed || [];
  const embargoedFraction = Math.min(1, embargoed.reduce((sum, e) => sum + e.fraction, 0));
  const embargoBar = h(
    "div",
    { class: "stack", role: "img", "aria-label": t("provenance.embargoed_share") },
    embargoed.map((embargo) =>
      h(
        "span",
        {
          class: "seg embargoed",
          style: `width:${(embargo.fraction * 100).toFixed(3)}%`,
          title: `${embargo.embargo_id}: ${decimal(embargo.carats)} ct`,
        },
        h("span", { class: "seg-label chip" }, `⚠ ${t("provenance.embargoed_chip")} ${percent(embargo.fraction)}`),
      ),
    ),
    embargoedFraction < 1
      ? h(
          "span",
          { class: "seg clear", style: `width:${((1 - embargoedFraction) * 100).toFixed(3)}%` },
          h("span", { class: "seg-label" }, `${t("provenance.not_embargoed")} ${percent(1 - embargoedFraction)}`),
        )
      : null,
  );
  const notice = embargoed.length
    ? h(
        "ul",
        { class: "embargo-list", id: "embargoed" },
        embargoed.map((embargo) =>
          h(
            "li",
            { class: "warning", dataset: { embargoId: embargo.embargo_id } },
            h("strong", {}, "⚠ ", t("provenance.embargoed_label"), " "),
            t("provenance.embargoed_text", { carats: decimal(embargo.carats), share: percent(embargo.fraction) }),
            " ",
            h("span", { class: "mono" }, embargo.embargo_id),
          ),
        ),
      )
    : h("p", { class: "ok" }, t("provenance.no_embargo"));
  const byParticipant = Object.entries(provenance.by_participant || {})
    .map(([code, share]) => `${code} ${decimal(share.carats)} ct (${percent(share.fraction)})`)
    .join(" · ");
  return panel(
    t("provenance.title"),
    notice,
    h("div", { class: "bars" }, h("p", { class: "bar-title" }, t("provenance.by_source")), sourcesBar, h("p", { class: "bar-title" }, t("provenance.embargoed_share")), embargoBar),
    table(
      "provenance-table",
      t("provenance.caption", { carats: decimal(provenance.carats), id: provenance.lot_id }),
      [t("provenance.col_source"), t("column.kind"), t("column.participant"), t("column.carats"), t("column.share")],
      rows,
      [3, 4],
    ),
    h("p", { class: "muted" }, t("provenance.by_participant"), " ", byParticipant),
  );
}

async function retractionReasons(entries) {
  // The reason of each retraction that struck an entry of this lot: from the lot's own
  // history when the retraction is listed there, otherwise read at its position.
  const reasons = new Map();
  for (const entry of entries) {
    if (entry.type === "document.retracted") reasons.set(entry.position, entry.document?.reason ?? "");
  }
  const missing = [...new Set(entries.map((e) => e.retracted_by).filter((p) => p && !reasons.has(p)))];
  await Promise.all(
    missing.map(async (position) => {
      try {
        const { events } = await api("/v1/events", { after: position - 1, limit: 1 }, { replay: false });
        if (events[0]?.position === position) reasons.set(position, events[0].document?.reason ?? "");
      } catch (_) {
        /* the reason stays unknown; the step is still struck through */
      }
    }),
  );
  return reasons;
}

function custodyPanel(custody, history, seq) {
  const list = h(
    "ol",
    { class: "timeline", id: "custody-steps" },
    custody.steps.map((step) => custodyStep(step, custody.lot_id)),
  );
  history.then(async ({ events }) => {
    // Retracted entries of the lot, struck through in their place, with their reason.
    const retracted = events.filter((entry) => entry.retracted_by);
    if (!retracted.length || seq !== state.seq) return;
    for (const entry of retracted) {
      const item = retractedStep(entry);
      const after = [...list.children].find((li) => Number(li.dataset.position) > entry.position);
      list.insertBefore(item, after ?? null);
    }
    const reasons = await retractionReasons(events);
    for (const item of list.querySelectorAll("li.retracted")) {
      const reason = reasons.get(Number(item.dataset.retractedBy));
      if (reason !== undefined) item.querySelector(".reason").textContent = t("custody.retracted_reason", { position: item.dataset.retractedBy, reason });
    }
  }, () => {});
  return panel(t("custody.title"), h("p", { class: "muted" }, t("custody.help")), list);
}

function custodyStep(step, lotId) {
  return h(
    "li",
    { dataset: { position: step.position } },
    h("span", { class: "when" }, `#${step.position} · ${instant(step.occurred_at)}`),
    h("span", { class: "what" }, tx("step", step.type)),
    h(
      "span",
      { class: "who" },
      step.lot_id === lotId ? h("span", { class: "mono" }, step.lot_id) : markedLink(step.lot_id),
      " → ",
      t("custody.held_by", { holder: step.holder }),
      step.operator ? [" ", markedLink(step.operator)] : null,
      step.certificate_id ? [" · ", markedLink(step.certificate_id)] : null,
    ),
  );
}

function retractedStep(entry) {
  return h(
    "li",
    { class: "retracted", dataset: { position: entry.position, retractedBy: entry.retracted_by } },
    h("del", {}, h("span", { class: "when" }, `#${entry.position} · ${instant(entry.occurred_at)}`), " ", h("span", { class: "what" }, tx("step", entry.type))),
    h("span", { class: "reason" }, t("custody.retracted", { position: entry.retracted_by })),
  );
}

function mentions(value, ids) {
  if (typeof value === "string") return ids.has(value);
  if (Array.isArray(value)) return value.some((item) => mentions(item, ids));
  if (value && typeof value === "object") return Object.values(value).some((item) => mentions(item, ids));
  return false;
}

function concerning(alerts, id, steps = []) {
  // The alerts that concern an id: their subject is it (or starts with it and "/"), or
  // their detail names it, or a certificate the lot itself travelled under.
  const ids = new Set([id]);
  for (const step of steps) if (step.lot_id === id && step.certificate_id) ids.add(step.certificate_id);
  return alerts.filter((alert) => ids.has(alert.subject) || alert.subject.startsWith(id + "/") || mentions(alert.detail, ids));
}

function alertsPanel(all, concerned, none) {
  if (!concerned.length) return panel(t("alerts.title"), h("p", { class: "ok" }, none));
  return panel(
    t("alerts.title"),
    alertsTable(concerned, false),
    h("p", {}, h("a", { href: "#alerts" }, t("alerts.triage_link"))),
  );
}

function subjectLink(subject) {
  const id = subject.split("/")[0];
  return [idLink(id, subject), riskMarks(risksOf(id))];
}

function alertsTable(alerts, withTriage, canTriage = false) {
  // The triage column comes first, so that its buttons stay in view in a narrow window.
  const triaging = withTriage && canTriage;
  const columns = [t("column.type"), t("column.severity"), t("column.subject"), t("column.participant"), t("column.review"), t("column.detail")];
  if (triaging) columns.unshift(t("column.triage"));
  return table(
    "alerts-table",
    null,
    columns,
    alerts.map((alert) =>
      h(
        "tr",
        { class: "sev-" + alert.severity, dataset: { alertId: alert.alert_id, type: alert.type } },
        triaging ? h("td", { class: "triage" }, triageControls(alert)) : null,
        h("td", {}, tx("alert", alert.type)),
        h("td", {}, h("span", { class: "severity severity-" + alert.severity }, tx("severity", alert.severity))),
        h("td", {}, subjectLink(alert.subject)),
        h("td", {}, alert.participant),
        h("td", { class: "review" }, review(alert)),
        h("td", { class: "detail" }, describe(alert.detail)),
      ),
    ),
  );
}

function review(alert) {
  if (!("review" in alert)) return t("review.untracked");
  if (!alert.review) return tx("review", "open");
  const { status, note, by } = alert.review;
  return [h("strong", {}, tx("review", status)), note ? ` — ${note}` : "", by ? ` (${by})` : ""];
}

function describe(detail) {
  return Object.entries(detail || {})
    .map(([name, value]) => `${name}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join("; ");
}

// -- the alert list and its triage -------------------------------------------------------

async function mayTriage() {
  // The protocol names no "who am I": post a review of an alert that cannot exist; an
  // investigator or the secretariat is told 409 unknown_alert, any other role 403, and
  // nothing is appended either way. Asked once per token.
  const key = token();
  if (!state.triage.has(key)) {
    const probe = {
      event_id: uuid4(),
      type: "alert.reviewed",
      occurred_at: new Date().toISOString(),
      alert_id: "kpledger-page-probe-no-such-alert",
      status: "open",
      note: "a probe of the page: may this token triage?",
    };
    state.triage.set(
      key,
      post(probe).then(
        () => true,
        (error) => error instanceof ApiError && error.status === 409,
      ),
    );
  }
  return state.triage.get(key);
}

function alertFilters() {
  const params = fragment();
  return {
    type: params.get("type") || "",
    status: params.get("status") || "",
    participant: params.get("participant") || "",
    severity: params.get("severity") || "",
  };
}

async function openAlerts() {
  await languageReady;
  const seq = begin(t("alerts.title"));
  if (seq === null) return;
  state.rerender = () => openAlerts();
  try {
    const filters = alertFilters();
    const [{ alerts }, canTriage] = await Promise.all([
      api("/v1/alerts", { type: filters.type, status: filters.status, participant: filters.participant }),
      mayTriage(),
    ]);
    const [everything] = await Promise.allSettled([filters.type ? api("/v1/alerts") : Promise.resolve({ alerts })]);
    if (seq !== state.seq) return;
    const types = [...new Set((everything.status === "fulfilled" ? everything.value.alerts : alerts).map((a) => a.type))].sort();
    const shown = alerts.filter((alert) => !filters.severity || alert.severity === filters.severity);
    showView(alertList(shown, alerts.length, filters, types, canTriage), legend());
    finish(seq, "alerts", (took) => t("status.alerts", { n: count(shown.length), ms: count(took) }));
  } catch (error) {
    if (seq !== state.seq) return;
    showMessage(explain(error));
    setStatus("");
  } finally {
    if (seq === state.seq) $("view").removeAttribute("aria-busy");
  }
}

function alertList(alerts, total, filters, types, canTriage) {
  const select = (id, label, value, options) =>
    h(
      "span",
      { class: "filter" },
      h("label", { for: id }, label),
      h("select", { id, name: id }, h("option", { value: "" }, t("filter.all")), options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))),
    );
  const form = h(
    "form",
    { id: "alert-filters", class: "filters" },
    select("filter-type", t("column.type"), filters.type, types.map((type) => [type, tx("alert", type)])),
    select("filter-status", t("column.review"), filters.status, REVIEW_STATUSES.map((s) => [s, tx("review", s)])),
    select("filter-severity", t("column.severity"), filters.severity, SEVERITIES.map((s) => [s, tx("severity", s)])),
    h("span", { class: "filter" }, h("label", { for: "filter-participant" }, t("column.participant")), h("input", { id: "filter-participant", value: filters.participant, size: 4, spellcheck: "false" })),
    h("button", { type: "submit", class: "small" }, t("filter.apply")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    params.set("alerts", "");
    for (const name of ["type", "status", "severity", "participant"]) {
      const value = form.querySelector(`#filter-${name}`).value.trim();
      if (value) params.set(name, value);
    }
    location.hash = params.toString().replace("alerts=", "alerts");
  });
  for (const element of form.querySelectorAll("select")) element.addEventListener("change", () => form.requestSubmit());
  return h(
    "section",
    { class: "panel wide", id: "alert-list", "aria-label": t("alerts.title") },
    h("h2", {}, t("alerts.title")),
    form,
    h("p", { class: "muted" }, t("alerts.count", { n: count(alerts.length), total: count(total) }), " ", canTriage ? t("alerts.can_triage") : t("alerts.read_only")),
    alertsTable(alerts, true, canTriage),
  );
}

function triageControls(alert) {
  const note = h("input", { type: "text", class: "note", "aria-label": t("triage.note"), placeholder: t("triage.note"), value: alert.review?.note ?? "" });
  const act = (status) => async () => {
    clearMessage();
    if (!note.value.trim()) {
      showMessage(t("triage.note_needed"), "info");
      note.focus();
      return;
    }
    try {
      const answer = await post({
        event_id: uuid4(),
        type: "alert.reviewed",
        occurred_at: new Date().toISOString(),
        alert_id: alert.alert_id,
        status,
        note: note.value.trim(),
      });
      await state.rerender?.(); // the list as it now stands, then what was done
      showMessage(t("triage.done", { id: alert.alert_id, status: tx("review", status), position: answer.position }), "info");
    } catch (error) {
      showMessage(explain(error));
    }
  };
  const button = (status, label) => h("button", { type: "button", class: "small triage-" + status, dataset: { status }, onclick: act(status) }, label);
  return h("div", { class: "triage-controls" }, note, button("confirmed", t("triage.confirm")), button("dismissed", t("triage.dismiss")), button("open", t("triage.reopen")));
}

// -- sources, certificates, participants, operators --------------------------------------

async function traceAndGraph(params, root) {
  return Promise.allSettled([api("/v1/trace/downstream", params), api("/v1/graph", { root, direction: "both" })]);
}

async function openSource(hit, seq) {
  const [trace, graph] = await traceAndGraph({ source_id: hit.id }, hit.id);
  rememberGraph(graph);
  const node = rootNode(graph);
  const notice = h("div", { class: "embargo-box" }, risksOf(hit.id).includes("embargoed_source") ? embargoNotice(hit.id, []) : null);
  const body = [
    h("p", {}, hit.label),
    node ? facts([[t("column.kind"), tx("kind", node.source_kind)], [t("column.participant"), node.participant], [t("source.region"), node.region]]) : null,
    notice,
  ];
  // The embargo is read beside the drawing, not before it (one more answer to wait for).
  const embargoes = sourceEmbargoes(hit.id, graph).then((found) => {
    if (seq !== state.seq) return;
    notice.replaceChildren(embargoNotice(hit.id, found));
    if (!found.length) return;
    const title = document.querySelector("#summary h2");
    if (title && !title.querySelector('[data-risk="embargoed_source"]')) title.append(" ", riskMark("embargoed_source"));
  });
  await showTrace(hit, trace, graph, seq, body);
  embargoes.catch(() => {}); // filled in when it comes; the view does not wait for it
}

async function sourceEmbargoes(id, graph) {
  // The embargoes in force over a source: those of a lot produced there (all of whose
  // carats come from it), read from that lot's provenance.
  if (graph.status !== "fulfilled") return [];
  const node = "source:" + id;
  const produced = graph.value.edges.find((e) => e.kind === "produced-at" && (e.target === node || e.source === node));
  if (!produced) return [];
  const lot = keyOf(produced.source === node ? produced.target : produced.source);
  try {
    const provenance = await api("/v1/lots/" + encodeURIComponent(lot) + "/provenance");
    const only = provenance.sources.length === 1 && provenance.sources[0].source_id === id;
    return only ? provenance.embargoed || [] : (provenance.embargoed || []).filter(() => risksOf(id).includes("embargoed_source"));
  } catch (_) {
    return [];
  }
}

function embargoNotice(id, embargoes) {
  if (embargoes.length) {
    remember(id, ["embargoed_source"]);
    return h(
      "ul",
      { class: "embargo-list", id: "source-embargo" },
      embargoes.map((embargo) => h("li", { class: "warning", dataset: { embargoId: embargo.embargo_id } }, riskMark("embargoed_source"), " ", t("source.embargoed", { embargo: embargo.embargo_id }))),
    );
  }
  if (risksOf(id).includes("embargoed_source")) return h("p", { class: "warning", id: "source-embargo" }, riskMark("embargoed_source"), " ", t("source.embargoed_unnamed"));
  return h("p", { class: "ok", id: "source-embargo" }, t("source.no_embargo"));
}

async function openParticipant(hit, seq) {
  const [trace, graph] = await traceAndGraph({ participant: hit.id }, hit.id);
  rememberGraph(graph);
  const node = rootNode(graph);
  await showTrace(hit, trace, graph, seq, [h("p", {}, hit.label), node?.status ? facts([[t("lot.status"), tx("participant_status", node.status)]]) : null]);
}

async function openOperator(hit, seq) {
  const [[trace, graph], [operator, alerts]] = await Promise.all([
    traceAndGraph({ operator: hit.id }, hit.id),
    // Operator ids start with their participant's code: its alerts are the ones to look at.
    Promise.allSettled([api("/v1/operators/" + encodeURIComponent(hit.id)), api("/v1/alerts", { participant: hit.id.split("-")[0] })]),
  ]);
  rememberGraph(graph);
  const body = [];
  if (operator.status === "fulfilled") {
    const o = operator.value;
    if ((o.sanctions || []).some((s) => s.in_force)) remember(hit.id, ["sanctioned"]);
    body.push(operatorFacts(o));
  } else {
    body.push(h("p", { class: "refused" }, explain(operator.reason)));
  }
  await showTrace(hit, trace, graph, seq, body, alerts);
}

function licenceState(operator) {
  if (operator.revoked) return h("strong", { class: "refused", dataset: { licence: "revoked" } }, t("licence.revoked"));
  const until = operator.licence?.valid_until;
  const today = new Date().toISOString().slice(0, 10);
  if (until && until < today) return h("span", { class: "muted", dataset: { licence: "expired" } }, t("licence.expired", { date: day(until) }));
  return h("span", { class: "ok", dataset: { licence: "valid" } }, t("licence.valid", { date: day(until) }));
}

function operatorFacts(operator) {
  const sanctions = operator.sanctions || [];
  const listings = sanctions.length
    ? h(
        "ul",
        { class: "sanctions", id: "sanctions" },
        sanctions.map((s) =>
          h(
            "li",
            { class: s.in_force ? "warning" : "", dataset: { listingId: s.listing_id, inForce: s.in_force } },
            s.in_force ? riskMark("sanctioned") : null,
            " ",
            h("span", { class: "mono" }, s.listing_id),
            " — ",
            s.in_force ? t("sanction.in_force") : t("sanction.lifted"),
          ),
        ),
      )
    : h("span", { id: "sanctions", class: "ok" }, t("sanction.none"));
  return facts([
    [t("operator.name"), operator.name],
    [t("column.participant"), idLink(operator.participant)],
    [t("operator.roles"), (operator.roles || []).map((r) => tx("role", r)).join(", ")],
    [t("operator.licence"), h("span", { id: "licence" }, h("span", { class: "mono" }, operator.licence?.number ?? ""), " · ", licenceState(operator))],
    [t("operator.sanctions"), listings],
    [t("operator.lots_held"), (operator.lots_held || []).length ? operator.lots_held.map((lot) => [markedLink(lot), " "]) : t("value.none")],
  ]);
}

async function openCertificate(hit, seq) {
  const [graphSettled, certificate] = await Promise.allSettled([
    api("/v1/graph", { root: hit.id, direction: "both" }),
    api("/v1/certificates/" + encodeURIComponent(hit.id)),
  ]);
  if (graphSettled.status === "rejected") throw graphSettled.reason;
  const graph = graphSettled.value;
  rememberGraph(graphSettled);
  const node = "certificate:" + hit.id;
  const lots = graph.edges
    .filter((edge) => edge.target === node && edge.kind === "shipped-under")
    .map((edge) => keyOf(edge.source));
  const traces = await Promise.allSettled(lots.map((lot) => api("/v1/trace/downstream", { lot_id: lot })));
  const failed = traces.find((trace) => trace.status === "rejected");
  const trace = failed || { status: "fulfilled", value: mergeTraces(traces.map((t) => t.value)) };
  // a cancelled certificate is joined to no lot in the graph: its read names them
  const cancelled = certificate.status === "fulfilled" && certificate.value.status === "cancelled";
  const named = cancelled ? certificate.value.lot_ids : lots;
  const body = [
    h("p", { id: "certificate-lots" }, t(cancelled ? "certificate.lots_cancelled" : "certificate.lots"), " ", named.map((lot) => [markedLink(lot), " "])),
  ];
  if (certificate.status === "fulfilled") {
    const c = certificate.value;
    if (c.status === "cancelled") remember(hit.id, ["cancelled"]);
    body.push(
      facts([
        [t("lot.status"), h("span", { id: "certificate-status" }, tx("status", c.status), " ", c.status === "cancelled" ? riskMark("cancelled") : null)],
        [t("certificate.route"), `${c.exporting_participant} → ${c.importing_participant}`],
        [t("certificate.exporter"), [c.exporter?.name ?? "", c.exporter?.operator_id ? [" ", markedLink(c.exporter.operator_id)] : null]],
        [t("certificate.importer"), [c.importer?.name ?? "", c.importer?.operator_id ? [" ", markedLink(c.importer.operator_id)] : null]],
        [t("lot.carats"), decimal(c.carats)],
        [t("lot.value_usd"), decimal(c.value_usd)],
        [t("certificate.issued"), day(c.issued_on)],
        [t("certificate.expires"), day(c.expires_on)],
        [t("certificate.origin"), c.declared_origin],
      ]),
    );
  }
  body.push(
    h("p", {}, h("a", { href: "#", id: "download-proof", onclick: (event) => {
      event.preventDefault();
      download(new URL(`/v1/certificates/${encodeURIComponent(hit.id)}/proof`, location.origin), `kpledger-proof-${hit.id}.txt`);
    } }, t("certificate.proof")), " ", h("small", { class: "muted" }, t("certificate.proof_help"))),
  );
  await showTrace(hit, trace, { status: "fulfilled", value: graph }, seq, body);
}

function rootNode(settled) {
  if (settled?.status !== "fulfilled") return null;
  return settled.value.nodes.find((n) => n.id === settled.value.graph?.root) || null;
}

function mergeTraces(traces) {
  const lots = new Map();
  const certificates = new Map();
  const operators = new Map();
  const participants = new Set();
  const add = (map, key, item) => {
    const seen = map.get(key);
    map.set(key, seen ? { ...item, carats_from_origin: addDecimal(seen.carats_from_origin, item.carats_from_origin) } : item);
  };
  for (const trace of traces) {
    for (const lot of trace.lots) add(lots, lot.lot_id, lot);
    for (const cert of trace.certificates) add(certificates, cert.certificate_id, cert);
    for (const operator of trace.operators || []) add(operators, operator.operator_id, operator);
    for (const code of trace.participants) participants.add(code);
  }
  const merged = { lots: [...lots.values()], certificates: [...certificates.values()], participants: [...participants].sort() };
  if (traces.some((trace) => "operators" in trace)) merged.operators = [...operators.values()];
  return merged;
}

function addDecimal(a, b) {
  // Decimal strings with up to 4 places, added exactly in ten-thousandths.
  const units = (text) => {
    const [whole, part = ""] = String(text).split(".");
    return BigInt(whole + part.padEnd(4, "0").slice(0, 4));
  };
  const sum = units(a) + units(b);
  const digits = sum.toString().padStart(5, "0");
  let fraction = digits.slice(-4).replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  return `${digits.slice(0, -4)}.${fraction}`;
}

async function showTrace(hit, trace, graph, seq, body = [], alerts = null) {
  if (seq !== state.seq) return;
  if (trace.status === "rejected" && graph.status === "rejected") throw trace.reason;
  const fromOrigin = trace.status === "fulfilled" ? originCarats(trace.value) : null;
  const graphPanel = graphSection(graph, hit.id, { fromOrigin });
  const summary = summaryPanel(hit.kind, hit.id, false, ...body);
  const alertPanel = alerts
    ? settledPanel(t("alerts.title"), alerts, (value) => alertsPanel(value.alerts, concerning(value.alerts, hit.id), t("alerts.none")))
    : null;
  showView(summary, settledPanel(t("trace.title"), trace, tracePanel), alertPanel, graphPanel.section, legend());
  if (trace.status === "fulfilled") markCompanies(trace.value.operators || [], seq);
  await graphPanel.draw();
}

async function markCompanies(operators, seq) {
  // A downstream trace names its companies without their risk marks, and the graph of a
  // source does not reach them: each one shown is looked up once (GET /v1/search).
  const unknown = operators.slice(0, TRACE_ROWS).filter((o) => !state.risks.has(o.operator_id));
  await Promise.all(
    unknown.map(async ({ operator_id: id }) => {
      try {
        const { results } = await api("/v1/search", { q: id, kind: "operator", limit: 1 });
        const found = results.find((r) => r.id === id);
        if (!found || seq !== state.seq) return;
        remember(id, found.risk);
        const cell = document.querySelector(`#trace-operators tr[data-id="${CSS.escape(id)}"] th`);
        const marks = riskMarks(risksOf(id));
        if (cell && marks && !cell.querySelector(".risks")) cell.append(marks);
      } catch (_) {
        /* the row stays without marks */
      }
    }),
  );
}

function originCarats(trace) {
  // node id -> carats that came from the view's origin (downstream's carats_from_origin).
  const carats = new Map();
  for (const lot of trace.lots) carats.set("lot:" + lot.lot_id, lot.carats_from_origin);
  for (const cert of trace.certificates) carats.set("certificate:" + cert.certificate_id, cert.carats_from_origin);
  for (const operator of trace.operators || []) carats.set("operator:" + operator.operator_id, operator.carats_from_origin);
  return carats;
}

function cappedRows(rows, what) {
  // The first TRACE_ROWS rows, and a button that adds the rest (a large trace would
  // otherwise cost more to lay out than the graph).
  const body = h("tbody", {}, rows.slice(0, TRACE_ROWS));
  if (rows.length <= TRACE_ROWS) return [body, null];
  const more = h("button", { type: "button", class: "show-all small" }, t("trace.show_all", { n: rows.length, what: t(`trace.${what}`) }));
  const note = h("p", { class: "muted" }, t("trace.shown", { shown: count(TRACE_ROWS), n: count(rows.length), what: t(`trace.${what}`) }), " ", more);
  more.addEventListener("click", () => {
    body.append(...rows.slice(TRACE_ROWS));
    note.remove();
  });
  return [body, note];
}

function tracePanel(trace) {
  const lotRows = trace.lots.map((lot) =>
    h("tr", { dataset: { id: lot.lot_id } }, h("th", { scope: "row" }, markedLink(lot.lot_id)), h("td", {}, lot.holder), h("td", {}, tx("status", lot.status)), h("td", { class: "num" }, decimal(lot.carats_from_origin))),
  );
  const certificateRows = trace.certificates.map((cert) =>
    h("tr", { dataset: { id: cert.certificate_id } }, h("th", { scope: "row" }, markedLink(cert.certificate_id)), h("td", {}, `${cert.exporting_participant} → ${cert.importing_participant}`), h("td", { class: "num" }, decimal(cert.carats_from_origin))),
  );
  const operators = trace.operators;
  const operatorRows = (operators || []).map((operator) =>
    h("tr", { dataset: { id: operator.operator_id } }, h("th", { scope: "row" }, markedLink(operator.operator_id)), h("td", {}, operator.participant), h("td", { class: "num" }, decimal(operator.carats_from_origin))),
  );
  const [lotBody, lotNote] = cappedRows(lotRows, "lots");
  const [certificateBody, certificateNote] = cappedRows(certificateRows, "certificates");
  const [operatorBody, operatorNote] = cappedRows(operatorRows, "operators");
  return panel(
    t("trace.title"),
    h("p", {}, t("trace.summary", { lots: count(trace.lots.length), certificates: count(trace.certificates.length), participants: count(trace.participants.length) }), operators ? [" ", t("trace.companies", { n: count(operators.length) })] : null),
    h("p", {}, t("trace.participants"), " ", trace.participants.length ? trace.participants.map((code) => [idLink(code), " "]) : t("value.none")),
    operators ? table("trace-operators", t("trace.operators_caption"), [t("kind.operator"), t("column.participant"), t("column.from_here")], operatorBody, [2]) : null,
    operatorNote,
    table("trace-lots", t("trace.lots_caption"), [t("kind.lot"), t("lot.holder"), t("lot.status"), t("column.from_here")], lotBody, [3]),
    lotNote,
    table("trace-certificates", t("trace.certificates_caption"), [t("kind.certificate"), t("certificate.route"), t("column.from_here")], certificateBody, [2]),
    certificateNote,
  );
}

// -- paths between two ids ---------------------------------------------------------------

async function openPaths(from, to) {
  await languageReady;
  from = (from || "").trim();
  to = (to || "").trim();
  if (!from || !to) return;
  $("path-from").value = from;
  $("path-to").value = to;
  const seq = begin(`${from} → ${to}`);
  if (seq === null) return;
  state.rerender = () => openPaths(from, to);
  try {
    const answer = await api("/v1/paths", { from, to, limit: 10 });
    if (seq !== state.seq) return;
    const nodes = new Map();
    const edges = new Map();
    for (const path of answer.paths) {
      for (const node of path.nodes) nodes.set(node, { id: node, kind: node.slice(0, node.indexOf(":")), label: keyOf(node) });
      for (const edge of path.edges) edges.set(`${edge.source}>${edge.target}`, edge);
    }
    const first = answer.paths[0]?.nodes[0];
    const graph = { graph: { root: first }, nodes: [...nodes.values()], edges: [...edges.values()] };
    const graphPanel = answer.paths.length ? graphSection({ status: "fulfilled", value: graph }, from, { paths: true }) : null;
    const list = h(
      "ol",
      { class: "paths", id: "path-list" },
      answer.paths.map((path) =>
        h(
          "li",
          { dataset: { carats: path.carats } },
          h("strong", {}, `${decimal(path.carats)} ct`),
          " ",
          path.nodes.map((node, i) => [i ? h("span", { class: "arrow", "aria-hidden": "true" }, " → ") : null, h("span", { class: "kind" }, tx("node", node.slice(0, node.indexOf(":")))), " ", markedLink(keyOf(node))]),
        ),
      ),
    );
    showView(
      h(
        "section",
        { class: "panel wide", id: "paths", "aria-label": t("paths.title") },
        h("h2", {}, t("paths.title_between", { from, to })),
        h("p", {}, answer.paths.length ? t("paths.summary", { n: count(answer.paths.length), carats: decimal(answer.carats), from, to }) : t("paths.none", { from, to })),
        answer.truncated ? h("p", { class: "warning" }, t("paths.truncated")) : null,
        list,
      ),
      graphPanel?.section,
      legend(),
    );
    if (graphPanel) await graphPanel.draw();
    finish(seq, `${from}>${to}`, (took) => t("status.paths", { n: count(answer.paths.length), ms: count(took) }));
  } catch (error) {
    if (seq !== state.seq) return;
    showMessage(explain(error));
    setStatus("");
  } finally {
    if (seq === state.seq) $("view").removeAttribute("aria-busy");
  }
}

// -- the graph ---------------------------------------------------------------------------

let libraries = null;

async function graphLibraries() {
  if (!libraries) {
    libraries = Promise.all([import("/ui/vendor/cytoscape.js"), import("/ui/vendor/cytoscape-dagre.js")]).then(
      ([cytoscape, dagre]) => {
        cytoscape.default.use(dagre.default);
        return cytoscape.default;
      },
    );
    libraries.catch(() => {
      libraries = null;
    });
  }
  return libraries;
}

function keyOf(node) {
  return node.slice(node.indexOf(":") + 1);
}

function nearest(graph, root, limit) {
  // Breadth-first from the root, both ways: the nodes drawn when there are too many.
  if (graph.nodes.length <= limit) return new Set(graph.nodes.map((n) => n.id));
  const around = new Map(graph.nodes.map((n) => [n.id, []]));
  for (const edge of graph.edges) {
    around.get(edge.source)?.push(edge.target);
    around.get(edge.target)?.push(edge.source);
  }
  const kept = new Set([root]);
  const queue = [root];
  for (let head = 0; head < queue.length && kept.size < limit; head++) {
    for (const next of around.get(queue[head]) || []) {
      if (kept.size >= limit) break;
      if (!kept.has(next)) {
        kept.add(next);
        queue.push(next);
      }
    }
  }
  return kept;
}

function layered(nodes, edges, root) {
  // A cheap layered layout for large graphs, left to right: each node's rank is its signed
  // breadth-first depth from the root (downstream +1 along an edge, upstream -1 against
  // it), a long rank wrapped into several columns.
  const out = new Map(nodes.map((n) => [n.id, []]));
  const into = new Map(nodes.map((n) => [n.id, []]));
  for (const edge of edges) {
    out.get(edge.source).push(edge.target);
    into.get(edge.target).push(edge.source);
  }
  const rank = new Map([[root, 0]]);
  const queue = [root];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    const r = rank.get(id);
    for (const [neighbours, step] of [[out.get(id), 1], [into.get(id), -1]]) {
      for (const next of neighbours || []) {
        if (rank.has(next)) continue;
        rank.set(next, r + step);
        queue.push(next);
      }
    }
  }
  for (const n of nodes) if (!rank.has(n.id)) rank.set(n.id, 0);
  const ranks = new Map();
  for (const n of nodes) {
    const r = rank.get(n.id);
    if (!ranks.has(r)) ranks.set(r, []);
    ranks.get(r).push(n.id);
  }
  const perColumn = Math.max(12, Math.ceil(Math.sqrt(nodes.length) * 1.5));
  const positions = {};
  let column = 0;
  for (const r of [...ranks.keys()].sort((a, b) => a - b)) {
    const members = ranks.get(r);
    const columns = Math.ceil(members.length / perColumn);
    members.forEach((id, i) => {
      const along = (column + Math.floor(i / perColumn)) * 90;
      const within = (i % perColumn) * 40 - (Math.min(members.length, perColumn) - 1) * 20;
      positions[id] = { x: along, y: within };
    });
    column += columns + 1;
  }
  return positions;
}

function nodeLabel(node, risks) {
  const key = keyOf(node.id);
  if (!risks.length) return key;
  return key + "\n" + risks.map((risk) => `${RISK_SYMBOL[risk] ?? "!"} ${tx("risk", risk)}`).join(" · ");
}

function edgeLabel(edge, fromOrigin) {
  // Rooted at a source, participant, operator or certificate: the carats from that root
  // along the edge (the smaller of its ends' shares); elsewhere the carats that moved.
  if (!fromOrigin) return edge.carats ? `${decimal(edge.carats)} ct` : "";
  const ends = [fromOrigin.get(edge.source), fromOrigin.get(edge.target)].filter((v) => v !== undefined);
  if (!ends.length) return "";
  const least = ends.reduce((a, b) => (Number(b) < Number(a) ? b : a));
  return `${decimal(least)} ct`;
}

function graphElements(nodes, edges, root, fromOrigin) {
  return [
    ...nodes.map((n) => {
      const risks = [...new Set([...(n.risk || []), ...risksOf(keyOf(n.id))])];
      return { data: { id: n.id, key: keyOf(n.id), kind: n.kind, label: nodeLabel(n, risks), root: n.id === root ? "yes" : "no", status: n.status ?? "", risk: risks.join(" ") } };
    }),
    ...edges.map((e) => {
      const label = edgeLabel(e, fromOrigin);
      return { data: { id: `${e.source}>${e.target}`, source: e.source, target: e.target, kind: e.kind, label, carried: !fromOrigin || label ? "yes" : "no" } };
    }),
  ];
}

function graphSection(settled, rootId, { wide = true, fromOrigin = null, paths = false } = {}) {
  const box = h("div", { id: "graph", class: "graph", role: "img", "aria-label": t("graph.aria") });
  const note = h("p", { class: "muted", id: "graph-note" });
  const list = h("ul", { class: "nodes", id: "graph-nodes", "aria-label": t("graph.nodes") });
  const selected = h("div", { class: "node-bar", id: "node-bar", hidden: true });
  const toolbar = h("div", { class: "graph-tools", id: "graph-tools" });
  const section = h(
    "section",
    { class: wide ? "panel wide" : "panel graph-panel", "aria-label": t("graph.title") },
    h("h2", {}, paths ? t("graph.paths_title") : t("graph.title")),
    note,
    toolbar,
    selected,
    h("div", { class: "graph-area" }, box, h("nav", { class: "node-list", "aria-label": t("graph.nodes") }, h("h3", {}, t("graph.nodes")), list)),
  );
  async function draw() {
    if (settled.status !== "fulfilled") {
      note.textContent = explain(settled.reason);
      box.remove();
      return;
    }
    const graph = settled.value;
    const root = graph.graph?.root || rootId;
    const kept = nearest(graph, root, MAX_DRAWN);
    const hidden = graph.nodes.length - kept.size;
    state.graphSize = graph.nodes.length;
    note.textContent =
      (paths ? t("graph.paths_summary", { nodes: count(graph.nodes.length), edges: count(graph.edges.length) }) : t("graph.summary", { nodes: count(graph.nodes.length), edges: count(graph.edges.length), id: rootId })) +
      (hidden > 0 ? " " + t("graph.more", { n: hidden, max: count(MAX_DRAWN) }) : "") +
      " " +
      (fromOrigin ? t("graph.edges_from_origin", { id: rootId }) : t("graph.edges_moved")) +
      " " +
      t("graph.help");
    note.classList.toggle("warning", hidden > 0);
    const drawn = graph.nodes.filter((n) => kept.has(n.id));
    list.replaceChildren(
      ...drawn.map((n) => h("li", { class: "k-" + n.kind }, drawn.length > DAGRE_MAX ? null : [nodeShapeIcon(n.kind), " "], idLink(keyOf(n.id)), " ", h("span", { class: "kind" }, tx("node", n.kind)), " ", riskMarks([...new Set([...(n.risk || []), ...risksOf(keyOf(n.id))])]))),
    );
    mark("listed");
    let cytoscape;
    try {
      cytoscape = await graphLibraries();
      mark("loaded");
    } catch (error) {
      note.textContent = t("graph.no_library", { error: String(error) });
      note.classList.add("warning");
      return;
    }
    const drawnEdges = graph.edges.filter((e) => kept.has(e.source) && kept.has(e.target));
    const large = drawn.length > DAGRE_MAX;
    const cy = cytoscape({
      container: box,
      elements: graphElements(drawn, drawnEdges, root, fromOrigin),
      style: graphStyle(large),
      layout: { name: "preset" },
      hideEdgesOnViewport: large,
      textureOnViewport: large,
      motionBlur: false,
      wheelSensitivity: 0.3,
    });
    state.cy = kpl.cy = cy;
    mark("created");
    const select = (node) => {
      cy.nodes(":selected").unselect();
      node.select();
      showNodeBar(selected, node, cy, fromOrigin, () => layout(cy, root, false));
    };
    cy.on("tap", "node", (event) => {
      kpl.tapped = performance.now();
      select(event.target);
    });
    cy.on("dbltap", "node", (event) => navigate(event.target.data("key")));
    cy.on("tap", (event) => {
      if (event.target === cy) {
        cy.nodes(":selected").unselect();
        selected.hidden = true;
      }
    });
    cy.on("mouseover", "node", () => (box.style.cursor = "pointer"));
    cy.on("mouseout", "node", () => (box.style.cursor = ""));
    toolbar.replaceChildren(...graphTools(cy, root, drawn));
    if (large) {
      const positions = layered(drawn, drawnEdges, root);
      cy.layout({ name: "preset", positions: (node) => positions[node.id()], fit: false, animate: false }).run();
      mark("laid out");
      cy.fit(undefined, 20);
    } else {
      await layout(cy, root, true);
    }
    mark("fitted");
    box.dataset.layout = large ? "layered" : "dagre";
    box.dataset.drawn = String(cy.nodes().length);
  }
  return { section, draw };
}

async function layout(cy, root, first) {
  // Layered left to right (dagre), fitted; when fitting would shrink labels below
  // READABLE_PX, zoomed to that size on the root instead (pan, pinch or Fit to see all).
  const run = cy.elements(":visible").layout({ name: "dagre", rankDir: "LR", nodeSep: 34, rankSep: 90, edgeSep: 12, ranker: "network-simplex", animate: false });
  const done = run.promiseOn("layoutstop");
  run.run();
  await done;
  if (first) mark("laid out");
  routeAroundNodes(cy);
  readableFit(cy, root);
}

function crossings(cy, edge) {
  // The nodes an edge's drawn line (straight, or its one-control-point curve) passes
  // over, other than its own two ends; sampled along the line.
  const a = edge.source().position();
  const b = edge.target().position();
  const control = edge.controlPoints?.()?.[0];
  const at = (t) =>
    control
      ? { x: (1 - t) ** 2 * a.x + 2 * (1 - t) * t * control.x + t * t * b.x, y: (1 - t) ** 2 * a.y + 2 * (1 - t) * t * control.y + t * t * b.y }
      : { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
  const points = [];
  for (let t = 0.04; t < 0.97; t += 0.04) points.push(at(t));
  return cy.nodes(":visible").filter((node) => {
    if (node.same(edge.source()) || node.same(edge.target())) return false;
    const p = node.position();
    const w = node.width() / 2 + 3;
    const h = node.height() / 2 + 3;
    return points.some((q) => Math.abs(q.x - p.x) < w && Math.abs(q.y - p.y) < h);
  });
}

function routeAroundNodes(cy) {
  // Dagre places the nodes; cytoscape draws each edge as a line between its ends, which
  // may pass over a node of a rank in between. Such an edge is bent around that node (a
  // curve whose control point lies beyond it), on whichever side clears it.
  for (const edge of cy.edges(":visible")) {
    const blocking = crossings(cy, edge);
    if (!blocking.length || edge.source().same(edge.target())) continue;
    const a = edge.source().position();
    const b = edge.target().position();
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const node = blocking[0];
    const p = node.position();
    const along = Math.min(0.9, Math.max(0.1, ((p.x - a.x) * (b.x - a.x) + (p.y - a.y) * (b.y - a.y)) / length ** 2));
    const across = ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) / length;
    const clearance = node.height() / 2 + 14;
    for (const side of [across >= 0 ? -1 : 1, across >= 0 ? 1 : -1]) {
      for (const extra of [1, 2, 3]) {
        // a quadratic curve reaches half its control point's distance at its apex
        const distance = 2 * (across + side * clearance * extra);
        edge.style({ "curve-style": "unbundled-bezier", "control-point-distances": [distance], "control-point-weights": [along] });
        if (!crossings(cy, edge).length) break;
        edge.style({ "control-point-distances": [-distance] });
        if (!crossings(cy, edge).length) break;
      }
      if (!crossings(cy, edge).length) break;
    }
    if (crossings(cy, edge).length) edge.removeStyle("curve-style control-point-distances control-point-weights");
    else edge.data("bent", "yes");
  }
}

function readableFit(cy, root) {
  cy.fit(cy.elements(":visible"), 24);
  if (cy.zoom() > 1.4) {
    cy.zoom(1.4); // a small graph is not blown up past a comfortable size
    cy.center(cy.elements(":visible"));
  }
  const least = READABLE_PX / LABEL_PX;
  if (cy.zoom() < least) {
    cy.zoom(least);
    const focus = cy.getElementById(root);
    cy.center(focus.length ? focus : cy.elements(":visible"));
  }
  cy.container().dataset.zoom = cy.zoom().toFixed(3);
}

function graphTools(cy, root, drawn) {
  const kinds = NODE_KINDS.filter((kind) => drawn.some((n) => n.kind === kind));
  const fit = h("button", { type: "button", class: "small", id: "graph-fit" }, t("graph.fit"));
  fit.addEventListener("click", () => {
    cy.fit(cy.elements(":visible"), 24);
    cy.container().dataset.zoom = cy.zoom().toFixed(3);
  });
  const toggles = kinds.map((kind) => {
    const box = h("input", { type: "checkbox", checked: true, id: "show-" + kind, dataset: { kind } });
    box.addEventListener("change", () => {
      const nodes = cy.nodes(`[kind = "${kind}"]`);
      nodes.style("display", box.checked ? "element" : "none");
    });
    return h("label", { class: "toggle", for: "show-" + kind }, box, nodeShapeIcon(kind), tx("node", kind));
  });
  return [fit, h("span", { class: "toggles", role: "group", "aria-label": t("graph.show_kinds") }, h("span", { class: "muted" }, t("graph.show_kinds")), toggles)];
}

function showNodeBar(bar, node, cy, fromOrigin, relayout) {
  const key = node.data("key");
  const open = h("button", { type: "button", class: "small", id: "node-open" }, t("graph.open"));
  open.addEventListener("click", () => navigate(key));
  const expand = h("button", { type: "button", class: "small", id: "node-expand" }, t("graph.expand"));
  expand.addEventListener("click", async () => {
    expand.disabled = true;
    try {
      const graph = await api("/v1/graph", { root: key, direction: "both" });
      const around = new Set([node.id()]);
      for (const edge of graph.edges) {
        if (edge.source === node.id()) around.add(edge.target);
        if (edge.target === node.id()) around.add(edge.source);
      }
      const fresh = graph.nodes.filter((n) => around.has(n.id) && cy.getElementById(n.id).empty());
      for (const n of graph.nodes) remember(keyOf(n.id), n.risk);
      const present = (id) => !cy.getElementById(id).empty() || fresh.some((n) => n.id === id);
      const edges = graph.edges.filter((e) => (around.has(e.source) && around.has(e.target)) && present(e.source) && present(e.target) && cy.getElementById(`${e.source}>${e.target}`).empty());
      cy.add(graphElements(fresh, edges, null, fromOrigin));
      setStatus(t("graph.expanded", { id: key, n: count(fresh.length) }));
      await relayout();
    } catch (error) {
      showMessage(explain(error));
    } finally {
      expand.disabled = false;
    }
  });
  const hide = h("button", { type: "button", class: "small", id: "node-hide" }, t("graph.hide"));
  hide.addEventListener("click", () => {
    node.style("display", "none");
    bar.hidden = true;
  });
  bar.replaceChildren(h("span", { class: "kind" }, tx("node", node.data("kind"))), " ", h("strong", { class: "mono" }, key), " ", riskMarks(node.data("risk") ? node.data("risk").split(" ") : []), open, expand, hide);
  bar.hidden = false;
}

function graphStyle(large = false) {
  // Five shapes for five kinds of node; a risk adds a coloured, patterned border and its
  // symbol and word to the label. Large graphs: straight edges, labels only when selected.
  const style = [
    { selector: "node", style: { label: "data(label)", "font-size": LABEL_PX, "text-valign": "bottom", "text-halign": "center", "text-margin-y": 3, width: 22, height: 22, "background-color": "#4a6fa5", color: "#1b1b1b", "text-wrap": "wrap", "text-max-width": 150, "border-width": 1, "border-color": "#fff" } },
    { selector: 'node[kind = "source"]', style: { shape: "triangle", "background-color": "#2e7d32", width: 26, height: 24 } },
    { selector: 'node[kind = "certificate"]', style: { shape: "round-rectangle", "background-color": "#8e5a00", width: 30, height: 18 } },
    { selector: 'node[kind = "participant"]', style: { shape: "hexagon", "background-color": "#6b6b6b", width: 26, height: 24 } },
    { selector: 'node[kind = "operator"]', style: { shape: "diamond", "background-color": "#6a3d9a", width: 26, height: 26 } },
    { selector: 'node[risk *= "embargoed"]', style: { "border-width": 4, "border-color": "#c2410c", "border-style": "dashed" } },
    { selector: 'node[risk *= "flagged"]', style: { "border-width": 4, "border-color": "#a21caf", "border-style": "dotted" } },
    { selector: 'node[risk *= "possible_sanctions_match"]', style: { "border-width": 4, "border-color": "#b00020", "border-style": "dotted" } },
    { selector: 'node[risk *= "seized"], node[status = "seized"]', style: { "border-width": 4, "border-color": "#111", "border-style": "double" } },
    { selector: 'node[risk *= "cancelled"]', style: { "background-opacity": 0.35, "border-width": 3, "border-color": "#555", "border-style": "dashed" } },
    { selector: 'node[risk *= "sanctioned"]', style: { "border-width": 5, "border-color": "#b00020", "border-style": "double" } },
    { selector: 'node[root = "yes"]', style: { "overlay-color": "#d4a000", "overlay-opacity": 0.25, "overlay-padding": 6, "font-weight": "bold", width: 30, height: 30 } },
    { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", label: "data(label)", "font-size": 11, color: "#444", "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.85 } },
    { selector: 'edge[carried = "no"]', style: { "line-style": "dotted", "line-color": "#c8ced6", "target-arrow-color": "#c8ced6" } },
    { selector: 'edge[kind = "shipped-under"], edge[kind = "received-by"]', style: { "line-style": "dashed" } },
  ];
  if (!large) style.splice(1, 0, { selector: "node", style: { "text-background-color": "#fcfcfd", "text-background-opacity": 0.85, "text-background-padding": 1 } });
  if (large) {
    // No labels to measure (only the root's and the selected node's), straight edges.
    style.splice(
      1,
      0,
      { selector: "node", style: { label: "", "text-wrap": "none" } },
      { selector: 'node[root = "yes"], node:selected', style: { label: "data(label)" } },
    );
    style.push({ selector: "edge", style: { "curve-style": "haystack", "haystack-radius": 0, label: "", width: 1, "target-arrow-shape": "none" } });
  }
  style.push({ selector: "node:selected", style: { "overlay-color": "#1f4e8c", "overlay-opacity": 0.3, "overlay-padding": 6 } });
  return style;
}

// -- downloads ---------------------------------------------------------------------------

async function download(url, filename) {
  clearMessage();
  try {
    const blob = await (await request(url)).blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: filename, hidden: true });
    document.body.append(link);
    link.click();
    setTimeout(() => {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 1000);
    setStatus(t("status.saved", { file: filename }));
  } catch (error) {
    showMessage(explain(error));
  }
}

function graphUrl() {
  return apiUrl("/v1/graph", { root: state.root, direction: "both", format: "graphml" });
}

function statisticsUrl() {
  return apiUrl("/v1/statistics", { year: $("year").value.trim(), format: "csv" }, { replay: false });
}

function updateDownloads() {
  const graph = $("download-graph");
  if (state.root) {
    graph.href = graphUrl().pathname + graphUrl().search;
    graph.removeAttribute("aria-disabled");
  }
  const statistics = $("download-statistics");
  statistics.href = statisticsUrl().pathname + statisticsUrl().search;
}

function defaultYear(instantText) {
  const year = $("year");
  if (year.dataset.touched) return;
  year.value = instantText ? String(new Date(instantText).getUTCFullYear()) : String(new Date().getUTCFullYear());
  updateDownloads();
}

// -- wiring ------------------------------------------------------------------------------

let suggestTimer = null;
let suggestSeq = 0;

async function suggest() {
  const text = $("search").value.trim();
  const seq = ++suggestSeq;
  if (!text || !token()) return;
  try {
    const { results } = await api("/v1/search", { q: text, limit: 10 }, { replay: false });
    if (seq !== suggestSeq) return;
    $("suggestions").replaceChildren(
      ...results.map((hit) => {
        const marks = (hit.risk || []).map((risk) => `${RISK_SYMBOL[risk] ?? "!"} ${tx("risk", risk)}`).join(", ");
        return h("option", { value: hit.id, label: `${tx("kind", hit.kind)}: ${hit.label}${marks ? " — " + marks : ""}` });
      }),
    );
  } catch (_) {
    /* suggestions are a convenience: errors show when the id is opened */
  }
}

function saveToken() {
  const value = $("token").value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let languageReady = Promise.resolve();

function start() {
  // Listeners first (a form submitted before them would reload the page), words next.
  languageReady = setLanguage(preferredLanguage()).catch((error) => showMessage(String(error)));
  $("token").value = token();
  defaultYear(null);
  $("language").addEventListener("change", async () => {
    await setLanguage($("language").value, { keep: true });
    if (state.rerender) state.rerender();
  });
  $("token").addEventListener("change", () => {
    saveToken();
    // A deep link (#root=ID) opens once a token is entered, if nothing was tried yet.
    if (token() && !state.tried && location.hash.length > 1) route();
  });
  $("search").addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, 150);
  });
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken();
    const target = $("search").value.trim() || rootFromHash() || state.root;
    if (target) navigate(target);
    else if (!token()) showMessage(t("message.token_first"));
    else if (location.hash.length > 1) route();
    else showMessage(t("message.type_id"), "info");
  });
  $("paths-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken();
    const params = new URLSearchParams({ from: $("path-from").value.trim(), to: $("path-to").value.trim() });
    if (!params.get("from") || !params.get("to")) return showMessage(t("paths.both"), "info");
    const hash = "#" + params.toString();
    if (location.hash === hash) openPaths(params.get("from"), params.get("to"));
    else location.hash = hash;
  });
  $("open-alerts").addEventListener("click", (event) => {
    saveToken();
    if (location.hash === "#alerts") {
      event.preventDefault();
      openAlerts();
    }
  });
  $("year").addEventListener("input", () => {
    $("year").dataset.touched = "yes";
    updateDownloads();
  });
  $("download-graph").addEventListener("click", (event) => {
    event.preventDefault();
    if (!state.root) showMessage(t("message.open_first"), "info");
    else download(graphUrl(), `kpledger-graph-${state.root}${asOf() ? "-as-of-" + asOf().replace(/[^0-9A-Za-z]+/g, "") : ""}.graphml`);
  });
  $("download-statistics").addEventListener("click", (event) => {
    event.preventDefault();
    const year = $("year").value.trim();
    download(statisticsUrl(), `kpledger-statistics-${year}.csv`);
  });
  window.addEventListener("hashchange", () => route());
  languageReady.then(() => {
    document.body.dataset.ready = "yes";
    if (token() && location.hash.length > 1 && !state.tried) route();
  });
  graphLibraries().catch(() => {}); // load the graph libraries ahead of the first graph
}

start();
