// watchfloor alert desk. Everything in an alert comes from a feed and is untrusted: it only ever
// reaches the page through textContent / createTextNode and checked href values, never innerHTML.
"use strict";

(function () {
  const SEVERITIES = ["info", "warning", "high", "critical"];
  const MAX_ROWS = 2000;
  const state = { alerts: new Map(), lastSeq: 0, selected: null, themes: new Set(), sources: new Set(),
                  entities: new Set(), source: null, generation: 0 };
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Only absolute http(s) URLs become links; javascript:, data: and anything odd stay text.
  function safeHref(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(url, text) {
    const href = safeHref(url);
    if (!href) return el("span", "nolink", text);
    const a = el("a", "orig", text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // The server sends highlight ranges in code points; Array.from splits by code point too, so an
  // emoji before a match does not shift the <mark>.
  function snippetNode(text, spans) {
    const points = Array.from(text || "");
    const node = el("div", "snippet");
    let cursor = 0;
    for (const [start, end] of spans || []) {
      if (start < cursor || end > points.length) continue;
      node.appendChild(document.createTextNode(points.slice(cursor, start).join("")));
      node.appendChild(el("mark", null, points.slice(start, end).join("")));
      cursor = end;
    }
    node.appendChild(document.createTextNode(points.slice(cursor).join("")));
    return node;
  }

  function fmtTime(iso, withDate) {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    const today = new Date().toDateString() === d.toDateString();
    return withDate || !today ? d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time : time;
  }

  // -- filters ----------------------------------------------------------------------------------

  function currentFilter() {
    const form = $("filters");
    return { severity: form.severity.value, theme: form.theme.value, entity: form.entity.value.trim(),
             source: form.source.value, open: form.open.checked };
  }

  function filterQuery(f) {
    const q = new URLSearchParams();
    if (f.severity && f.severity !== "info") q.set("severity", f.severity);
    if (f.theme) q.set("theme", f.theme);
    if (f.entity) q.set("entity", f.entity);
    if (f.source) q.set("source", f.source);
    return q;
  }

  function matches(rec, f) {
    const a = rec.alert;
    if (SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(f.severity || "info")) return false;
    if (f.theme && !a.themes.some((t) => t.theme.toLowerCase() === f.theme.toLowerCase())) return false;
    if (f.source && a.source_id.toLowerCase() !== f.source.toLowerCase()) return false;
    if (f.entity) {
      const want = f.entity.toLowerCase();
      if (!a.entities.some((e) => e.id.toLowerCase() === want || e.name.toLowerCase() === want)) return false;
    }
    return !(f.open && rec.acked_at);
  }

  function restoreFilter() {
    const q = new URLSearchParams(location.search);
    const form = $("filters");
    for (const name of ["theme", "source"]) {
      const value = q.get(name);
      if (value) ensureOption(form[name], value);
    }
    form.severity.value = SEVERITIES.includes(q.get("severity")) ? q.get("severity") : "info";
    form.theme.value = q.get("theme") || "";
    form.entity.value = q.get("entity") || "";
    form.source.value = q.get("source") || "";
    form.open.checked = q.get("open") === "1";
  }

  function ensureOption(select, value) {
    if ([...select.options].some((o) => o.value === value)) return;
    const option = el("option", null, value);
    option.value = value;
    const after = [...select.options].slice(1).find((o) => o.value.localeCompare(value) > 0);
    select.insertBefore(option, after || null);
  }

  function learn(a) {
    for (const t of a.themes) if (!state.themes.has(t.theme)) { state.themes.add(t.theme); ensureOption($("filters").theme, t.theme); }
    if (!state.sources.has(a.source_id)) { state.sources.add(a.source_id); ensureOption($("filters").source, a.source_id); }
    for (const e of a.entities) {
      if (state.entities.has(e.name)) continue;
      state.entities.add(e.name);
      const option = document.createElement("option");
      option.value = e.name;
      $("entity-names").appendChild(option);
    }
  }

  // -- rows ---------------------------------------------------------------------------------------

  function buildRow(rec) {
    const a = rec.alert;
    const row = el("article", "alert sev-" + a.severity);
    row.dataset.alertId = a.alert_id;
    row.dataset.severity = a.severity;
    row.tabIndex = 0;
    row.appendChild(el("div", "sev", a.severity));
    const time = el("time", "when", fmtTime(a.alerted_at));
    time.dateTime = a.alerted_at;
    time.title = "alerted " + a.alerted_at + "\npublished " + a.published_at;
    row.appendChild(time);
    const body = el("div", "body");
    const head = el("div", "headline");
    head.appendChild(link(rec.link, a.title || a.description || a.trigger_id));
    head.appendChild(el("span", "trigger", a.trigger_id));
    if (a.folded_count) head.appendChild(el("span", "folded", "+" + a.folded_count + " folded"));
    if (a.source_count > 1) head.appendChild(el("span", "folded", a.source_count + " sources"));
    body.appendChild(head);
    body.appendChild(snippetNode(a.snippet, rec.highlights));
    const tags = el("div", "tags");
    for (const t of a.themes) tags.appendChild(el("span", "chip theme", t.theme));
    for (const e of a.entities) tags.appendChild(el("span", "chip entity " + e.type, e.name));
    body.appendChild(tags);
    row.appendChild(body);
    const src = el("div", "src");
    src.appendChild(el("span", "src-type", a.source_type));
    src.appendChild(el("span", "src-id", a.source_id));
    row.appendChild(src);
    row.appendChild(ackCell(rec));
    return row;
  }

  function ackCell(rec) {
    const cell = el("div", "act");
    if (rec.acked_at) {
      ackLabel(cell, rec);
    } else {
      const button = el("button", "ack", "Ack");
      button.type = "button";
      button.title = "Acknowledge this alert";
      button.addEventListener("click", (ev) => { ev.stopPropagation(); acknowledge(rec.alert.alert_id, button); });
      cell.appendChild(button);
    }
    return cell;
  }

  function ackLabel(cell, rec) {
    const label = el("span", "acked", "✓ " + (rec.acked_by || "acked"));
    label.title = "acknowledged " + rec.acked_at + (rec.acked_by ? " by " + rec.acked_by : "");
    cell.appendChild(label);
  }

  function placeRow(row, rec) {
    const rows = $("rows");
    const key = rec.alert.alerted_at;
    let before = null;
    for (const other of rows.children) {
      if (state.alerts.get(other.dataset.alertId).alert.alerted_at <= key) { before = other; break; }
    }
    rows.insertBefore(row, before);
    while (rows.children.length > MAX_ROWS) {
      const last = rows.lastElementChild;
      state.alerts.delete(last.dataset.alertId);
      last.remove();
    }
  }

  function upsert(rec, live) {
    const id = rec.alert.alert_id;
    learn(rec.alert);
    const known = state.alerts.get(id);
    if (known) {  // a replay or an overlap between history and the stream: one row per alert_id
      if (rec.acked_at && !known.acked_at) markAcked(rec);
      return;
    }
    if (!matches(rec, currentFilter())) return;
    state.alerts.set(id, rec);
    const row = buildRow(rec);
    if (live) row.classList.add("fresh");
    row.addEventListener("click", (ev) => { if (!ev.target.closest("a,button")) select(id); });
    row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(id); });
    placeRow(row, rec);
    updateCount();
  }

  function rowOf(id) {
    for (const row of $("rows").children) if (row.dataset.alertId === id) return row;
    return null;
  }

  function markAcked(rec) {
    const id = rec.alert.alert_id;
    const known = state.alerts.get(id);
    if (!known) return;
    known.acked_at = rec.acked_at;
    known.acked_by = rec.acked_by;
    const row = rowOf(id);
    if (row) {
      row.classList.add("is-acked");
      row.replaceChild(ackCell(known), row.querySelector(".act"));
      if (currentFilter().open) { row.remove(); state.alerts.delete(id); }
    }
    if (state.selected === id) showWhy(id);
    updateCount();
  }

  function updateCount() {
    const all = state.alerts.size;
    let open = 0;
    for (const rec of state.alerts.values()) if (!rec.acked_at) open += 1;
    $("count").textContent = all + " shown · " + open + " open";
    $("empty").hidden = all > 0;
  }

  // -- why it fired -------------------------------------------------------------------------------

  function kv(dl, key, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", null, key));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }

  function section(parent, title) {
    const s = el("section", "why-sec");
    s.appendChild(el("h3", null, title));
    parent.appendChild(s);
    return s;
  }

  function showWhy(id) {
    const rec = state.alerts.get(id);
    const panel = $("why");
    panel.replaceChildren();
    if (!rec) { panel.appendChild(el("p", "why-hint", "Select an alert to see why it fired.")); return; }
    const a = rec.alert;
    panel.appendChild(el("p", "why-label", "Why it fired"));
    const head = el("header", "why-head sev-" + a.severity);
    head.appendChild(el("span", "sev", a.severity));
    head.appendChild(el("h2", null, a.title || a.trigger_id));
    panel.appendChild(head);
    const trig = section(panel, "Trigger");
    const tdl = el("dl", "kv");
    kv(tdl, "id", a.trigger_id);
    kv(tdl, "description", a.description);
    kv(tdl, "kind", a.kind + (a.folded_count ? " (+" + a.folded_count + " folded)" : ""));
    kv(tdl, "rules", a.rules_version);
    trig.appendChild(tdl);
    whyThemes(section(panel, "Themes"), a);
    whyEntities(section(panel, "Entities"), a);
    const snip = section(panel, "Snippet");
    snip.appendChild(snippetNode(a.snippet, rec.highlights));
    const orig = section(panel, "Original");
    const odl = el("dl", "kv");
    kv(odl, "link", link(rec.link, rec.link || (a.url ? "(not a web link) " + a.url : "(none)")));
    kv(odl, "source", a.source_type + " · " + a.source_id);
    kv(odl, "item", a.item_id);
    kv(odl, "story", a.story_id ? a.story_id + " (" + a.source_count + " sources)" : null);
    kv(odl, "published", fmtTime(a.published_at, true));
    kv(odl, "fetched", fmtTime(a.fetched_at, true));
    kv(odl, "alerted", fmtTime(a.alerted_at, true));
    kv(odl, "alert id", a.alert_id);
    kv(odl, "acknowledged", rec.acked_at ? fmtTime(rec.acked_at, true) + (rec.acked_by ? " by " + rec.acked_by : "") : "no");
    orig.appendChild(odl);
    const hooks = section(panel, "Webhooks");
    hooks.appendChild(el("p", "muted", "loading…"));
    loadDeliveries(id, hooks);
  }

  function whyThemes(sec, a) {
    if (!a.themes.length) { sec.appendChild(el("p", "muted", "none")); return; }
    const table = el("table", "grid");
    for (const t of a.themes) {
      const tr = el("tr");
      tr.appendChild(el("td", "chip-cell", t.theme));
      tr.appendChild(el("td", "num", Number(t.score).toFixed(2)));
      const terms = el("td");
      for (const m of t.matches) {
        const mark = el("mark", m.term === "model" ? "term model-word" : "term", m.text);
        if (m.term === "model") mark.title = "counted most for the learned model";
        terms.appendChild(mark);
      }
      // The learned model's probability, when the pack has a model (absent in older alerts).
      if (t.model !== undefined && t.model !== null) {
        terms.appendChild(el("span", "muted", ` model ${Number(t.model).toFixed(2)}`));
      }
      tr.appendChild(terms);
      table.appendChild(tr);
    }
    sec.appendChild(table);
  }

  function whyEntities(sec, a) {
    if (!a.entities.length) { sec.appendChild(el("p", "muted", "none")); return; }
    const table = el("table", "grid");
    for (const e of a.entities) {
      const tr = el("tr");
      tr.appendChild(el("td", null, e.name));
      tr.appendChild(el("td", "muted", e.type + " · " + e.id));
      const mentions = el("td");
      for (const m of e.mentions) mentions.appendChild(el("mark", "term", m.text));
      tr.appendChild(mentions);
      table.appendChild(tr);
    }
    sec.appendChild(table);
  }

  async function loadDeliveries(id, sec) {
    try {
      const response = await fetch("/api/alerts/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!response.ok || state.selected !== id) return;
      const data = await response.json();
      sec.replaceChildren(sec.firstChild);
      if (!data.deliveries.length) { sec.appendChild(el("p", "muted", "none configured for this alert")); return; }
      const table = el("table", "grid");
      for (const d of data.deliveries) {
        const tr = el("tr");
        tr.appendChild(el("td", null, d.endpoint));
        tr.appendChild(el("td", "state-" + d.state, d.state));
        tr.appendChild(el("td", "muted", d.attempts + " attempt" + (d.attempts === 1 ? "" : "s") + (d.last_error ? " · " + d.last_error : "")));
        table.appendChild(tr);
      }
      sec.appendChild(table);
    } catch (e) { /* the panel keeps "loading…"; the list is what matters */ }
  }

  function select(id) {
    state.selected = id;
    for (const row of $("rows").children) row.classList.toggle("selected", row.dataset.alertId === id);
    showWhy(id);
  }

  // -- server -------------------------------------------------------------------------------------

  async function acknowledge(id, button) {
    button.disabled = true;
    localStorage.setItem("watchfloor.who", $("who").value.trim());
    try {
      const response = await fetch("/api/alerts/" + encodeURIComponent(id) + "/ack", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ by: $("who").value.trim() || null }),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      markAcked(await response.json());
    } catch (e) {
      button.disabled = false;
      button.textContent = "Retry";
    }
  }

  async function loadHistory() {
    const generation = ++state.generation;  // a later filter change wins over a slower answer
    const f = currentFilter();
    const q = filterQuery(f);
    q.set("limit", "500");
    const response = await fetch("/api/alerts?" + q.toString(), { credentials: "same-origin" });
    if (response.status === 401) { location.assign("/login"); return; }
    const data = await response.json();
    if (generation !== state.generation) return;
    state.alerts.clear();
    $("rows").replaceChildren();
    state.lastSeq = Math.max(state.lastSeq, data.last_seq);
    for (const rec of data.alerts) upsert(rec, false);
    updateCount();
  }

  function connect() {
    if (state.source) return;
    const source = new EventSource("/events?after=" + state.lastSeq);
    state.source = source;
    source.addEventListener("open", () => setConn("live"));
    source.addEventListener("error", () => setConn(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
    source.addEventListener("alert", (ev) => upsert(JSON.parse(ev.data), true));
    source.addEventListener("ack", (ev) => markAcked(JSON.parse(ev.data)));
  }

  function setConn(s) {
    const c = $("conn");
    c.dataset.state = s;
    c.textContent = s;
    document.body.dataset.conn = s;
  }

  function syncUrl() {
    const f = currentFilter();
    const q = filterQuery(f);
    $("atom").href = "/alerts.atom" + (q.toString() ? "?" + q.toString() : "");
    if (f.open) q.set("open", "1");
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q.toString() : ""));
  }

  async function refilter() {
    syncUrl();
    await loadHistory();
    if (state.selected && !state.alerts.has(state.selected)) select(null);
  }

  function init() {
    $("who").value = localStorage.getItem("watchfloor.who") || "";
    restoreFilter();
    syncUrl();
    $("filters").addEventListener("change", refilter);
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); refilter(); });
    $("clear").addEventListener("click", () => { $("filters").reset(); refilter(); });
    loadHistory().then(() => { document.body.dataset.ready = "1"; connect(); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
