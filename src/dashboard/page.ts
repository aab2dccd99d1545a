/**
 * The dashboard's one page: HTML, CSS and plain browser JavaScript in one string, so the server
 * serves it from memory with no build step and no network (no framework, no CDN). The script
 * polls the JSON API (index.ts) one request chain at a time, so a slow server is never asked
 * faster than it answers.
 *
 * The script is kept free of backticks and `${` so that it can live in this template literal.
 */
const STYLE = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --mute:#6b7385; --line:#e2e5ea;
  --lead:#0a7d4f; --follow:#2f5fb3; --down:#b3261e; --look:#a86b00; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:16px; padding:8px 16px; background:#1d2330; color:#fff; }
header h1 { font-size:16px; margin:0; }
header nav a { color:#cfd6e4; text-decoration:none; padding:6px 10px; border-radius:4px; }
header nav a.active { background:#3a4256; color:#fff; }
header .spacer { flex:1; }
header input { width:120px; }
#conn { font-size:12px; color:#cfd6e4; }
main { padding:16px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; width:300px; }
.card h2 { font-size:15px; margin:0 0 6px; display:flex; justify-content:space-between; }
.role { font-size:12px; padding:1px 8px; border-radius:10px; color:#fff; background:var(--mute); }
.role.leader { background:var(--lead); } .role.follower { background:var(--follow); }
.role.down { background:var(--down); } .role.looking { background:var(--look); }
.card dl { display:grid; grid-template-columns:auto 1fr; gap:2px 10px; margin:0 0 6px; }
.card dt { color:var(--mute); } .card dd { margin:0; font-family:ui-monospace, monospace; }
.spark { display:block; width:100%; height:36px; background:#fafbfc; border:1px solid var(--line); }
.spark polyline { fill:none; stroke:var(--follow); stroke-width:1.5; }
.spark.lat polyline { stroke:#b35f2f; }
.sparklabel { font-size:11px; color:var(--mute); margin-top:4px; }
#leader-line { font-size:16px; margin-bottom:12px; }
#events { font-family:ui-monospace, monospace; font-size:12px; color:var(--mute); }
.split { display:flex; gap:16px; align-items:flex-start; }
.tree { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px;
  min-width:320px; max-height:80vh; overflow:auto; font-family:ui-monospace, monospace; }
.tree ul { list-style:none; margin:0; padding-left:16px; } .tree > ul { padding-left:0; }
.tree .toggle { display:inline-block; width:14px; cursor:pointer; color:var(--mute); }
.tree .name { cursor:pointer; } .tree .name.selected { background:#dbe6fb; }
.tree .count { color:var(--mute); font-size:11px; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; flex:1; min-width:0; }
pre.data { background:#fafbfc; border:1px solid var(--line); padding:8px; white-space:pre-wrap; word-break:break-all; max-height:240px; overflow:auto; }
table { border-collapse:collapse; background:var(--card); }
td, th { border:1px solid var(--line); padding:3px 8px; text-align:left; font-family:ui-monospace, monospace; font-size:12px; }
th { background:#eef0f4; font-family:system-ui, sans-serif; }
.muted { color:var(--mute); } .error { color:var(--down); } .ok { color:var(--lead); }
.edit { border-top:1px solid var(--line); margin-top:10px; padding-top:10px; }
.edit textarea { width:100%; height:60px; }
#recipe-holder { font-size:16px; margin:8px 0; }
button.link { background:none; border:none; color:var(--follow); cursor:pointer; padding:0 4px; }
`;

const SCRIPT = String.raw`
(function () {
"use strict";
var API = "/dashboard/api/";
var bases = [""];
var auth = null;
var view = "ensemble";
var lastLeader;
var samples = {};
var expanded = new Set(["/"]);
var childCache = {};
var selected = "/";
var nodeShown = null;
var hexMode = false;
var recipePath = "";

function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) {
    if (k === "text") e.textContent = attrs[k];
    else if (k === "class") e.className = attrs[k];
    else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  (children || []).forEach(function (c) { if (c != null) e.append(c); });
  return e;
}
function q(params) {
  return Object.keys(params).map(function (k) {
    return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
  }).join("&");
}

// Asks this page's server first, then any other server of the ensemble: the page outlives the
// server that served it.
async function api(name, init) {
  var lastError;
  for (var i = 0; i < bases.length; i++) {
    var base = bases[i];
    try {
      var headers = auth ? { Authorization: auth } : {};
      var opts = Object.assign({ headers: headers, signal: AbortSignal.timeout(3000) }, init || {});
      if (init && init.body) opts.headers["Content-Type"] = "application/json";
      var res = await fetch(base + API + name, opts);
      var body = await res.json();
      if (i > 0) { bases.splice(i, 1); bases.unshift(base); }
      $("conn").textContent = "via " + (base || location.host);
      return body;
    } catch (e) { lastError = e; }
  }
  $("conn").textContent = "no server answers";
  throw lastError;
}

// ---- ensemble ----
function sparkline(points, cls) {
  var w = 276, h = 36;
  var max = Math.max.apply(null, points.concat([1]));
  var step = points.length > 1 ? w / (points.length - 1) : w;
  var coords = points.map(function (p, i) {
    return (i * step).toFixed(1) + "," + (h - 2 - (p / max) * (h - 4)).toFixed(1);
  }).join(" ");
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark " + cls);
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("preserveAspectRatio", "none");
  var line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", coords);
  svg.append(line);
  return svg;
}

function record(s) {
  var h = samples[s.id] || (samples[s.id] = { last: null, ops: [], lat: [] });
  var v = s.view;
  if (h.last && v.time > h.last.time) {
    var dt = (v.time - h.last.time) / 1000;
    var dn = Math.max(0, v.requests - h.last.requests);
    var dl = Math.max(0, v.latencyMsTotal - h.last.latencyMsTotal);
    h.ops.push(dn / dt);
    h.lat.push(dn > 0 ? dl / dn : 0);
    if (h.ops.length > 60) { h.ops.shift(); h.lat.shift(); }
  }
  h.last = v;
  return h;
}

function card(s) {
  var role = s.up ? s.view.state : "down";
  var box = el("div", { class: "card", "data-server-id": s.id, "data-role": role });
  box.append(el("h2", {}, ["server " + s.id, el("span", { class: "role " + role, text: role })]));
  if (!s.up) {
    box.append(el("div", { class: "error", text: "not answering (" + (s.error || "down") + ")" }));
    if (s.admin) box.append(el("div", { class: "muted", text: "admin " + s.admin }));
    return box;
  }
  var v = s.view, h = record(s);
  var rows = [
    ["epoch", v.epoch], ["last zxid", v.lastZxid], ["clients", v.connections],
    ["synced", v.synced ? "yes" : "no"], ["sessions", v.sessions], ["znodes", v.nodes],
  ];
  if (v.state === "leader") rows.push(["synced followers", v.syncedFollowers.join(", ") || "none"]);
  box.append(el("dl", {}, rows.flatMap(function (r) {
    return [el("dt", { text: r[0] }), el("dd", { text: String(r[1]) })];
  })));
  var ops = h.ops.length ? h.ops[h.ops.length - 1] : 0;
  var lat = h.lat.length ? h.lat[h.lat.length - 1] : 0;
  box.append(el("div", { class: "sparklabel", text: "requests/s: " + ops.toFixed(0) }));
  box.append(sparkline(h.ops, "ops"));
  box.append(el("div", { class: "sparklabel", text: "latency ms: " + lat.toFixed(2) }));
  box.append(sparkline(h.lat, "lat"));
  return box;
}

function event(text) {
  var li = el("li", { text: new Date().toLocaleTimeString() + "  " + text });
  $("events").prepend(li);
  while ($("events").children.length > 50) $("events").lastChild.remove();
}

async function refreshEnsemble() {
  var body = await api("all/self");
  var servers = body.servers;
  servers.forEach(function (s) {
    if (s.admin && bases.indexOf("http://" + s.admin) < 0 && location.host !== s.admin) {
      bases.push("http://" + s.admin);
    }
  });
  $("servers").replaceChildren.apply($("servers"), servers.map(card));
  var leaders = servers.filter(function (s) { return s.up && s.view.state === "leader"; });
  var leader = leaders.length === 1 ? leaders[0] : null;
  var id = leader ? leader.id : null;
  $("leader").textContent = leader ? "server " + leader.id : "none (electing)";
  $("leader").setAttribute("data-leader", id === null ? "" : String(id));
  $("epoch").textContent = leader ? "epoch " + leader.view.epoch : "";
  if (id !== lastLeader) {
    if (lastLeader !== undefined) {
      event("leader: " + (lastLeader === null ? "none" : "server " + lastLeader) + " -> " +
        (id === null ? "none" : "server " + id + " (epoch " + leader.view.epoch + ")"));
    } else if (id !== null) {
      event("leader: server " + id + " (epoch " + leader.view.epoch + ")");
    }
    lastLeader = id;
  }
}

// ---- tree ----
function childPath(parent, name) { return parent === "/" ? "/" + name : parent + "/" + name; }

async function loadChildren(path, more) {
  var cached = childCache[path];
  var offset = more && cached ? cached.children.length : 0;
  var page = await api("children?" + q({ path: path, offset: offset }));
  if (!page.exists) { delete childCache[path]; expanded.delete(path); return; }
  if (more && cached) page.children = cached.children.concat(page.children);
  else if (cached && cached.children.length > page.children.length && page.total > page.children.length) {
    // Keep the further pages the user loaded; they are refreshed only when asked for again.
    page.children = page.children.concat(cached.children.slice(page.children.length));
  }
  childCache[path] = page;
}

function treeItem(path, name, numChildren) {
  var open = expanded.has(path);
  var toggle = el("span", { class: "toggle", text: numChildren > 0 ? (open ? "\u25be" : "\u25b8") : "",
    onclick: async function () {
      if (expanded.has(path)) expanded.delete(path);
      else { expanded.add(path); await loadChildren(path, false); }
      renderTree();
    } });
  var label = el("span", { class: "name" + (path === selected ? " selected" : ""), text: name,
    "data-path": path, onclick: function () { selected = path; renderTree(); refreshNode(); } });
  var li = el("li", { "data-path": path }, [toggle, label,
    numChildren > 0 ? el("span", { class: "count", text: " (" + numChildren + ")" }) : null]);
  var page = childCache[path];
  if (open && page) {
    var ul = el("ul");
    page.children.forEach(function (c) { ul.append(treeItem(childPath(path, c.name), c.name, c.numChildren)); });
    if (page.children.length < page.total) {
      ul.append(el("li", {}, [el("button", { class: "link", text: "more (" +
        (page.total - page.children.length) + " left)", onclick: async function () {
          await loadChildren(path, true); renderTree(); } })]));
    }
    li.append(ul);
  }
  return li;
}

var treeShown = "";
function renderTree(force) {
  var root = childCache["/"];
  // Rebuilt only when something changed, so a click never lands on a node being replaced.
  var signature = JSON.stringify([childCache, Array.from(expanded), selected]);
  if (!force && signature === treeShown) return;
  treeShown = signature;
  $("tree").replaceChildren(el("ul", {}, [treeItem("/", "/", root ? root.total : 1)]));
}

function showData(node) {
  if (!node.readable) return el("div", { class: "muted", text: "not readable by world: sign in as super" });
  var text = hexMode || node.encoding === "hex" ? node.hex.replace(/(..)/g, "$1 ").trim() : node.data;
  return el("div", {}, [
    el("div", { class: "muted" }, [node.encoding === "hex" ? "binary (hex)" : "UTF-8", " ",
      node.encoding === "utf8" ? el("button", { class: "link", text: hexMode ? "show text" : "show hex",
        onclick: function () { hexMode = !hexMode; renderNode(); } }) : null]),
    el("pre", { class: "data", id: "node-data", text: text }),
  ]);
}

function renderNode() {
  var node = nodeShown;
  var panel = $("node");
  if (!node) return panel.replaceChildren();
  if (!node.exists) return panel.replaceChildren(el("h3", { text: node.path }), el("div", { class: "muted", text: "deleted" }));
  var stat = el("table", { id: "node-stat" }, Object.keys(node.stat).map(function (k) {
    return el("tr", {}, [el("th", { text: k }), el("td", { text: String(node.stat[k]) })]);
  }));
  var acl = el("table", { id: "node-acl" }, [el("tr", {}, [el("th", { text: "scheme" }), el("th", { text: "id" }), el("th", { text: "perms" })])]
    .concat(node.acl.map(function (a) {
      return el("tr", {}, [el("td", { text: a.scheme }), el("td", { text: a.id }), el("td", { text: a.perms })]);
    })));
  panel.replaceChildren(el("h3", { id: "node-path", text: node.path }), showData(node),
    el("div", { class: "split" }, [el("div", {}, [el("h4", { text: "Stat" }), stat]),
      el("div", {}, [el("h4", { text: "ACL" }), acl])]), editForms(node));
}

function editForms(node) {
  if (!auth) return el("div", { class: "muted edit", text: "read-only: sign in as the super user to create, set or delete" });
  var data = el("textarea", { id: "edit-data" });
  data.value = node.readable && node.encoding === "utf8" ? node.data : "";
  var name = el("input", { id: "create-name", placeholder: "child name" });
  var childData = el("input", { id: "create-data", placeholder: "data" });
  var v = node.stat.version;
  return el("div", { class: "edit" }, [
    el("div", {}, [data, el("button", { id: "set-button", text: "Set data (version " + v + ")",
      onclick: function () { write({ op: "set", path: node.path, data: data.value, version: v }); } })]),
    el("div", {}, [name, childData, el("button", { id: "create-button", text: "Create child",
      onclick: function () { write({ op: "create", path: childPath(node.path, name.value), data: childData.value }); } })]),
    el("div", {}, [el("button", { id: "delete-button", text: "Delete (version " + v + ")",
      onclick: function () { write({ op: "delete", path: node.path, version: v }); } })]),
    el("div", { id: "write-result" }),
  ]);
}

async function write(request) {
  var result = await api("write", { method: "POST", body: JSON.stringify(request) });
  if (request.op === "delete" && result.ok) selected = request.path.replace(/\/[^/]+$/, "") || "/";
  await refreshTree();
  var out = $("write-result");
  if (out) {
    out.className = result.ok ? "ok" : "error";
    out.textContent = result.ok ? request.op + " " + result.path + ": done" : (result.code || "") + " " + result.error;
  }
}

var nodeSignature = "";
async function refreshNode() {
  nodeShown = await api("node?" + q({ path: selected }));
  var signature = JSON.stringify([nodeShown, !!auth, hexMode]);
  if (signature !== nodeSignature) { nodeSignature = signature; renderNode(); }
}

async function refreshTree() {
  // Bounded: the open nodes nearest the root first, at most 50 of them per round.
  var open = Array.from(expanded).sort(function (a, b) { return a.length - b.length; }).slice(0, 50);
  for (var i = 0; i < open.length; i++) await loadChildren(open[i], false);
  renderTree();
  var keep = document.activeElement && document.activeElement.closest && document.activeElement.closest("#node .edit");
  if (!keep) await refreshNode();
}

// ---- sessions and watches ----
async function refreshSessions() {
  var s = await api("sessions");
  var rows = [el("tr", {}, ["session", "timeout ms", "connected here", "ephemerals"].map(function (h) { return el("th", { text: h }); }))];
  s.sessions.forEach(function (x) {
    rows.push(el("tr", { "data-session": x.id }, [el("td", { text: x.id }), el("td", { text: String(x.timeoutMs) }),
      el("td", { text: x.connectedHere ? "yes" : "" }), el("td", { text: x.ephemerals.join(", ") })]));
  });
  $("sessions").replaceChildren.apply($("sessions"), rows);
  var w = await api("all/watches");
  var wrows = [el("tr", {}, ["server", "path", "data watches (sessions)", "child watches (sessions)"].map(function (h) { return el("th", { text: h }); }))];
  w.servers.forEach(function (srv) {
    if (!srv.up) return;
    srv.view.watches.forEach(function (x) {
      wrows.push(el("tr", { "data-watch": x.path }, [el("td", { text: String(srv.id) }), el("td", { text: x.path }),
        el("td", { text: x.data.join(", ") }), el("td", { text: x.children.join(", ") })]));
    });
  });
  $("watches").replaceChildren.apply($("watches"), wrows);
}

// ---- recipes ----
async function refreshRecipes() {
  var demos = await api("demos");
  $("demo-paths").replaceChildren.apply($("demo-paths"), [el("span", { class: "muted", text: demos.paths.length ? "demos running: " : "no demo running" })]
    .concat(demos.paths.map(function (p) {
      return el("button", { class: "link", text: p, onclick: function () { $("recipe-path").value = p; recipePath = p; tick(); } });
    })));
  if (!recipePath && demos.paths.length) { recipePath = demos.paths[0]; $("recipe-path").value = recipePath; }
  if (!recipePath) return $("recipe").replaceChildren();
  var r = await api("recipe?" + q({ path: recipePath }));
  if (!r.exists) return $("recipe").replaceChildren(el("div", { class: "muted", text: r.path + " does not exist" }));
  var first = r.participants[0];
  var who = function (p) { return p.node + "  (session " + p.owner + (p.id ? ", id " + p.id : "") + ")"; };
  var head = r.kind === "election"
    ? ["Leader: ", first ? who(first) : "none"] : ["Holder: ", first ? who(first) : "free"];
  var rest = r.participants.slice(1).map(function (p) { return el("li", { "data-node": p.node, "data-id": p.id, text: who(p) }); });
  $("recipe").replaceChildren(
    el("div", { class: "muted", text: r.kind === "election" ? "leader election at " + r.path : "mutex at " + r.path }),
    el("div", { id: "recipe-holder", "data-node": first ? first.node : "", "data-id": first ? first.id : "" }, [el("b", { text: head[0] }), head[1]]),
    el("h4", { text: r.kind === "election" ? "Candidates, in line" : "Waiting, in order" }),
    el("ol", { id: "recipe-queue" }, rest));
}

// ---- the loop ----
function show(name) {
  view = ["ensemble", "tree", "sessions", "recipes"].indexOf(name) >= 0 ? name : "ensemble";
  document.querySelectorAll("main > section").forEach(function (s) { s.hidden = s.id !== "view-" + view; });
  document.querySelectorAll("header nav a").forEach(function (a) { a.classList.toggle("active", a.getAttribute("href") === "#" + view); });
}

// One round at a time: a round asked for while one runs happens right after it.
var timer = null, running = false, again = false;
async function tick() {
  if (running) { again = true; return; }
  running = true;
  clearTimeout(timer);
  try {
    await refreshEnsemble();
    if (view === "tree") await refreshTree();
    else if (view === "sessions") await refreshSessions();
    else if (view === "recipes") await refreshRecipes();
  } catch (e) { /* shown in #conn; the next round tries again */ }
  running = false;
  timer = setTimeout(tick, again ? 0 : 500);
  again = false;
}

async function signIn(e) {
  e.preventDefault();
  auth = "Basic " + btoa("super:" + $("super-password").value);
  var me = await api("whoami").catch(function () { return { super: false }; });
  if (!me.super) { auth = null; $("auth-state").textContent = me.writable === false ? "no super user configured" : "wrong password"; return; }
  $("auth-state").textContent = "super user";
  $("signin").hidden = true;
  renderNode();
}

window.addEventListener("hashchange", function () { show(location.hash.slice(1)); tick(); });
$("signin").addEventListener("submit", signIn);
$("recipe-form").addEventListener("submit", function (e) { e.preventDefault(); recipePath = $("recipe-path").value.trim(); tick(); });
show(location.hash.slice(1));
tick();
})();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zkts dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>zkts</h1>
  <nav>
    <a href="#ensemble">Ensemble</a>
    <a href="#tree">Tree</a>
    <a href="#sessions">Sessions &amp; watches</a>
    <a href="#recipes">Recipes</a>
  </nav>
  <span class="spacer"></span>
  <span id="conn"></span>
  <form id="signin"><input id="super-password" type="password" placeholder="super password" autocomplete="off"> <button>Sign in</button></form>
  <span id="auth-state"></span>
</header>
<main>
  <section id="view-ensemble">
    <div id="leader-line">Leader: <b id="leader" data-leader="">…</b> <span id="epoch" class="muted"></span></div>
    <div id="servers" class="cards"></div>
    <h3>Events</h3>
    <ol id="events" reversed></ol>
  </section>
  <section id="view-tree" hidden>
    <div class="split"><div id="tree" class="tree"></div><div id="node" class="panel"></div></div>
  </section>
  <section id="view-sessions" hidden>
    <h3>Sessions</h3><table id="sessions"></table>
    <h3>Watches by path</h3><table id="watches"></table>
  </section>
  <section id="view-recipes" hidden>
    <form id="recipe-form"><input id="recipe-path" size="60" placeholder="/path/of/a/lock/or/election"> <button>Show</button></form>
    <p id="demo-paths"></p>
    <div id="recipe"></div>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
