// Consentry's log monitor, in the person's browser (the portal and the /verify page).
//
// The browser remembers the last checkpoint of the log it verified (localStorage, per log
// origin) and, on each visit, checks with the core's own code compiled to WebAssembly
// (crates/consentry-core/src/monitor.rs, through crates/consentry-wasm) that:
//   - the checkpoint it is shown now is signed by a pinned log key, and by which of the
//     witnesses the operator lists;
//   - it extends the remembered one (an RFC 9162 consistency proof) — or, for a
//     certificate's older checkpoint on /verify, is contained in it;
//   - each of the person's entries on the page is sealed by a pinned key and included in
//     it (an RFC 9162 inclusion proof).
// A checkpoint that is not consistent with the remembered one is evidence: both signed
// notes are kept (key "<prefix>:evidence") and the remembered one is not replaced.
//
// This script only fetches (from this origin, the log's public routes) and moves bytes;
// every decision is the WebAssembly module's. The container element (#monitor) carries:
//   data-wasm       the module's URL
//   data-keys       {"seal": [...], "log": [...]}: the pinned keys
//   data-witnesses  ["vkey", ...]: the witnesses the operator lists (information only)
//   data-text       the words to show, in the page's language
//   data-latest     "true": check the log's latest checkpoint on load
// and the page's entries are elements with data-monitor-url (a document to fetch) or
// data-monitor-entry (the document itself), each holding a .monitor-status element.
// The outcome is set on the container as data-relation once checked (tests wait on it).
"use strict";

(() => {
  const box = document.getElementById("monitor");
  if (!box) {
    return;
  }
  const text = JSON.parse(box.dataset.text);
  const pins = JSON.parse(box.dataset.keys || "{}");
  const witnesses = JSON.parse(box.dataset.witnesses || "[]");
  const status = box.querySelector(".monitor-line");
  const cosigners = box.querySelector(".monitor-witnesses");

  const origin = ((pins.log || [])[0] || "").split("+")[0];
  const prefix = "consentry.monitor:" + origin;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => (k in values ? String(values[k]) : ""));
  }

  function sizeOf(note) {
    const lines = (note || "").split("\n");
    const n = Number(lines[1]);
    return Number.isSafeInteger(n) ? n : null;
  }

  async function getText(url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) {
      throw new Error(url.split("?")[0] + ": HTTP " + r.status);
    }
    return r.text();
  }

  async function getJson(url) {
    return JSON.parse(await getText(url));
  }

  let module = null;
  async function wasm() {
    if (!module) {
      const r = await fetch(box.dataset.wasm, { credentials: "same-origin" });
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      module = (await WebAssembly.instantiate(await r.arrayBuffer(), {})).instance.exports;
    }
    return module;
  }

  // Runs the module's monitor on `input` (an object) and returns its report.
  async function check(input) {
    const ex = await wasm();
    const bytes = new TextEncoder().encode(JSON.stringify(input));
    const ptr = ex.alloc(bytes.length) >>> 0;
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
    let packed;
    try {
      packed = BigInt.asUintN(64, ex.monitor(ptr, bytes.length));
    } catch (e) {
      module = null; // a trap leaves the instance in an unknown state
      throw e;
    }
    ex.dealloc(ptr, bytes.length);
    const outPtr = Number(packed >> 32n);
    const outLen = Number(packed & 0xffffffffn);
    const json = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, outPtr, outLen));
    ex.dealloc(outPtr, outLen);
    return JSON.parse(json);
  }

  function remembered() {
    try {
      return localStorage.getItem(prefix + ":checkpoint");
    } catch (e) {
      return null; // storage refused (private mode): every visit is a first one
    }
  }

  function when() {
    try {
      return localStorage.getItem(prefix + ":at");
    } catch (e) {
      return null;
    }
  }

  function keep(report, shown, old) {
    try {
      if (report.relation === "inconsistent") {
        localStorage.setItem(
          prefix + ":evidence",
          JSON.stringify({ remembered: old, shown: shown, problem: report.problem, at: new Date().toISOString() }),
        );
      } else if (report.remember && report.remember !== old) {
        localStorage.setItem(prefix + ":checkpoint", report.remember);
        localStorage.setItem(prefix + ":at", new Date().toISOString());
      } else if (!when()) {
        localStorage.setItem(prefix + ":at", new Date().toISOString());
      }
    } catch (e) {
      // Nothing kept: the next visit starts again.
    }
  }

  // The consistency proof between the remembered checkpoint and `note`, smaller first.
  // None is needed when the latest checkpoint is smaller than the remembered one (that is
  // a rollback whatever a proof says). A log that cannot give one (404: the remembered
  // size is beyond it) gives none, and the module says the two are not shown consistent.
  async function consistency(old, note, latest) {
    const a = sizeOf(old);
    const b = sizeOf(note);
    if (a === null || b === null || a === b || Math.min(a, b) === 0 || (latest && b < a)) {
      return [];
    }
    const url = "/v1/log/proof/consistency?old=" + Math.min(a, b) + "&new=" + Math.max(a, b);
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 404) {
      return [];
    }
    if (!r.ok) {
      throw new Error("/v1/log/proof/consistency: HTTP " + r.status);
    }
    return (await r.json()).hashes;
  }

  function describe(report, old) {
    const at = when();
    const date = at ? new Date(at).toLocaleString(document.documentElement.lang || undefined) : "";
    const values = {
      size: report.size,
      old: report.remembered_size,
      date: date,
      problem: report.problem || "",
    };
    return fill(text[report.relation] || report.relation, values);
  }

  function showWitnesses(report) {
    if (!cosigners) {
      return;
    }
    cosigners.textContent =
      report.cosigned_by && report.cosigned_by.length > 0
        ? fill(text.cosigned, { names: report.cosigned_by.join(", ") })
        : witnesses.length > 0
          ? text.not_witnessed
          : "";
  }

  // Checks `note` (latest: the log's own /checkpoint) and the page's entries.
  async function run(note, latest, rows) {
    const old = remembered();
    const size = sizeOf(note);
    const documents = await Promise.all(
      rows.map((row) => (row.dataset.monitorUrl ? getText(row.dataset.monitorUrl) : row.dataset.monitorEntry)),
    );
    const entries = [];
    const shown = [];
    for (let i = 0; i < rows.length; i++) {
      let index = null;
      try {
        index = JSON.parse(documents[i]).log_index;
      } catch (e) {
        index = null;
      }
      if (size !== null && Number.isSafeInteger(index) && index >= size) {
        // Appended after the checkpoint: the next one will hold it.
        rows[i].querySelector(".monitor-status").textContent = text.entry_pending;
        rows[i].dataset.monitor = "pending";
        continue;
      }
      const hashes =
        Number.isSafeInteger(index) && size !== null
          ? (await getJson("/v1/log/proof/inclusion?index=" + index + "&size=" + size)).hashes
          : [];
      entries.push({ document: documents[i], hashes: hashes });
      shown.push(rows[i]);
    }
    const report = await check({
      log_keys: pins.log || [],
      seal_keys: pins.seal || [],
      witnesses: witnesses,
      remembered: old,
      checkpoint: note,
      latest: latest,
      consistency: old ? await consistency(old, note, latest) : [],
      entries: entries,
    });
    report.entries.forEach((e, i) => {
      const row = shown[i];
      row.dataset.monitor = e.sealed && e.included ? "included" : "failed";
      row.querySelector(".monitor-status").textContent =
        e.sealed && e.included ? fill(text.entry_included, { size: report.size }) : text.entry_failed + e.detail;
    });
    status.textContent = describe(report, old);
    showWitnesses(report);
    box.className = "monitor " + report.relation;
    keep(report, note, old);
    box.dataset.relation = report.relation;
    return report;
  }

  async function start() {
    const rows = Array.from(document.querySelectorAll("[data-monitor-url], [data-monitor-entry]"));
    status.textContent = text.checking;
    try {
      if (box.dataset.latest === "true") {
        await run(await getText("/checkpoint"), true, rows);
      }
    } catch (e) {
      status.textContent = text.failed + (e && e.message ? e.message : String(e));
      box.dataset.relation = "error";
    }
  }

  // The /verify page hands a verified certificate's checkpoint here, to check it against
  // the remembered one (only when it is this log's: signed by the keys pinned here).
  window.consentryMonitor = {
    certificate(note) {
      return run(note, false, []).catch((e) => {
        status.textContent = text.failed + (e && e.message ? e.message : String(e));
      });
    },
  };

  start();
})();
