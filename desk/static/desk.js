// watchfloor alert desk. Everything in an alert comes from a feed and is untrusted: it only ever
// reaches the page through textContent / createTextNode and checked href values, never innerHTML.
"use strict";

(function () {
  const SEVERITIES = ["info", "warning", "high", "critical"];
  const VIEWS = ["active", "open", "acknowledged", "mine", "snoozed", "resolved", "all"];
  const MAX_ROWS = 2000;
  const MAX_TIMER_MS = 2147483647;
  const MAX_ACTION_IDS = 500;
  // One row per story (per item when grouping is off; per alert for surges): every trigger that fired
  // on it, the highest severity first. groups: key -> {key, ids, row}; groupOf: alert id -> key.
  // wakes: alert id -> timer that shows a snoozed alert again when its snooze ends.
  const state = { alerts: new Map(), groups: new Map(), groupOf: new Map(), lastSeq: 0, selected: null,
                  themes: new Set(), sources: new Set(), entities: new Set(), source: null, generation: 0,
                  wakes: new Map() };
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
             source: form.source.value, status: form.status.value };
  }

  function filterQuery(f) {
    const q = new URLSearchParams();
    if (f.severity && f.severity !== "info") q.set("severity", f.severity);
    if (f.theme) q.set("theme", f.theme);
    if (f.entity) q.set("entity", f.entity);
    if (f.source) q.set("source", f.source);
    return q;
  }

  function who() {
    return $("who").value.trim();
  }

  function snoozedNow(rec) {
    return !!rec.snoozed_until && rec.status !== "resolved" && new Date(rec.snoozed_until) > new Date();
  }

  // The desk state a status view shows (the same views as GET /api/alerts?status=).
  function inView(rec, view) {
    const resolved = rec.status === "resolved";
    switch (view) {
      case "all": return true;
      case "resolved": return resolved;
      case "snoozed": return snoozedNow(rec);
      case "open": case "acknowledged": return rec.status === view && !snoozedNow(rec);
      case "mine": return !resolved && !snoozedNow(rec) && !!who() && rec.assignee === who();
      default: return !resolved && !snoozedNow(rec);
    }
  }

  // What the server is asked for a view; "mine" is the active view narrowed here.
  function serverView(view) {
    return view === "mine" ? "active" : view;
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
    return inView(rec, f.status || "active");
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
    const status = q.get("status") || (q.get("open") === "1" ? "open" : "active");  // ?open=1: older links
    form.status.value = VIEWS.includes(status) ? status : "active";
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

  function groupKey(a) {
    if (a.kind === "surge") return "alert:" + a.alert_id;
    return a.story_id ? "story:" + a.story_id : "item:" + a.item_id;
  }

  function bySeverityThenTime(x, y) {
    const d = SEVERITIES.indexOf(y.alert.severity) - SEVERITIES.indexOf(x.alert.severity);
    return d || (y.alert.alerted_at > x.alert.alerted_at ? 1 : y.alert.alerted_at < x.alert.alerted_at ? -1 : 0);
  }

  function recsOf(group) {
    return group.ids.map((id) => state.alerts.get(id)).filter(Boolean).sort(bySeverityThenTime);
  }

  function latestOf(recs) {
    return recs.reduce((m, r) => (r.alert.alerted_at > m ? r.alert.alerted_at : m), "");
  }

  function buildRow(group) {
    const recs = recsOf(group);
    const lead = recs[0];
    const a = lead.alert;
    const latest = latestOf(recs);
    const row = el("article", "alert sev-" + a.severity);
    row.dataset.alertId = a.alert_id;
    row.dataset.group = group.key;
    row.dataset.severity = a.severity;
    row.dataset.at = latest;
    row.tabIndex = 0;
    row.appendChild(el("div", "sev", a.severity));
    const time = el("time", "when", fmtTime(latest));
    time.dateTime = latest;
    time.title = "alerted " + latest + "\npublished " + a.published_at;
    row.appendChild(time);
    const body = el("div", "body");
    const head = el("div", "headline");
    head.appendChild(link(lead.link, a.title || a.description || a.trigger_id));
    // Each trigger once (copies of a story fire the same trigger), at its highest severity, with a count.
    const byTrigger = new Map();
    for (const r of recs) {
      const seen = byTrigger.get(r.alert.trigger_id);
      if (seen) seen.count += 1; else byTrigger.set(r.alert.trigger_id, { rec: r, count: 1 });
    }
    for (const { rec: r, count } of byTrigger.values()) {
      const chip = el("span", "trigger sev-" + r.alert.severity, r.alert.trigger_id + (count > 1 ? " ×" + count : ""));
      chip.dataset.trigger = r.alert.trigger_id;
      chip.title = r.alert.severity + (r.alert.description ? ": " + r.alert.description : "");
      head.appendChild(chip);
    }
    const folded = Math.max(...recs.map((r) => r.alert.folded_count || 0));
    const sources = Math.max(...recs.map((r) => r.alert.source_count || 1));
    if (folded) head.appendChild(el("span", "folded", "+" + folded + " folded"));
    if (sources > 1) head.appendChild(el("span", "folded", sources + " sources"));
    const life = lifeOf(recs);
    if (life.assignee) head.appendChild(el("span", "life assignee", "→ " + life.assignee));
    if (life.snoozedUntil) head.appendChild(el("span", "life snoozed", "snoozed until " + fmtTime(life.snoozedUntil)));
    if (life.notes) head.appendChild(el("span", "life notes", life.notes + (life.notes === 1 ? " note" : " notes")));
    const related = relatedOf(recs);
    if (related) head.appendChild(el("span", "folded related", "+" + related + " related"));
    body.appendChild(head);
    body.appendChild(snippetNode(a.snippet, lead.highlights));
    const tags = el("div", "tags");
    const seen = new Set();
    for (const r of recs) {
      for (const t of r.alert.themes) {
        if (!seen.has("t:" + t.theme)) { seen.add("t:" + t.theme); tags.appendChild(el("span", "chip theme", t.theme)); }
      }
    }
    for (const r of recs) {
      for (const e of r.alert.entities) {
        if (!seen.has("e:" + e.id)) { seen.add("e:" + e.id); tags.appendChild(el("span", "chip entity " + e.type, e.name)); }
      }
    }
    body.appendChild(tags);
    row.appendChild(body);
    const src = el("div", "src");
    src.appendChild(el("span", "src-type", a.source_type));
    src.appendChild(el("span", "src-id", a.source_id));
    row.appendChild(src);
    row.appendChild(ackCell(group, recs));
    row.dataset.status = life.status;
    if (recs.every((r) => r.acked_at)) row.classList.add("is-acked");
    if (life.status === "resolved") row.classList.add("is-resolved");
    if (group.ids.includes(state.selected)) row.classList.add("selected");
    row.addEventListener("click", (ev) => { if (!ev.target.closest("a,button")) select(recsOf(group)[0].alert.alert_id); });
    row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(recsOf(group)[0].alert.alert_id); });
    return row;
  }

  // A row's desk state: open while any alert on it is open; assignee, snooze and notes of its alerts.
  function lifeOf(recs) {
    const status = recs.some((r) => r.status === "open") ? "open"
      : recs.some((r) => r.status === "acknowledged") ? "acknowledged" : "resolved";
    const assignee = (recs.find((r) => r.assignee) || {}).assignee || null;
    const snoozed = recs.every(snoozedNow) ? recs.map((r) => r.snoozed_until).sort()[0] : null;
    return { status: status, assignee: assignee, snoozedUntil: snoozed,
             notes: Math.max(0, ...recs.map((r) => r.notes || 0)) };
  }

  // Stories told in other words or languages that the desk attached to this row's story.
  function relatedOf(recs) {
    const stories = new Set(recs.map((r) => r.alert.story_id || r.alert.item_id));
    return stories.size - 1;
  }

  function ackCell(group, recs) {
    const cell = el("div", "act");
    const open = recs.filter((r) => !r.acked_at);
    if (recs.every((r) => r.status === "resolved")) {
      const last = recs.reduce((m, r) => ((r.resolved_at || "") > (m.resolved_at || "") ? r : m), recs[0]);
      const label = el("span", "resolved", "✔ resolved");
      label.title = "resolved " + last.resolved_at + (last.resolved_by ? " by " + last.resolved_by : "");
      cell.appendChild(label);
    } else if (!open.length) {
      const last = recs.reduce((m, r) => (r.acked_at > m.acked_at ? r : m), recs[0]);
      ackLabel(cell, last);
    } else {
      const button = el("button", "ack", "Ack");
      button.type = "button";
      button.title = open.length === 1 ? "Acknowledge this alert" : "Acknowledge the " + open.length + " alerts on this row";
      button.addEventListener("click", (ev) => { ev.stopPropagation(); acknowledge(open.map((r) => r.alert.alert_id), button); });
      cell.appendChild(button);
    }
    return cell;
  }

  function ackLabel(cell, rec) {
    const label = el("span", "acked", "✓ " + (rec.acked_by || "acked"));
    label.title = "acknowledged " + rec.acked_at + (rec.acked_by ? " by " + rec.acked_by : "");
    cell.appendChild(label);
  }

  function placeRow(row) {
    const rows = $("rows");
    let before = null;
    for (const other of rows.children) {
      if (other !== row && other.dataset.at <= row.dataset.at) { before = other; break; }
    }
    rows.insertBefore(row, before);
    while (rows.children.length > MAX_ROWS) dropGroup(state.groups.get(rows.lastElementChild.dataset.group));
  }

  function dropGroup(group) {
    for (const id of group.ids) { state.alerts.delete(id); state.groupOf.delete(id); }
    state.groups.delete(group.key);
    if (group.row) group.row.remove();
  }

  function render(group, live) {
    const row = buildRow(group);
    if (live) row.classList.add("fresh");
    if (group.row) group.row.remove();
    group.row = row;
    placeRow(row);
  }

  function upsert(rec, live) {
    const id = rec.alert.alert_id;
    learn(rec.alert);
    scheduleWake(rec);
    const known = state.alerts.get(id);
    if (known) {  // a replay or an overlap between history and the stream: each alert_id counts once
      if (rec.acked_at && !known.acked_at) update(rec);
      return;
    }
    if (!matches(rec, currentFilter())) return;
    state.alerts.set(id, rec);
    const key = rec.event_key || groupKey(rec.alert);  // related coverage joins its event's row
    let group = state.groups.get(key);
    if (!group) { group = { key: key, ids: [], row: null }; state.groups.set(key, group); }
    group.ids.push(id);
    state.groupOf.set(id, key);
    render(group, live);  // a new trigger or copy of a story updates its row instead of adding one
    if (group.ids.includes(state.selected)) showWhy(state.selected);
    updateCount();
  }

  const LIFE_FIELDS = ["acked_at", "acked_by", "status", "assignee", "snoozed_until", "resolved_at", "resolved_by", "notes"];

  // A desk action changed an alert (here, on another desk, or in another tab): its row follows,
  // leaves the view (resolved, snoozed) or joins it (reopened, woken).
  function update(rec) {
    const id = rec.alert.alert_id;
    const known = state.alerts.get(id);
    scheduleWake(rec);
    if (!known) { upsert(rec, true); return; }
    for (const name of LIFE_FIELDS) known[name] = rec[name];
    const group = state.groups.get(state.groupOf.get(id));
    if (!matches(known, currentFilter())) {
      removeAlert(id);
    } else if (group) {
      const row = buildRow(group);
      group.row.replaceWith(row);
      group.row = row;
    }
    if (state.selected === id || (group && group.ids.includes(state.selected))) showWhy(state.selected);
    updateCount();
  }

  function removeAlert(id) {
    const key = state.groupOf.get(id);
    const group = state.groups.get(key);
    state.alerts.delete(id);
    state.groupOf.delete(id);
    if (!group) return;
    group.ids = group.ids.filter((x) => x !== id);
    if (!group.ids.length) dropGroup(group); else render(group, false);
  }

  // A snoozed alert comes back into view when its snooze ends, without a reload.
  function scheduleWake(rec) {
    const id = rec.alert.alert_id;
    clearTimeout(state.wakes.get(id));
    state.wakes.delete(id);
    if (!snoozedNow(rec)) return;
    const due = Math.min(new Date(rec.snoozed_until) - new Date() + 50, MAX_TIMER_MS);
    state.wakes.set(id, setTimeout(() => { state.wakes.delete(id); update(rec); }, due));
  }

  function updateCount() {
    const all = state.groups.size;
    let open = 0;
    for (const group of state.groups.values()) if (recsOf(group).some((r) => r.status === "open")) open += 1;
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
    const group = state.groups.get(state.groupOf.get(id));
    const others = group ? recsOf(group) : [];
    if (others.length > 1) {
      const list = section(panel, "Triggers on this row");
      for (const r of others) {
        const button = el("button", "row-trigger sev-" + r.alert.severity + (r.alert.alert_id === id ? " current" : ""));
        button.type = "button";
        button.appendChild(el("span", "sev", r.alert.severity));
        button.appendChild(document.createTextNode(" " + r.alert.trigger_id + (r.alert.acked_at ? " ✓" : "")));
        button.title = r.alert.description || "";
        button.addEventListener("click", () => select(r.alert.alert_id));
        list.appendChild(button);
      }
    }
    deskSection(panel, group ? group.ids.slice() : [id], others.length ? others : [rec]);
    const trail = section(panel, "Trail");
    trail.id = "trail";
    trail.appendChild(el("p", "muted", "loading…"));
    if (group && relatedOf(others)) relatedSection(panel, others, a);
    if (others.length > 1) timelineSection(panel, others);
    const trig = section(panel, "Trigger");
    const tdl = el("dl", "kv");
    kv(tdl, "id", a.trigger_id);
    kv(tdl, "description", a.description);
    kv(tdl, "kind", a.kind + (a.folded_count ? " (+" + a.folded_count + " folded)" : ""));
    kv(tdl, "rules", a.rules_version);
    trig.appendChild(tdl);
    const verdict = el("div", "verdict");
    verdict.id = "verdict";
    const wrong = el("button", "not-relevant", "Not relevant");
    wrong.type = "button";
    wrong.title = "Record this alert as not relevant: a labelled example for watchfloor eval";
    wrong.addEventListener("click", () => markNotRelevant(id, wrong));
    verdict.appendChild(wrong);
    trig.appendChild(verdict);
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
    loadDeliveries(id, hooks, trail);
  }

  const SNOOZES = [["15 min", 15], ["1 hour", 60], ["4 hours", 240], ["until tomorrow", 24 * 60]];

  // What the desk did with this row, and the controls to move it on: acknowledge, assign, snooze,
  // resolve or reopen, and notes. Each applies to every alert on the row.
  function deskSection(panel, ids, recs) {
    const sec = section(panel, "Desk");
    sec.id = "desk-actions";
    const life = lifeOf(recs);
    const parts = [life.status];
    if (life.assignee) parts.push("assigned to " + life.assignee);
    if (life.snoozedUntil) parts.push("snoozed until " + fmtTime(life.snoozedUntil, true));
    sec.appendChild(el("p", "life-line", parts.join(" · ")));
    const error = el("p", "act-error");
    error.hidden = true;
    const run = (button, action, extra) => async () => {
      button.disabled = true;
      error.hidden = true;
      try {
        await act(ids, action, extra ? extra() : null);
      } catch (e) {
        button.disabled = false;
        error.textContent = String(e.message || e);
        error.hidden = false;
      }
    };
    const buttons = el("div", "act-buttons");
    const add = (cls, label, action, extra) => {
      const b = el("button", "quiet " + cls, label);
      b.type = "button";
      b.addEventListener("click", run(b, action, extra));
      buttons.appendChild(b);
      return b;
    };
    if (life.status === "open") add("do-ack", "Acknowledge", "ack");
    if (life.status === "resolved") add("do-reopen", "Reopen", "reopen"); else add("do-resolve", "Resolve", "resolve");
    sec.appendChild(buttons);

    const assign = el("div", "act-line");
    const assignee = el("input", "assignee-input");
    assignee.placeholder = "assign to…";
    assignee.maxLength = 80;
    assignee.value = life.assignee || who();
    assign.appendChild(assignee);
    const assignButton = el("button", "quiet do-assign", life.assignee ? "Reassign" : "Assign");
    assignButton.type = "button";
    assignButton.addEventListener("click", run(assignButton, "assign", () => ({ value: assignee.value.trim() })));
    assign.appendChild(assignButton);
    sec.appendChild(assign);

    const snooze = el("div", "act-line");
    const choice = el("select", "snooze-for");
    for (const [label, minutes] of SNOOZES) {
      const option = el("option", null, label);
      option.value = String(minutes);
      choice.appendChild(option);
    }
    snooze.appendChild(choice);
    const snoozeButton = el("button", "quiet do-snooze", "Snooze");
    snoozeButton.type = "button";
    snoozeButton.addEventListener("click", run(snoozeButton, "snooze", () => (
      { until: new Date(Date.now() + Number(choice.value) * 60000).toISOString() })));
    snooze.appendChild(snoozeButton);
    if (life.snoozedUntil) {
      const wake = el("button", "quiet do-wake", "Wake now");
      wake.type = "button";
      wake.addEventListener("click", run(wake, "snooze"));
      snooze.appendChild(wake);
    }
    sec.appendChild(snooze);

    const note = el("div", "act-note");
    const text = el("textarea", "note-input");
    text.rows = 2;
    text.maxLength = 2000;
    text.placeholder = "Add a note for the desk…";
    note.appendChild(text);
    const noteButton = el("button", "quiet do-note", "Add note");
    noteButton.type = "button";
    noteButton.addEventListener("click", run(noteButton, "note", () => ({ value: text.value })));
    note.appendChild(noteButton);
    sec.appendChild(note);
    sec.appendChild(error);
  }

  // The other stories on this row: the same event told in other words or another language.
  function relatedSection(panel, recs, lead) {
    const sec = section(panel, "Related coverage");
    sec.id = "related";
    const seen = new Set([lead.story_id || lead.item_id]);
    for (const r of recs) {
      const key = r.alert.story_id || r.alert.item_id;
      if (seen.has(key)) continue;
      seen.add(key);
      const line = el("div", "related-item");
      line.appendChild(el("span", "chip", r.alert.lang || "?"));
      line.appendChild(link(r.link, r.alert.title || r.alert.snippet));
      line.appendChild(el("span", "muted", " " + r.alert.source_id + " · " + fmtTime(r.alert.published_at, true)));
      sec.appendChild(line);
    }
  }

  // Every alert on the row in the order it fired: which source, copy and trigger, when.
  function timelineSection(panel, recs) {
    const sec = section(panel, "Timeline");
    sec.id = "timeline";
    const list = el("ol", "timeline");
    const byTime = recs.slice().sort((x, y) => (x.alert.alerted_at < y.alert.alerted_at ? -1 : 1));
    for (const r of byTime) {
      const line = el("li");
      line.appendChild(el("time", "muted", fmtTime(r.alert.alerted_at, true)));
      line.appendChild(document.createTextNode(" " + r.alert.source_id + " · " + r.alert.trigger_id + " · "));
      line.appendChild(link(r.link, r.alert.title || r.alert.item_id));
      list.appendChild(line);
    }
    sec.appendChild(list);
  }

  const DID = { ack: "acknowledged", assign: "assigned", snooze: "snoozed", resolve: "resolved", reopen: "reopened",
                note: "noted", not_relevant: "marked not relevant" };

  function trailLine(x) {
    const line = el("li", "trail-" + x.action);
    line.appendChild(el("time", "muted", fmtTime(x.at, true)));
    let what = (x.by || "someone") + " " + DID[x.action];
    if (x.action === "assign") what = x.value ? (x.by || "someone") + " assigned to " + x.value : (x.by || "someone") + " unassigned";
    if (x.action === "snooze") what += x.until ? " until " + fmtTime(x.until, true) : " (woken)";
    line.appendChild(document.createTextNode(" " + what));
    if (x.action === "note") line.appendChild(el("blockquote", "note", x.value));
    return line;
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

  async function loadDeliveries(id, sec, trail) {
    try {
      const response = await fetch("/api/alerts/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!response.ok || state.selected !== id) return;
      const data = await response.json();
      if (data.feedback) showVerdict(data.feedback);
      trail.replaceChildren(trail.firstChild);
      if (!data.trail.length) trail.appendChild(el("p", "muted", "nothing done yet"));
      else {
        const list = el("ol", "trail");
        for (const x of data.trail) list.appendChild(trailLine(x));
        trail.appendChild(list);
      }
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
    const key = state.groupOf.get(id);
    for (const row of $("rows").children) row.classList.toggle("selected", key !== undefined && row.dataset.group === key);
    showWhy(id);
  }

  // -- server -------------------------------------------------------------------------------------

  // One action on every alert of a row: POST /api/actions; the answer updates the rows at once (the
  // live stream brings the same update again, and to every other tab and desk).
  async function act(ids, action, extra) {
    localStorage.setItem("watchfloor.who", who());
    for (let i = 0; i < ids.length; i += MAX_ACTION_IDS) {  // the API takes up to 500 alerts a request
      const response = await fetch("/api/actions", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ alert_ids: ids.slice(i, i + MAX_ACTION_IDS), action: action,
                                             by: who() || null }, extra || {})),
      });
      if (!response.ok) throw new Error((await response.text()).trim() || "HTTP " + response.status);
      for (const rec of (await response.json()).alerts) update(rec);
    }
  }

  async function acknowledge(ids, button) {
    button.disabled = true;
    const group = state.groups.get(state.groupOf.get(ids[0]));
    try {
      await act(ids, "ack");
    } catch (e) {
      // The row may have been rebuilt meanwhile: show the outcome on the button it has now.
      const current = group && group.row ? group.row.querySelector("button.ack") : button;
      if (current) { current.disabled = false; current.textContent = "Retry"; }
    }
  }

  function showVerdict(feedback) {
    const box = $("verdict");
    if (!box) return;
    box.replaceChildren(el("span", "muted", "marked not relevant" + (feedback.by ? " by " + feedback.by : "")
                                               + " · " + fmtTime(feedback.at, true)));
  }

  async function markNotRelevant(id, button) {
    button.disabled = true;
    localStorage.setItem("watchfloor.who", $("who").value.trim());
    try {
      const response = await fetch("/api/alerts/" + encodeURIComponent(id) + "/feedback", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ verdict: "not_relevant", by: $("who").value.trim() || null }),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      if (state.selected === id) showVerdict(await response.json());
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
    q.set("status", serverView(f.status));
    // The snoozed alerts of a view that hides them are read beside it: each comes back at the end of its snooze.
    const wakes = new URLSearchParams(q);
    wakes.set("status", "snoozed");
    const needWakes = !["snoozed", "resolved", "all"].includes(f.status);
    const [response, more] = await Promise.all([
      fetch("/api/alerts?" + q.toString(), { credentials: "same-origin" }),
      needWakes ? fetch("/api/alerts?" + wakes.toString(), { credentials: "same-origin" }) : null]);
    if (response.status === 401) { location.assign("/login"); return; }
    const data = await response.json();
    const sleeping = more && more.ok ? (await more.json()).alerts : [];
    if (generation !== state.generation) return;
    state.alerts.clear();
    state.groups.clear();
    state.groupOf.clear();
    for (const timer of state.wakes.values()) clearTimeout(timer);
    state.wakes.clear();
    $("rows").replaceChildren();
    state.lastSeq = Math.max(state.lastSeq, data.last_seq);
    for (const rec of data.alerts) upsert(rec, false);
    for (const rec of sleeping) scheduleWake(rec);
    updateCount();
  }

  function connect() {
    if (state.source) return;
    const source = new EventSource("/events?after=" + state.lastSeq);
    state.source = source;
    let opened = false;
    source.addEventListener("open", () => {
      setConn("live");
      // Desk actions are not replayed on a reconnect (only alerts are): read the rows again.
      if (opened) loadHistory();
      opened = true;
    });
    source.addEventListener("error", () => setConn(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
    source.addEventListener("alert", (ev) => upsert(JSON.parse(ev.data), true));
    source.addEventListener("update", (ev) => update(JSON.parse(ev.data)));
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
    if (f.status && f.status !== "active") q.set("status", f.status);
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q.toString() : ""));
  }

  async function refilter() {
    syncUrl();
    // Rows of the old view go at once: none of them is shown as if it matched the new one.
    state.alerts.clear();
    state.groups.clear();
    state.groupOf.clear();
    $("rows").replaceChildren();
    await loadHistory();
    if (state.selected && !state.alerts.has(state.selected)) select(null);
  }

  function init() {
    $("who").value = localStorage.getItem("watchfloor.who") || "";
    $("who").addEventListener("change", () => { if (currentFilter().status === "mine") refilter(); });
    restoreFilter();
    syncUrl();
    $("filters").addEventListener("change", refilter);
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); refilter(); });
    $("clear").addEventListener("click", () => { $("filters").reset(); refilter(); });
    loadHistory().then(() => { document.body.dataset.ready = "1"; connect(); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
