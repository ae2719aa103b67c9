"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const KINDS = D.kinds, SYM = D.symbols, ITEMS = D.items;
  const PAGE = 200; // rows made at a time in one resource group
  const on = new Set(KINDS);
  let query = "", focus = null, selected = null;
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const visible = (it) =>
    on.has(KINDS[it[4]]) &&
    (focus === null || it[2] === focus) &&
    (query === "" || it[0].toLowerCase().includes(query));

  function row(it) {
    const r = el("div", "inst k-" + KINDS[it[4]]);
    r.dataset.addr = it[0];
    r.append(el("span", "sym", SYM[it[4]]), document.createTextNode(it[0]));
    r.addEventListener("click", () => show(it, r));
    return r;
  }

  // Rows are made only when their group is open, PAGE at a time.
  function fill(box, items) {
    let n = 0;
    const more = () => {
      const frag = document.createDocumentFragment();
      for (const it of items.slice(n, n + PAGE)) frag.append(row(it));
      n = Math.min(n + PAGE, items.length);
      const old = box.querySelector(":scope > .more");
      if (old) old.remove();
      box.append(frag);
      if (n < items.length) {
        const b = el("button", "more", "show " + Math.min(PAGE, items.length - n) + " more of " + (items.length - n));
        b.addEventListener("click", more);
        box.append(b);
      }
    };
    more();
  }

  function counts(items) {
    const c = {};
    for (const it of items) c[it[4]] = (c[it[4]] || 0) + 1;
    return Object.keys(c).map((k) => SYM[k] + c[k]).join(" ");
  }

  function render() {
    const shown = ITEMS.filter(visible);
    $("shown").textContent = "(" + shown.length + " of " + ITEMS.length + ")";
    const byModule = new Map();
    for (const it of shown) {
      if (!byModule.has(it[1])) byModule.set(it[1], new Map());
      const g = byModule.get(it[1]);
      if (!g.has(it[2])) g.set(it[2], []);
      g.get(it[2]).push(it);
    }
    const few = shown.length <= 300;
    const list = $("list");
    list.textContent = "";
    const frag = document.createDocumentFragment();
    for (const [mod, groups] of byModule) {
      let parent = frag;
      if (mod !== "") {
        const d = el("details", "module");
        d.open = few || byModule.size <= 20;
        d.dataset.module = mod;
        const all = [].concat(...groups.values());
        const s = el("summary", null, mod + " ");
        s.append(el("span", "n", "(" + all.length + ": " + counts(all) + ")"));
        d.append(s);
        frag.append(d);
        parent = d;
      }
      for (const [group, items] of groups) {
        const d = el("details", "res");
        d.dataset.group = group;
        const segs = group.split(".");
        const local = segs.slice(segs.length >= 3 && segs[segs.length - 3] === "data" ? -3 : -2).join(".");
        const s = el("summary", null, (mod === "" ? group : local) + " ");
        s.append(el("span", "n", "(" + items.length + ": " + counts(items) + ")"));
        d.append(s);
        let made = false;
        const make = () => { if (d.open && !made) { made = true; fill(d, items); } };
        d.addEventListener("toggle", make);
        d.open = few || items.length <= 20 || focus !== null;
        make(); // the toggle event comes later; open groups get their rows now
        parent.append(d);
      }
    }
    if (shown.length === 0) frag.append(el("div", "note", "nothing matches"));
    list.append(frag);
  }

  function cell(tr, text, cls) {
    const td = el("td", cls, text === null ? "null" : text);
    tr.append(td);
  }

  function show(it, r) {
    if (selected) selected.classList.remove("sel");
    selected = r;
    r.classList.add("sel");
    const d = $("detail");
    d.hidden = false;
    d.textContent = "";
    d.append(el("h3", null, SYM[it[4]] + " " + it[0] + "  (" + KINDS[it[4]] + ")"));
    for (const n of it[5]) d.append(el("div", "note", n));
    const t = el("table");
    const changed = it[6].filter((x) => x[1] !== x[2]);
    const same = it[6].filter((x) => x[1] === x[2]);
    for (const x of changed) {
      const tr = el("tr", "chg");
      cell(tr, x[0]);
      cell(tr, x[1], "before");
      cell(tr, "→");
      cell(tr, x[2], "after");
      t.append(tr);
    }
    for (const x of same) {
      const tr = el("tr", "same");
      cell(tr, x[0]);
      const td = el("td", null, x[1]);
      td.colSpan = 3;
      tr.append(td);
      t.append(tr);
    }
    d.append(t);
    d.scrollIntoView({ block: "nearest" });
  }

  function setFocus(group) {
    focus = group;
    for (const g of document.querySelectorAll("#graph g.node")) g.classList.toggle("sel", g.dataset.group === group);
    const f = $("focus");
    f.textContent = "";
    if (group !== null) {
      f.append(document.createTextNode("resource: " + group));
      const b = el("button", null, "×");
      b.title = "show all resources";
      b.addEventListener("click", () => setFocus(null));
      f.append(b);
    }
    render();
  }

  for (const g of document.querySelectorAll("#graph g.node")) {
    g.addEventListener("click", () => setFocus(focus === g.dataset.group ? null : g.dataset.group));
  }
  for (const c of document.querySelectorAll("#filters input[type=checkbox]")) {
    c.addEventListener("change", () => {
      if (c.checked) on.add(c.dataset.kind); else on.delete(c.dataset.kind);
      render();
    });
  }
  $("fit").addEventListener("click", (e) => {
    const fit = $("graph").classList.toggle("fit");
    e.target.textContent = fit ? "actual size" : "fit to width";
  });
  let timer = null;
  $("search").addEventListener("input", (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => { query = e.target.value.trim().toLowerCase(); render(); }, 120);
  });
  render();
  // page.html#show=ADDRESS opens that instance's diff (a link a reviewer can share).
  const m = /^#show=(.+)$/.exec(location.hash);
  if (m) {
    const addr = decodeURIComponent(m[1]);
    const r = [...document.querySelectorAll("#list .inst")].find((e) => e.dataset.addr === addr);
    const it = ITEMS.find((x) => x[0] === addr);
    if (it) {
      if (r) show(it, r);
      else { $("search").value = addr; query = addr.toLowerCase(); render(); const r2 = document.querySelector("#list .inst"); if (r2) show(it, r2); }
    }
  }
})();
