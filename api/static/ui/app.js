// The investigator's page: plain ES module, no build step. Every request goes to this
// origin with the token typed into the page (kept in sessionStorage, never in the URL).
// The graph libraries (cytoscape, cytoscape-dagre) are loaded on first use from /ui/vendor/.

const MAX_DRAWN = 2000; // nodes drawn at most; the rest are counted, listed in the GraphML
const DAGRE_MAX = 300; // up to this many drawn nodes dagre lays them out; beyond, ranks by depth
const TRACE_ROWS = 200; // rows shown in each trace table until "Show all" is pressed
const KIND_ORDER = ["lot", "mine", "alluvial_site", "certificate", "participant", "operator"];
const TOKEN_KEY = "kpledger.token";

const $ = (id) => document.getElementById(id);
const state = { root: null, kind: null, seq: 0, cy: null, graphSize: 0, tried: false };
const kpl = { cy: null, state, open: (id) => navigate(id), timings: {} };
window.kpl = kpl;

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

function idLink(id, text = id) {
  return h("a", { href: "#root=" + encodeURIComponent(id), class: "id", dataset: { id } }, text);
}

function percent(fraction) {
  return (fraction * 100).toFixed(2) + "\u00a0%";
}

function panel(title, ...body) {
  return h("section", { class: "panel", "aria-label": title }, h("h2", {}, title), ...body);
}

// -- talking to the service ------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
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

async function request(url) {
  let response;
  try {
    response = await fetch(url, {
      headers: { Authorization: "Bearer " + token() },
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(0, "network", String(error));
  }
  if (response.ok) return response;
  let code = "";
  let message = response.statusText;
  try {
    const body = await response.json();
    code = body.error?.code ?? "";
    message = body.error?.message ?? message;
  } catch (_) {
    /* not JSON: keep the status text */
  }
  throw new ApiError(response.status, code, message);
}

async function api(path, params = {}, options = {}) {
  return (await request(apiUrl(path, params, options))).json();
}

function explain(error, id) {
  if (!(error instanceof ApiError)) return `Something went wrong in the page: ${error}`;
  const when = asOf() ? ` as of ${asOf()}` : "";
  switch (error.status) {
    case 0:
      return `The service does not answer (network error): is kpledger serve still running at ${location.origin}?`;
    case 401:
      return "The token was refused (401): paste a whole token printed by kpledger demo or kpledger token create.";
    case 403:
      return `This token is not allowed to read that (403): ${error.message}.`;
    case 404:
      return id
        ? `“${id}” is not known to the ledger${when} (404).`
        : `Not known to the ledger${when} (404): ${error.message}.`;
    case 422:
      return `The request was refused as invalid (422): ${error.message}.`;
    default:
      return `The service answered ${error.status}: ${error.message}.`;
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
  kpl.timings.phases[phase] = Math.round(performance.now() - kpl.timings.started);
}

function showView(...sections) {
  mark("fetched");
  const view = $("view");
  if (state.cy) {
    state.cy.destroy();
    state.cy = kpl.cy = null;
  }
  view.replaceChildren(...sections);
  mark("shown");
  const replay = $("replay");
  replay.hidden = !asOf();
  replay.textContent = asOf() ? `Replaying the ledger as it stood as of ${asOf()}.` : "";
}

// -- opening an id ---------------------------------------------------------------------

function rootFromHash() {
  const value = new URLSearchParams(location.hash.slice(1)).get("root");
  return value ? value.trim() : "";
}

function navigate(id) {
  id = (id || "").trim();
  if (!id) return;
  const hash = "#root=" + encodeURIComponent(id);
  if (location.hash === hash) open(id);
  else location.hash = hash; // hashchange opens it, and the back button comes back
}

async function resolve(text) {
  const { results } = await api("/v1/search", { q: text, limit: 50 }, { replay: false });
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

async function open(text) {
  text = (text || "").trim();
  if (!text) return;
  if (!token()) {
    showMessage("Paste a token in the Token field first.");
    $("token").focus();
    return;
  }
  const seq = ++state.seq;
  state.tried = true;
  const started = performance.now();
  kpl.timings.started = started;
  kpl.timings.phases = {};
  clearMessage();
  setStatus(`Opening ${text}…`);
  $("view").setAttribute("aria-busy", "true");
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
    if (seq !== state.seq) return;
    const took = Math.round(performance.now() - started);
    kpl.timings[hit.id] = took;
    kpl.timings.last = took;
    $("view").dataset.opened = hit.id;
    setStatus(`Opened ${hit.kind.replace("_", " ")} ${hit.id} in ${took} ms.`);
    updateDownloads();
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
      `Matches for “${text}”`,
      h("p", {}, `${results.length} ids or names match; choose one.`),
      h(
        "ul",
        { class: "matches" },
        results.map((hit) =>
          h("li", {}, idLink(hit.id), " ", h("span", { class: "kind" }, hit.kind), " ", hit.label),
        ),
      ),
    ),
  );
  setStatus("");
}

// -- a lot -----------------------------------------------------------------------------

async function openLot(hit, seq) {
  const id = hit.id;
  const path = "/v1/lots/" + encodeURIComponent(id);
  const lot = await api(path); // 401, 403 and 404 end here, with one message
  const [provenance, custody, alerts, graph, history] = await Promise.allSettled([
    api(path + "/provenance"),
    api(path + "/custody"),
    api("/v1/alerts"),
    api("/v1/graph", { root: id, direction: "both" }),
    api(path + "/history"),
  ]);
  if (seq !== state.seq) return;
  const steps = custody.status === "fulfilled" ? custody.value.steps : [];
  const graphPanel = graphSection(graph, id, false);
  showView(
    lotSummary(lot),
    settledPanel("Provenance", provenance, provenancePanel),
    graphPanel.section,
    settledPanel("Custody steps", custody, (value) =>
      custodyPanel(value, history.status === "fulfilled" ? history.value.events : []),
    ),
    settledPanel("Alerts", alerts, (value) => alertsPanel(value.alerts, id, steps)),
  );
  defaultYear(steps.length ? steps[steps.length - 1].occurred_at : null);
  await graphPanel.draw();
}

function settledPanel(title, settled, render) {
  if (settled.status === "fulfilled") return render(settled.value);
  return panel(title, h("p", { class: "refused" }, explain(settled.reason)));
}

function lotSummary(lot) {
  const facts = [
    ["carats", lot.carats],
    ["value (USD)", lot.value_usd],
    ["holder", lot.holder],
    ["status", lot.status.replace("_", " ")],
    ["last certificate", lot.certificate_id ? idLink(lot.certificate_id) : "none"],
    ["source", lot.source_id ? idLink(lot.source_id) : "none (split or merged)"],
    ["parents", lot.parents.length ? lot.parents.map((p) => [idLink(p), " "]) : "none"],
    ["children", lot.children.length ? lot.children.map((c) => [idLink(c), " "]) : "none"],
  ];
  return h(
    "section",
    { class: "panel summary wide", "aria-label": "Lot" },
    h("h2", {}, "Lot ", h("span", { class: "mono" }, lot.lot_id)),
    h("dl", { class: "facts inline" }, facts.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
  );
}

function provenancePanel(provenance) {
  const rows = provenance.sources.map((source) =>
    h(
      "tr",
      { dataset: { sourceId: source.source_id, fraction: source.fraction } },
      h("th", { scope: "row" }, idLink(source.source_id), h("br"), h("small", { class: "muted" }, source.region)),
      h("td", {}, source.kind.replace("_", " ")),
      h("td", {}, source.participant),
      h("td", { class: "num carats" }, source.carats),
      h("td", { class: "num share" }, percent(source.fraction)),
    ),
  );
  const table = h(
    "table",
    { id: "provenance-table" },
    h("caption", {}, `${provenance.carats} ct of lot ${provenance.lot_id}, by source`),
    h(
      "thead",
      {},
      h("tr", {}, ["source (region)", "kind", "participant", "carats", "share"].map((c) =>
        h("th", { scope: "col", class: c === "carats" || c === "share" ? "num" : "" }, c),
      )),
    ),
    h("tbody", {}, rows),
  );
  const palette = ["c0", "c1", "c2", "c3", "c4", "c5"];
  const sourcesBar = h(
    "div",
    { class: "stack", role: "img", "aria-label": "share of carats by source" },
    provenance.sources.map((source, index) =>
      h(
        "span",
        {
          class: "seg " + palette[index % palette.length],
          style: `width:${(source.fraction * 100).toFixed(3)}%`,
          title: `${source.source_id}: ${source.carats} ct, ${percent(source.fraction)}`,
        },
        h("span", { class: "seg-label" }, `${source.source_id} ${percent(source.fraction)}`),
      ),
    ),
  );
  const embargoed = provenance.embargoed || [];
  const embargoedFraction = Math.min(1, embargoed.reduce((sum, e) => sum + e.fraction, 0));
  const embargoBar = h(
    "div",
    { class: "stack", role: "img", "aria-label": "embargoed share of carats" },
    embargoed.map((embargo) =>
      h(
        "span",
        {
          class: "seg embargoed",
          style: `width:${(embargo.fraction * 100).toFixed(3)}%`,
          title: `embargoed under ${embargo.embargo_id}: ${embargo.carats} ct`,
        },
        h("span", { class: "seg-label chip" }, `⚠ EMBARGOED ${percent(embargo.fraction)}`),
      ),
    ),
    embargoedFraction < 1
      ? h(
          "span",
          { class: "seg clear", style: `width:${((1 - embargoedFraction) * 100).toFixed(3)}%` },
          h("span", { class: "seg-label" }, `not embargoed ${percent(1 - embargoedFraction)}`),
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
            h("strong", {}, "⚠ Embargoed: "),
            `${embargo.carats} ct (${percent(embargo.fraction)}) come from sources under embargo `,
            h("span", { class: "mono" }, embargo.embargo_id),
            ", in force on the reading date.",
          ),
        ),
      )
    : h("p", { class: "ok" }, "No share of this lot comes from a source under an embargo in force.");
  const byParticipant = Object.entries(provenance.by_participant || {})
    .map(([code, share]) => `${code} ${share.carats} ct (${percent(share.fraction)})`)
    .join(" · ");
  return panel(
    "Provenance",
    notice,
    h("div", { class: "bars" }, h("p", { class: "bar-title" }, "By source"), sourcesBar,
      h("p", { class: "bar-title" }, "Embargoed share"), embargoBar),
    h("div", { class: "scroll" }, table),
    h("p", { class: "muted" }, "By participant of origin: ", byParticipant),
  );
}

// A retracted document of the lot (from its history), struck through with its reason.
function retractedSteps(events) {
  const reasons = new Map(
    events.filter((e) => e.type === "document.retracted").map((e) => [e.position, e.document.reason]),
  );
  return events
    .filter((e) => e.retracted_by != null)
    .map((e) => ({ position: e.position, occurred_at: e.occurred_at, type: e.type,
                   retracted_by: e.retracted_by, reason: reasons.get(e.retracted_by) }));
}

function retractedStep(step) {
  return h(
    "li",
    { class: "retracted", dataset: { position: step.position } },
    h("span", { class: "when" }, `#${step.position} · ${step.occurred_at}`),
    h("s", { class: "what" }, step.type),
    h("span", { class: "who" }, `retracted at #${step.retracted_by}: ${step.reason ?? ""}`),
  );
}

function custodyPanel(custody, events = []) {
  const struck = retractedSteps(events);
  const items = [...custody.steps, ...struck].sort((a, b) => a.position - b.position);
  return panel(
    "Custody steps",
    h(
      "ol",
      { class: "timeline", id: "custody-steps" },
      items.map((step) =>
        step.retracted_by != null ? retractedStep(step) : h(
          "li",
          { dataset: { position: step.position } },
          h("span", { class: "when" }, `#${step.position} · ${step.occurred_at}`),
          h("span", { class: "what" }, step.type),
          h(
            "span",
            { class: "who" },
            "lot ",
            step.lot_id === custody.lot_id ? h("span", { class: "mono" }, step.lot_id) : idLink(step.lot_id),
            `, held by ${step.holder}`,
            step.certificate_id ? [", certificate ", idLink(step.certificate_id)] : null,
          ),
        ),
      ),
    ),
  );
}

function mentions(value, ids) {
  if (typeof value === "string") return ids.has(value);
  if (Array.isArray(value)) return value.some((item) => mentions(item, ids));
  if (value && typeof value === "object") return Object.values(value).some((item) => mentions(item, ids));
  return false;
}

function alertsPanel(alerts, lotId, steps) {
  // The lot's alerts: those whose subject or detail names the lot, or a certificate
  // the lot itself travelled under.
  const ids = new Set([lotId]);
  for (const step of steps) if (step.lot_id === lotId && step.certificate_id) ids.add(step.certificate_id);
  const concerned = alerts.filter((alert) => ids.has(alert.subject) || mentions(alert.detail, ids));
  if (!concerned.length) return panel("Alerts", h("p", { class: "ok" }, "No alert concerns this lot."));
  return panel(
    "Alerts",
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { id: "alerts-table" },
        h("thead", {}, h("tr", {}, ["type", "severity", "subject", "participant", "triage", "detail"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          concerned.map((alert) =>
            h(
              "tr",
              { class: "sev-" + alert.severity, dataset: { alertId: alert.alert_id } },
              h("td", {}, alert.type.replaceAll("_", " ")),
              h("td", {}, alert.severity),
              h("td", {}, idLink(alert.subject.split("/")[0], alert.subject)),
              h("td", {}, alert.participant),
              h("td", {}, triage(alert)),
              h("td", { class: "detail" }, describe(alert.detail)),
            ),
          ),
        ),
      ),
    ),
  );
}

function triage(alert) {
  if (!("review" in alert)) return "not tracked";
  if (!alert.review) return "open";
  const { status, note, by } = alert.review;
  return [h("strong", {}, status), note ? ` — ${note}` : "", by ? ` (${by})` : ""];
}

function describe(detail) {
  return Object.entries(detail || {})
    .map(([name, value]) => `${name}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join("; ");
}

// -- sources, certificates, participants, operators --------------------------------------

async function openSource(hit, seq) {
  const [trace, graph] = await Promise.allSettled([
    api("/v1/trace/downstream", { source_id: hit.id }),
    api("/v1/graph", { root: hit.id, direction: "both" }),
  ]);
  await showTrace(hit, trace, graph, seq);
}

async function openParticipant(hit, seq) {
  const [trace, graph] = await Promise.allSettled([
    api("/v1/trace/downstream", { participant: hit.id }),
    api("/v1/graph", { root: hit.id, direction: "both" }),
  ]);
  await showTrace(hit, trace, graph, seq);
}

async function openOperator(hit, seq) {
  const [trace, graph] = await Promise.allSettled([
    api("/v1/trace/downstream", { operator: hit.id }),
    api("/v1/graph", { root: hit.id, direction: "both" }),
  ]);
  await showTrace(hit, trace, graph, seq);
}

async function openCertificate(hit, seq) {
  const graph = await api("/v1/graph", { root: hit.id, direction: "both" });
  const node = "certificate:" + hit.id;
  const lots = graph.edges
    .filter((edge) => edge.target === node && edge.kind === "shipped-under")
    .map((edge) => edge.source.slice(edge.source.indexOf(":") + 1));
  const traces = await Promise.allSettled(lots.map((lot) => api("/v1/trace/downstream", { lot_id: lot })));
  const failed = traces.find((trace) => trace.status === "rejected");
  const trace = failed || { status: "fulfilled", value: mergeTraces(traces.map((t) => t.value)) };
  await showTrace(hit, trace, { status: "fulfilled", value: graph }, seq, lots);
}

function mergeTraces(traces) {
  const lots = new Map();
  const certificates = new Map();
  const participants = new Set();
  for (const trace of traces) {
    for (const lot of trace.lots) {
      const seen = lots.get(lot.lot_id);
      lots.set(lot.lot_id, seen ? { ...lot, carats_from_origin: addDecimal(seen.carats_from_origin, lot.carats_from_origin) } : lot);
    }
    for (const cert of trace.certificates) {
      const seen = certificates.get(cert.certificate_id);
      certificates.set(cert.certificate_id, seen ? { ...cert, carats_from_origin: addDecimal(seen.carats_from_origin, cert.carats_from_origin) } : cert);
    }
    for (const code of trace.participants) participants.add(code);
  }
  return { lots: [...lots.values()], certificates: [...certificates.values()], participants: [...participants].sort() };
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

async function showTrace(hit, trace, graph, seq, certificateLots = null) {
  if (seq !== state.seq) return;
  if (trace.status === "rejected" && graph.status === "rejected") throw trace.reason;
  const graphPanel = graphSection(graph, hit.id);
  const title = `${hit.kind.replace("_", " ")} `;
  const summary = h(
    "section",
    { class: "panel summary", "aria-label": hit.kind },
    h("h2", {}, title.charAt(0).toUpperCase() + title.slice(1), h("span", { class: "mono" }, hit.id)),
    h("p", {}, hit.label),
    certificateLots ? h("p", {}, "Lots shipped under it: ", certificateLots.map((lot) => [idLink(lot), " "])) : null,
    nodeFacts(graph, hit),
  );
  showView(summary, settledPanel("Downstream", trace, tracePanel), graphPanel.section);
  await graphPanel.draw();
}

function nodeFacts(graph, hit) {
  if (graph.status !== "fulfilled") return null;
  const node = graph.value.nodes.find((n) => n.id === graph.value.graph?.root);
  if (!node) return null;
  const facts = Object.entries(node).filter(([name]) => !["id", "label", "kind"].includes(name));
  if (!facts.length) return null;
  return h("dl", { class: "facts" }, facts.map(([name, value]) => [h("dt", {}, name.replaceAll("_", " ")), h("dd", {}, String(value))]));
}

function cappedRows(rows, what) {
  // The first TRACE_ROWS rows, and a button that adds the rest (a large trace would
  // otherwise cost more to lay out than the graph).
  const body = h("tbody", {}, rows.slice(0, TRACE_ROWS));
  if (rows.length <= TRACE_ROWS) return [body, null];
  const more = h("button", { type: "button", class: "show-all" }, `Show all ${rows.length} ${what}`);
  const note = h("p", { class: "muted" }, `${TRACE_ROWS} of ${rows.length} ${what} shown. `, more);
  more.addEventListener("click", () => {
    body.append(...rows.slice(TRACE_ROWS));
    note.remove();
  });
  return [body, note];
}

function tracePanel(trace) {
  const lotRows = trace.lots.map((lot) =>
    h("tr", {}, h("th", { scope: "row" }, idLink(lot.lot_id)), h("td", {}, lot.holder), h("td", {}, lot.status.replace("_", " ")), h("td", { class: "num" }, lot.carats_from_origin)),
  );
  const certificateRows = trace.certificates.map((cert) =>
    h("tr", {}, h("th", { scope: "row" }, idLink(cert.certificate_id)), h("td", {}, `${cert.exporting_participant} → ${cert.importing_participant}`), h("td", { class: "num" }, cert.carats_from_origin)),
  );
  const head = (...columns) => h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c))));
  const [lotBody, lotNote] = cappedRows(lotRows, "lots");
  const [certificateBody, certificateNote] = cappedRows(certificateRows, "certificates");
  return panel(
    "Downstream",
    h("p", {}, `${trace.lots.length} lots, ${trace.certificates.length} certificates, ${trace.participants.length} participants received material from here.`),
    h("p", {}, "Participants: ", trace.participants.length ? trace.participants.map((code) => [idLink(code), " "]) : "none"),
    h("div", { class: "scroll" }, h("table", { id: "trace-lots" }, h("caption", {}, "Lots"), head("lot", "holder", "status", "carats from here"), lotBody)),
    lotNote,
    h("div", { class: "scroll" }, h("table", { id: "trace-certificates" }, h("caption", {}, "Certificates"), head("certificate", "from → to", "carats from here"), certificateBody)),
    certificateNote,
  );
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

function layered(nodes, edges, root, across) {
  // A cheap layered layout for large graphs: each node's rank is its signed breadth-first
  // depth from the root (downstream +1 along an edge, upstream -1 against it), ranks side
  // by side along the longer side of the box, a long rank wrapped into several columns.
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
      positions[id] = across ? { x: along, y: within } : { x: within, y: along };
    });
    column += columns + 1;
  }
  return positions;
}

function graphSection(settled, rootId, wide = true) {
  const box = h("div", { id: "graph", class: "graph", role: "img", "aria-label": "custody graph; the list beside it has every node as a link" });
  const note = h("p", { class: "muted", id: "graph-note" });
  const list = h("ul", { class: "nodes", id: "graph-nodes", "aria-label": "nodes of the graph" });
  const section = h(
    "section",
    { class: wide ? "panel wide" : "panel graph-panel", "aria-label": "Custody graph" },
    h("h2", {}, "Custody graph"),
    note,
    h("div", { class: "graph-area" }, box, h("nav", { class: "node-list", "aria-label": "graph nodes" }, h("h3", {}, "Nodes"), list)),
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
      `${graph.nodes.length} nodes, ${graph.edges.length} edges, upstream and downstream of ${rootId}.` +
      (hidden > 0 ? ` ${hidden} more not drawn (at most ${MAX_DRAWN} are): download the GraphML for the whole graph.` : "") +
      " Click a node, or use the list, to open it.";
    note.classList.toggle("warning", hidden > 0);
    const drawn = graph.nodes.filter((n) => kept.has(n.id));
    list.replaceChildren(
      ...drawn.map((n) =>
        h("li", { class: "k-" + n.kind }, idLink(keyOf(n.id)), " ", h("span", { class: "kind" }, n.kind)),
      ),
    );
    mark("listed");
    let cytoscape;
    try {
      cytoscape = await graphLibraries();
      mark("loaded");
    } catch (error) {
      note.textContent = `The graph library did not load (${error}); run scripts/demo or scripts/test once to install it.`;
      note.classList.add("warning");
      return;
    }
    const elements = [
      ...drawn.map((n) => ({ data: { id: n.id, key: keyOf(n.id), kind: n.kind, label: n.label ?? keyOf(n.id), root: n.id === root ? "yes" : "no", status: n.status ?? "" } })),
      ...graph.edges
        .filter((e) => kept.has(e.source) && kept.has(e.target))
        .map((e, i) => ({ data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind, label: e.carats ? `${e.carats} ct` : "" } })),
    ];
    const large = drawn.length > DAGRE_MAX;
    const cy = cytoscape({
      container: box,
      elements,
      style: graphStyle(large),
      layout: { name: "preset" },
      hideEdgesOnViewport: large,
      textureOnViewport: large,
      motionBlur: false,
    });
    state.cy = kpl.cy = cy;
    mark("created");
    cy.on("tap", "node", (event) => {
      kpl.tapped = performance.now();
      cy.nodes(":selected").unselect();
      event.target.select();
      navigate(event.target.data("key"));
    });
    cy.on("mouseover", "node", () => (box.style.cursor = "pointer"));
    cy.on("mouseout", "node", () => (box.style.cursor = ""));
    const across = box.clientWidth >= box.clientHeight; // ranks along the longer side
    if (large) {
      const positions = layered(drawn, graph.edges.filter((e) => kept.has(e.source) && kept.has(e.target)), root, across);
      cy.layout({ name: "preset", positions: (node) => positions[node.id()], fit: false, animate: false }).run();
    } else {
      const layout = cy.layout({ name: "dagre", rankDir: across ? "LR" : "TB", nodeSep: 18, rankSep: 60, edgeSep: 8, animate: false });
      const laidOut = layout.promiseOn("layoutstop");
      layout.run();
      await laidOut;
    }
    mark("laid out");
    cy.fit(undefined, 20);
    mark("fitted");
    box.dataset.layout = large ? "layered" : "dagre";
    box.dataset.drawn = String(cy.nodes().length);
  }
  return { section, draw };
}

function graphStyle(large = false) {
  // Large graphs: straight edges without labels, node labels only once zoomed in enough.
  const style = [
    { selector: "node", style: { label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22, "background-color": "#4a6fa5", color: "#1b1b1b", "text-wrap": "ellipsis", "text-max-width": 110 } },
    { selector: 'node[kind = "source"]', style: { shape: "triangle", "background-color": "#2e7d32" } },
    { selector: 'node[kind = "certificate"]', style: { shape: "round-rectangle", "background-color": "#8e5a00", width: 26, height: 16 } },
    { selector: 'node[kind = "participant"]', style: { shape: "hexagon", "background-color": "#6b6b6b" } },
    { selector: 'node[status = "seized"]', style: { "border-width": 3, "border-color": "#b00020", "border-style": "dashed" } },
    { selector: 'node[root = "yes"]', style: { "border-width": 4, "border-color": "#d4a000", width: 30, height: 30, "font-weight": "bold" } },
    { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", label: "data(label)", "font-size": 8, color: "#555", "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
    { selector: 'edge[kind = "shipped-under"], edge[kind = "received-by"]', style: { "line-style": "dashed" } },
  ];
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
  style.push({ selector: "node:selected", style: { "overlay-color": "#d4a000", "overlay-opacity": 0.35, "overlay-padding": 4 } });
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
    setStatus(`Saved ${filename}.`);
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

function defaultYear(instant) {
  const year = $("year");
  if (year.dataset.touched) return;
  year.value = instant ? String(new Date(instant).getUTCFullYear()) : String(new Date().getUTCFullYear());
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
      ...results.map((hit) => h("option", { value: hit.id, label: `${hit.kind}: ${hit.label}` })),
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

function start() {
  $("token").value = token();
  defaultYear(null);
  $("token").addEventListener("change", () => {
    saveToken();
    // A deep link (#root=ID) opens once a token is entered, if nothing was tried yet.
    if (token() && !state.tried && rootFromHash()) navigate(rootFromHash());
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
    else if (!token()) showMessage("Paste a token in the Token field first.");
    else showMessage("Type an id or a name in Search, then press Enter.", "info");
  });
  $("year").addEventListener("input", () => {
    $("year").dataset.touched = "yes";
    updateDownloads();
  });
  $("download-graph").addEventListener("click", (event) => {
    event.preventDefault();
    if (!state.root) showMessage("Open a lot, source, certificate or participant first.", "info");
    else download(graphUrl(), `kpledger-graph-${state.root}${asOf() ? "-as-of-" + asOf().replace(/[^0-9A-Za-z]+/g, "") : ""}.graphml`);
  });
  $("download-statistics").addEventListener("click", (event) => {
    event.preventDefault();
    const year = $("year").value.trim();
    download(statisticsUrl(), `kpledger-statistics-${year}.csv`);
  });
  window.addEventListener("hashchange", () => {
    const root = rootFromHash();
    if (root) open(root);
  });
  if (token() && rootFromHash()) open(rootFromHash());
  graphLibraries().catch(() => {}); // load the graph libraries ahead of the first graph
}

start();
