// verirag web UI: plain JS over the REST API (no build step).
"use strict";

const $ = (sel) => document.querySelector(sel);
const keyInput = $("#api-key");
keyInput.value = localStorage.getItem("verirag-key") || "";
keyInput.addEventListener("change", () => { localStorage.setItem("verirag-key", keyInput.value); route(); });

function headers(extra = {}) {
  const h = { ...extra };
  if (keyInput.value) h.Authorization = "Bearer " + keyInput.value;
  return h;
}

function showError(message) {
  const el = $("#error");
  el.textContent = message || "";
  el.hidden = !message;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return response.status === 204 ? null : response.json();
}

const when = (ts) => ts ? new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

// -- ask ------------------------------------------------------------------------------

async function* sse(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block);
      const data = /^data: (.*)$/m.exec(block);
      if (event && data) yield [event[1], JSON.parse(data[1])];
    }
  }
}

function renderAnswer(answer) {
  const box = $("#answer");
  box.replaceChildren();
  box.classList.toggle("abstained", answer.abstained);
  if (answer.abstained) box.append(el("div", { className: "badge", textContent: "abstained" }));
  const sources = new Map(answer.sources.map((s) => [s.n, s]));
  const text = el("p", { id: "answer-text" });
  const unsupported = new Set(answer.claims.filter((c) => !c.supported).map((c) => c.text));
  // Citations [n] become chips that open the source at the sentence they follow.
  let claim = "";
  for (const part of answer.answer.split(/(\[\d+\])/)) {
    const m = /^\[(\d+)\]$/.exec(part);
    if (m && sources.has(Number(m[1]))) {
      const source = sources.get(Number(m[1]));
      const chip = el("button", { type: "button", className: "chip", textContent: m[1], title: source.label });
      chip.dataset.n = m[1];
      const said = claim;
      chip.addEventListener("click", () => openSource(source, said));
      text.append(chip);
    } else {
      text.append(part);
      if (part.trim()) claim = part.trim().replace(/^[-*•]\s+/, "");
    }
  }
  box.append(text);
  for (const claim of unsupported) {
    box.append(el("p", { className: "unsupported", textContent: "Not supported by its sources: " + claim }));
  }
  if (answer.sources.length && !answer.abstained) {
    const list = el("div", { className: "sources" });
    for (const s of answer.sources) list.append(el("div", { textContent: s.label }));
    box.append(list);
  }
  box.append(el("div", { className: "meta", textContent: `answer ${answer.answer_id} · ${answer.model}` }));
}

// The cited passage is shaded; the sentence the answer took from it, when it is there word
// for word (always, for the extractive generator), is highlighted.
async function openSource(source, claim) {
  try {
    const version = await api(`/api/documents/${encodeURIComponent(source.doc_id)}/versions/${source.version}`);
    const text = version.text || "";
    let [start, end] = [source.char_start, source.char_end];
    const at = claim ? text.slice(start, end).indexOf(claim) : -1;
    if (at >= 0) { start += at; end = start + claim.length; }
    const mark = el("mark", { id: "cited-span", textContent: text.slice(start, end) });
    const passage = el("span", { className: "passage" },
      text.slice(source.char_start, start), mark, text.slice(end, source.char_end));
    $("#source-text").replaceChildren(text.slice(0, source.char_start), passage, text.slice(source.char_end));
    $("#source-title").textContent = version.title || source.doc_id;
    $("#source-meta").textContent =
      `${source.doc_id} · version ${source.version}${version.current ? " (current)" : " (superseded)"} · ingested ${when(version.ingested_at)}`;
    // What this version rewrote in the passage, so a reader sees what changed and when.
    const change = $("#source-change");
    change.replaceChildren(...(source.edits || []).map((e) => el("span", {
      className: "change", textContent: `Changed in version ${source.version}: “${e.was}” → “${e.now}”`,
    })));
    change.hidden = !(source.edits || []).length;
    $("#source").hidden = false;
    mark.scrollIntoView({ block: "center" });
  } catch (e) { showError(e.message); }
}

$("#source-close").addEventListener("click", () => { $("#source").hidden = true; });

$("#ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  $("#source").hidden = true;
  const box = $("#answer");
  box.hidden = false;
  box.classList.remove("abstained");
  const draft = el("p", { className: "draft", textContent: "…" });
  box.replaceChildren(draft);
  const asOf = $("#as-of").value;
  const body = { question: $("#question").value, stream: true, as_of: asOf ? new Date(asOf).toISOString() : null };
  try {
    const response = await fetch("/api/ask", {
      method: "POST", body: JSON.stringify(body), headers: headers({ "Content-Type": "application/json" }),
    });
    if (!response.ok) throw new Error(`${response.status}: ${(await response.json()).detail}`);
    let written = "";
    for await (const [kind, data] of sse(response)) {
      if (kind === "token") { written += data; draft.textContent = written; }
      else if (kind === "answer") renderAnswer(data);
      else if (kind === "error") throw new Error(data.detail);
    }
  } catch (e) { box.hidden = true; showError(e.message); }
});

// -- documents --------------------------------------------------------------------------

async function loadDocuments() {
  const docs = await api("/api/documents");
  const body = $("#doc-table tbody");
  body.replaceChildren();
  for (const d of docs) {
    const row = el("tr", {},
      el("td", { textContent: d.doc_id }), el("td", { textContent: d.title || "" }),
      el("td", { textContent: d.current_version }), el("td", { textContent: d.access.join(", ") }),
      el("td", { textContent: when(d.updated_at) }));
    row.addEventListener("click", () => showDocument(d.doc_id));
    body.append(row);
  }
}

async function showDocument(docId) {
  const doc = await api(`/api/documents/${encodeURIComponent(docId)}`);
  $("#doc-detail").hidden = false;
  $("#doc-title").textContent = `${doc.title || doc.doc_id} (${doc.doc_id})`;
  const body = $("#version-table tbody");
  body.replaceChildren();
  const olds = $("#diff-old"), news = $("#diff-new");
  olds.replaceChildren(); news.replaceChildren();
  for (const v of doc.versions) {
    const state = v.tombstone ? "removed" : v.current ? "current" : "superseded";
    body.append(el("tr", {}, el("td", { textContent: v.version }), el("td", { textContent: when(v.ingested_at) }),
      el("td", { textContent: state }), el("td", { textContent: v.access.join(", ") })));
    olds.append(el("option", { value: v.version, textContent: "v" + v.version }));
    news.append(el("option", { value: v.version, textContent: "v" + v.version }));
  }
  if (doc.versions.length > 1) olds.value = doc.versions[doc.versions.length - 2].version;
  if (doc.versions.length) news.value = doc.versions[doc.versions.length - 1].version;
  $("#diff-form").dataset.doc = docId;
  $("#diff").replaceChildren();
}

// A unified diff laid out side by side: removed lines left, added right, context on both.
function sideBySide(lines) {
  const table = $("#diff");
  table.replaceChildren();
  let left = [], right = [];
  const flush = () => {
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      table.append(el("tr", {}, el("td", { className: left[i] !== undefined ? "del" : "", textContent: left[i] ?? "" }),
        el("td", { className: right[i] !== undefined ? "add" : "", textContent: right[i] ?? "" })));
    }
    left = []; right = [];
  };
  for (const line of lines) {
    if (line.startsWith("---") || line.startsWith("+++")) continue;
    if (line.startsWith("@@")) { flush(); table.append(el("tr", {}, el("td", { className: "meta", textContent: line, colSpan: 2 }))); }
    else if (line.startsWith("-")) left.push(line.slice(1));
    else if (line.startsWith("+")) right.push(line.slice(1));
    else { flush(); const text = line.slice(1); table.append(el("tr", {}, el("td", { textContent: text }), el("td", { textContent: text }))); }
  }
  flush();
}

$("#diff-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const docId = event.target.dataset.doc;
  try {
    const result = await api(`/api/documents/${encodeURIComponent(docId)}/diff?old=${$("#diff-old").value}&new=${$("#diff-new").value}`);
    sideBySide(result.diff);
  } catch (e) { showError(e.message); }
});

$("#upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const form = new FormData();
  form.append("file", $("#upload-file").files[0]);
  for (const group of $("#upload-access").value.split(",").map((g) => g.trim()).filter(Boolean)) form.append("access", group);
  try {
    // An upload is a background job: follow it until it ends.
    let job = await api("/api/documents", { method: "POST", body: form });
    while (!["done", "failed", "cancelled"].includes(job.state)) {
      $("#upload-status").textContent = `${job.state}: ${job.files_done} file(s), ${job.chunks_done} chunk(s)`;
      job = await api(`/api/jobs/${job.job_id}?wait=5`);
    }
    if (job.state !== "done") throw new Error(`upload ${job.state}: ${job.error || ""}`);
    const done = job.report.outcomes.map((o) => `${o.doc_id}: ${o.status}${o.reason ? " (" + o.reason + ")" : ""}`);
    $("#upload-status").textContent = done.join("; ");
    await loadDocuments();
  } catch (e) { showError(e.message); }
});

// -- audit ------------------------------------------------------------------------------

async function loadAudit() {
  const records = await api("/api/audit?limit=50");
  const body = $("#audit-table tbody");
  body.replaceChildren();
  for (const r of records) {
    const row = el("tr", {}, el("td", { textContent: when(r.created_at) }), el("td", { textContent: r.question }),
      el("td", { textContent: r.principal || "" }), el("td", { textContent: r.model }),
      el("td", { textContent: r.abstained ? "yes" : "" }));
    row.addEventListener("click", () => { const pre = $("#audit-trace"); pre.hidden = false; pre.textContent = JSON.stringify(r, null, 2); });
    body.append(row);
  }
}

// -- pages ------------------------------------------------------------------------------

async function route() {
  const page = (location.hash || "#ask").slice(1);
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== "page-" + page;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === page);
  showError("");
  try {
    if (page === "documents") await loadDocuments();
    if (page === "audit") await loadAudit();
  } catch (e) { showError(e.message); }
}

window.addEventListener("hashchange", route);
route();
