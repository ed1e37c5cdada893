// verirag web UI: plain JS over the REST API (no build step, no dependencies).
"use strict";

const $ = (sel) => document.querySelector(sel);
const keyInput = $("#api-key");
keyInput.value = localStorage.getItem("verirag-key") || "";
keyInput.addEventListener("change", async () => {
  localStorage.setItem("verirag-key", keyInput.value);
  await identify();
  conversation = null;
  route();
});

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

// An error response as one line: its status and the API's `detail`.
function problem(status, statusText, body) {
  const detail = body && body.detail !== undefined ? body.detail : statusText;
  return new Error(`${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
}

async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  return problem(response.status, response.statusText, body);
}

async function call(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) throw await failure(response);
  return response;
}

async function api(path, options = {}) {
  const response = await call(path, options);
  return response.status === 204 ? null : response.json();
}

const posting = (body) => ({
  method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
});
const post = (path, body) => api(path, posting(body));

const when = (ts) => ts ? new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)).toString();

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

// Who the key is: an admin sees the upload and delete controls (the server checks anyway).
let me = null;
async function identify() {
  try { me = await api("/api/whoami"); } catch (_) { me = null; }
  $("#whoami").textContent = me ? `${me.name}${me.admin ? " (admin)" : ""}` : "";
  for (const node of document.querySelectorAll(".admin-only")) node.hidden = !(me && me.admin);
}

// Server-sent events from a fetch response (EventSource cannot send the key).
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

// -- ask: conversations ---------------------------------------------------------------------

let conversation = null; // the open conversation's id (null: a new one starts on asking)

async function loadConversations() {
  const list = $("#conversations");
  const found = await api("/api/conversations");
  list.replaceChildren(...found.map((c) => {
    const remove = el("button", { type: "button", title: "delete conversation", textContent: "×" });
    const item = el("li", { title: c.title }, el("span", { textContent: c.title || "(untitled)" }), remove);
    item.dataset.id = c.conversation_id;
    item.classList.toggle("active", c.conversation_id === conversation);
    item.addEventListener("click", () => openConversation(c.conversation_id));
    remove.addEventListener("click", async (event) => {
      event.stopPropagation();
      if (!confirm(`Delete the conversation “${c.title}”?`)) return;
      try {
        await api(`/api/conversations/${c.conversation_id}`, { method: "DELETE" });
        if (conversation === c.conversation_id) newConversation();
        await loadConversations();
      } catch (e) { showError(e.message); }
    });
    return item;
  }));
}

function newConversation() {
  conversation = null;
  $("#thread").replaceChildren();
  $("#source").hidden = true;
  for (const item of document.querySelectorAll("#conversations li")) item.classList.remove("active");
  $("#question").focus();
}

// A kept conversation, each turn rendered from its audit record (citations and all).
async function openConversation(id) {
  showError("");
  try {
    const found = await api(`/api/conversations/${id}`);
    conversation = id;
    $("#source").hidden = true;
    const turns = await Promise.all(found.turns.map(async (t) => {
      try { return [t, await api(`/api/audit/${t.answer_id}`)]; } catch (_) { return [t, null]; }
    }));
    $("#thread").replaceChildren(...turns.map(([t, record]) => {
      const turn = newTurn(t.question);
      if (record) renderAnswer(turn, record); else turn.box.append(el("p", { className: "answer-text", textContent: t.answer }));
      return turn.node;
    }));
    for (const item of document.querySelectorAll("#conversations li")) item.classList.toggle("active", item.dataset.id === id);
  } catch (e) { showError(e.message); }
}

$("#new-conversation").addEventListener("click", newConversation);

function newTurn(question) {
  const box = el("div", { className: "answer" });
  const node = el("div", { className: "turn" }, el("p", { className: "asked", textContent: question }), box);
  return { node, box };
}

function renderAnswer(turn, answer) {
  const box = turn.box;
  box.replaceChildren();
  box.classList.toggle("abstained", answer.abstained);
  const standalone = answer.standalone_question;
  if (standalone && standalone !== answer.question) {
    turn.node.querySelector(".rewritten")?.remove();
    turn.node.insertBefore(el("p", {
      className: "rewritten meta", textContent: `Searched as: “${standalone}” (${answer.rewrite})`,
    }), box);
  }
  if (answer.abstained) box.append(el("div", { className: "badge", textContent: "abstained" }));
  const sources = new Map(answer.sources.map((s) => [s.n, s]));
  const text = el("p", { className: "answer-text" });
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
  box.append(feedbackControls(answer));
  box.append(el("div", { className: "meta answer-meta", textContent: `answer ${answer.answer_id} · ${answer.model}` }));
}

// Helpful / not helpful, with an optional comment: kept with the answer's audit record.
function feedbackControls(answer) {
  const mine = (answer.feedback || []).find((f) => me && f.principal === me.id);
  const comment = el("input", { type: "text", placeholder: "why? (optional)", maxLength: 2000, value: mine ? mine.comment : "" });
  const status = el("span", { className: "meta" });
  const buttons = [[true, "✓ Helpful"], [false, "✗ Not helpful"]].map(([helpful, label]) => {
    const button = el("button", { type: "button", textContent: label });
    button.dataset.helpful = String(helpful);
    button.setAttribute("aria-pressed", String(!!mine && mine.helpful === helpful));
    button.addEventListener("click", async () => {
      try {
        await post(`/api/audit/${answer.answer_id}/feedback`, { helpful, comment: comment.value });
        for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
        status.textContent = "Thanks: recorded with the answer's audit trail.";
      } catch (e) { status.textContent = e.message; }
    });
    return button;
  });
  return el("div", { className: "feedback" }, ...buttons, comment, status);
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
  const question = $("#question").value;
  const turn = newTurn(question);
  const draft = el("p", { className: "draft", textContent: "…" });
  turn.box.append(draft);
  $("#thread").append(turn.node);
  turn.node.scrollIntoView({ block: "end" });
  const asOf = $("#as-of").value;
  try {
    if (conversation === null) conversation = (await post("/api/conversations", {})).conversation_id;
    const body = {
      question, stream: true, conversation_id: conversation, as_of: asOf ? new Date(asOf).toISOString() : null,
    };
    const response = await call("/api/ask", posting(body));
    let written = "";
    for await (const [kind, data] of sse(response)) {
      if (kind === "token") { written += data; draft.textContent = written; }
      else if (kind === "answer") renderAnswer(turn, data);
      else if (kind === "error") throw new Error(data.detail);
    }
    $("#question").value = "";
    await loadConversations();
  } catch (e) { turn.node.remove(); showError(e.message); }
});

// -- documents --------------------------------------------------------------------------

const PAGE = 25;
let docOffset = 0;
let docTotal = 0;
let shown = null; // the open document: { doc, version }

function filters() {
  return { q: $("#doc-search").value.trim(), format: $("#doc-format").value, access: $("#doc-access").value, tag: $("#doc-tag").value };
}

async function loadFacets() {
  const facets = await api("/api/facets");
  for (const [id, name, label] of [["#doc-format", "formats", "any format"], ["#doc-access", "access", "any access"], ["#doc-tag", "tags", "any tag"]]) {
    const select = $(id);
    const kept = select.value;
    select.replaceChildren(el("option", { value: "", textContent: label }),
      ...Object.entries(facets[name]).map(([v, n]) => el("option", { value: v, textContent: `${v || "(none)"} (${n})` })));
    select.value = kept in facets[name] ? kept : "";
  }
}

async function loadDocuments() {
  const response = await call(`/api/documents?${query({ ...filters(), offset: docOffset, limit: PAGE })}`);
  const docs = await response.json();
  docTotal = Number(response.headers.get("X-Total-Count") || docs.length);
  const body = $("#doc-table tbody");
  body.replaceChildren(...docs.map((d) => {
    const row = el("tr", {},
      el("td", { textContent: d.doc_id }), el("td", { textContent: d.title || "" }),
      el("td", { textContent: d.format || "" }), el("td", { textContent: d.current_version ?? "removed" }),
      el("td", { textContent: d.access.join(", ") }), el("td", { textContent: when(d.updated_at) }));
    row.classList.toggle("selected", shown !== null && shown.doc.doc_id === d.doc_id);
    row.addEventListener("click", () => showDocument(d.doc_id));
    return row;
  }));
  $("#doc-count").textContent = docTotal
    ? `${docOffset + 1}–${docOffset + docs.length} of ${docTotal}` : "no documents match";
  $("#doc-prev").disabled = docOffset === 0;
  $("#doc-next").disabled = docOffset + PAGE >= docTotal;
}

// The facets change only when the documents do (an upload, a delete), not with the filters.
async function refreshDocuments({ facets = false } = {}) {
  showError("");
  try { await Promise.all([facets ? loadFacets() : null, loadDocuments()]); } catch (e) { showError(e.message); }
}

let typing = null;
$("#doc-search").addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => { docOffset = 0; refreshDocuments(); }, 200);
});
$("#doc-filters").addEventListener("submit", (event) => event.preventDefault());
for (const id of ["#doc-format", "#doc-access", "#doc-tag"]) {
  $(id).addEventListener("change", () => { docOffset = 0; refreshDocuments(); });
}
$("#doc-prev").addEventListener("click", () => { docOffset = Math.max(0, docOffset - PAGE); refreshDocuments(); });
$("#doc-next").addEventListener("click", () => { docOffset += PAGE; refreshDocuments(); });

async function showDocument(docId, version = null) {
  showError("");
  try {
    const doc = await api(`/api/documents/${encodeURIComponent(docId)}`);
    const live = doc.versions.filter((v) => !v.tombstone);
    const chosen = version ?? (doc.current_version || (live.length ? live[live.length - 1].version : null));
    const text = chosen === null ? null : await api(`/api/documents/${encodeURIComponent(docId)}/versions/${chosen}`);
    shown = { doc, version: text };
    $("#doc-detail").hidden = false;
    $("#doc-title").textContent = `${doc.title || doc.doc_id} (${doc.doc_id})`;
    $("#doc-download").disabled = text === null;
    $("#doc-delete").disabled = doc.current_version === null;
    const olds = $("#diff-old"), news = $("#diff-new");
    olds.replaceChildren(); news.replaceChildren();
    $("#version-table tbody").replaceChildren(...doc.versions.map((v) => {
      const state = v.tombstone ? "removed" : v.current ? "current" : "superseded";
      const row = el("tr", {}, el("td", { textContent: v.version }), el("td", { textContent: when(v.ingested_at) }),
        el("td", { textContent: state }), el("td", { textContent: v.access.join(", ") }), el("td", { textContent: v.n_chunks }));
      row.classList.toggle("selected", v.version === chosen);
      if (!v.tombstone) row.addEventListener("click", () => showDocument(docId, v.version));
      olds.append(el("option", { value: v.version, textContent: "v" + v.version }));
      news.append(el("option", { value: v.version, textContent: "v" + v.version }));
      return row;
    }));
    if (doc.versions.length > 1) olds.value = doc.versions[doc.versions.length - 2].version;
    if (doc.versions.length) news.value = doc.versions[doc.versions.length - 1].version;
    $("#diff").replaceChildren();
    $("#text-version").textContent = text ? `version ${text.version}${text.current ? " (current)" : ""} · ${(text.text || "").length} characters` : "";
    $("#doc-text").textContent = text ? text.text || "" : "";
    $("#doc-chunks").replaceChildren(...(text ? text.chunks : []).map((c) => {
      const where = [c.section.join(" › "), c.page_start ? `p. ${c.page_start}` : "", c.line_start ? `lines ${c.line_start}–${c.line_end}` : ""];
      return el("li", {}, el("div", { className: "meta", textContent: `${where.filter(Boolean).join(" · ")} · ${c.n_tokens} tokens` }),
        el("div", { className: "chunk", textContent: c.text }));
    }));
    for (const row of document.querySelectorAll("#doc-table tbody tr")) {
      row.classList.toggle("selected", row.firstChild.textContent === docId);
    }
  } catch (e) { showError(e.message); }
}

for (const tab of document.querySelectorAll(".tabs button")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll(".tabs button")) other.classList.toggle("active", other === tab);
    for (const pane of document.querySelectorAll(".tab")) pane.hidden = pane.id !== "tab-" + tab.dataset.tab;
  });
}

$("#doc-download").addEventListener("click", () => {
  const v = shown.version;
  const blob = new Blob([v.text || ""], { type: "text/plain;charset=utf-8" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `${v.doc_id.replaceAll("/", "_")}.v${v.version}.txt` });
  link.click();
  URL.revokeObjectURL(link.href);
});

$("#doc-delete").addEventListener("click", async () => {
  const docId = shown.doc.doc_id;
  if (!confirm(`Remove ${docId}? Its history stays and it can be asked as of before now.`)) return;
  try {
    await api(`/api/documents/${encodeURIComponent(docId)}`, { method: "DELETE" });
    $("#doc-detail").hidden = true;
    shown = null;
    await refreshDocuments({ facets: true });
  } catch (e) { showError(e.message); }
});

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
  const docId = shown.doc.doc_id;
  try {
    const result = await api(`/api/documents/${encodeURIComponent(docId)}/diff?old=${$("#diff-old").value}&new=${$("#diff-new").value}`);
    sideBySide(result.diff);
  } catch (e) { showError(e.message); }
});

// -- uploads: many files, each its own ingestion job, followed until it ends ---------------

const drop = $("#drop-zone");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  uploadAll([...event.dataTransfer.files]);
});
$("#upload-file").addEventListener("change", (event) => { uploadAll([...event.target.files]); event.target.value = ""; });

const AT_ONCE = 3; // uploads in flight together

async function uploadAll(files) {
  if (!files.length) return;
  showError("");
  const access = $("#upload-access").value.split(",").map((g) => g.trim()).filter(Boolean);
  const rows = files.map((file) => {
    const bar = el("progress", { max: 1, value: 0 });
    const state = el("span", { className: "state", textContent: "waiting" });
    const row = el("li", {}, el("span", { className: "name", textContent: file.name, title: file.name }), bar, state);
    $("#uploads").append(row);
    return { file, row, bar, state };
  });
  const queue = [...rows];
  const next = async () => { for (let r; (r = queue.shift());) await uploadOne(r, access); };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, rows.length) }, next));
  await refreshDocuments({ facets: true });
}

// The bytes go up (the first tenth of the bar), then the job's chunk progress fills it.
function send(file, access, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file);
    for (const group of access) form.append("access", group);
    const request = new XMLHttpRequest();
    request.open("POST", "/api/documents");
    for (const [name, value] of Object.entries(headers())) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(problem(request.status, request.statusText, body));
    });
    request.addEventListener("error", () => reject(new Error("the upload did not reach the server")));
    request.send(form);
  });
}

function showJob(r, job) {
  const fraction = job.chunks_total ? job.chunks_done / job.chunks_total : job.files_total ? job.files_done / job.files_total : 0;
  r.bar.value = 0.1 + 0.9 * fraction;
  r.state.textContent = job.state === "running" && job.chunks_total
    ? `running: ${job.chunks_done}/${job.chunks_total} chunks` : job.state;
}

async function uploadOne(r, access) {
  try {
    r.state.textContent = "uploading";
    let job = await send(r.file, access, (f) => { r.bar.value = 0.1 * f; r.state.textContent = `uploading ${Math.round(100 * f)}%`; });
    showJob(r, job);
    if (!["done", "failed", "cancelled"].includes(job.state)) {
      const response = await call(`/api/jobs/${job.job_id}/events`);
      for await (const [, status] of sse(response)) { job = status; showJob(r, job); }
    }
    if (job.state !== "done") throw new Error(`${job.state}${job.error ? ": " + job.error : ""}`);
    const outcomes = job.report.outcomes;
    const failed = outcomes.some((o) => o.status === "failed" || o.status === "skipped");
    r.row.classList.toggle("failed", failed);
    r.bar.value = 1;
    r.state.textContent = outcomes.map((o) => `${o.doc_id}: ${o.status}` + (o.version ? ` (v${o.version}, ${o.chunks} chunk${o.chunks === 1 ? "" : "s"})` : "")
      + (o.reason ? ` (${o.reason})` : "")).join("; ");
  } catch (e) {
    r.row.classList.add("failed");
    r.state.textContent = `failed: ${e.message}`;
  }
}

// -- audit ------------------------------------------------------------------------------

const AUDIT_PAGE = 20;
let auditOffset = 0;

async function loadAudit() {
  // One more than a page: whether there is an older page to go to.
  const records = await api(`/api/audit?limit=${AUDIT_PAGE + 1}&offset=${auditOffset}`);
  const page = records.slice(0, AUDIT_PAGE);
  $("#audit-table tbody").replaceChildren(...page.map((r) => {
    const given = r.feedback.map((f) => (f.helpful ? "helpful" : "not helpful") + (f.comment ? `: ${f.comment}` : "")).join("; ");
    const row = el("tr", {}, el("td", { textContent: when(r.created_at) }), el("td", { textContent: r.question }),
      el("td", { textContent: r.principal || "" }), el("td", { textContent: r.model }),
      el("td", { textContent: r.abstained ? "yes" : "" }), el("td", { textContent: given }));
    row.addEventListener("click", () => showTrace(r));
    return row;
  }));
  $("#audit-page").textContent = page.length ? `answers ${auditOffset + 1}–${auditOffset + page.length}` : "no answers yet";
  $("#audit-prev").disabled = auditOffset === 0;
  $("#audit-next").disabled = records.length <= AUDIT_PAGE;
}

$("#audit-prev").addEventListener("click", () => { auditOffset = Math.max(0, auditOffset - AUDIT_PAGE); loadAudit().catch((e) => showError(e.message)); });
$("#audit-next").addEventListener("click", () => { auditOffset += AUDIT_PAGE; loadAudit().catch((e) => showError(e.message)); });

function facts(pairs) {
  return el("dl", {}, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: String(v) })]));
}

function grid(head, rows) {
  return el("div", { className: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { textContent: h })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", { textContent: String(c ?? "") })))))));
}

// One answer's trace, laid out in a dialog that fits the screen and scrolls inside it.
function showTrace(r) {
  $("#trace-title").textContent = r.question;
  const timings = Object.entries(r.timings_ms || {}).map(([stage, ms]) => `${stage} ${ms} ms`).join(" · ");
  const sections = [
    facts([["answer id", r.answer_id], ["when", when(r.created_at)], ["principal", r.principal], ["model", r.model],
      ["searched as", r.standalone_question !== r.question ? r.standalone_question : null], ["rewrite", r.rewrite],
      ["as of", r.as_of ? when(r.as_of) : null], ["groups", r.groups ? r.groups.join(", ") : "all (admin)"],
      ["abstained", r.abstained ? `yes: ${r.reason}` : "no"], ["tokens", `${r.tokens_in} in, ${r.tokens_out} out`],
      ["cost", r.cost], ["timings", timings], ["prompt sha256", r.prompt_sha256]]),
    el("h4", { textContent: "Answer" }), el("pre", { textContent: r.answer || "" }),
    el("h4", { textContent: `Claims (${(r.claims || []).length})` }),
    grid(["claim", "cites", "supported", "why"], (r.claims || []).map((c) => [c.text, c.cited.join(", "), c.supported ? "yes" : "no", c.reason])),
    el("h4", { textContent: `Sources (${(r.sources || []).length})` }),
    grid(["n", "source"], (r.sources || []).map((s) => [s.n, s.label])),
    el("h4", { textContent: `Retrieved (${(r.retrieved || []).length})` }),
    grid(["document", "version", "score"], (r.retrieved || []).map((x) => [x.doc_id, x.version, x.score.toFixed(4)])),
  ];
  if (r.feedback.length) {
    sections.push(el("h4", { textContent: "Feedback" }),
      grid(["who", "when", "helpful", "comment"], r.feedback.map((f) => [f.principal, when(f.created_at), f.helpful ? "yes" : "no", f.comment])));
  }
  if (r.prompt) sections.push(el("details", {}, el("summary", { textContent: "Prompt" }), el("pre", { textContent: JSON.stringify(r.prompt, null, 2) })));
  sections.push(el("details", {}, el("summary", { textContent: "Whole record (JSON)" }), el("pre", { textContent: JSON.stringify(r, null, 2) })));
  $("#trace-body").replaceChildren(...sections);
  $("#trace").showModal();
  $("#trace-body").scrollTop = 0;
}

$("#trace-close").addEventListener("click", () => $("#trace").close());

// -- pages ------------------------------------------------------------------------------

async function route() {
  const page = (location.hash || "#ask").slice(1);
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== "page-" + page;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === page);
  showError("");
  try {
    if (page === "ask") await loadConversations();
    if (page === "documents") { await loadFacets(); await loadDocuments(); }
    if (page === "audit") await loadAudit();
  } catch (e) { showError(e.message); }
}

window.addEventListener("hashchange", route);
identify().then(route);
