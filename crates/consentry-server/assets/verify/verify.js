// Consentry's /verify page: verifies a proof or certificate in the browser.
//
// The checks are the core's own (crates/consentry-core, src/verify.rs), compiled to
// WebAssembly (crates/consentry-wasm). This script only moves bytes: it reads the pasted
// text or the chosen/dropped file, copies it into the module's memory, calls verify, and
// shows the JSON report it returns. The one request it makes is for the .wasm itself;
// the document never leaves the browser.
//
// The module's interface (crates/consentry-wasm/src/abi.rs):
//   alloc(len) -> ptr          a buffer of len bytes in the module's memory
//   verify(ptr, len) -> u64    (report_ptr << 32) | report_len, UTF-8 JSON
//   dealloc(ptr, len)          gives a buffer back
// The report: {outcome: "valid"|"untrusted"|"invalid"|"unusable", kind, proof_id, leaf_hash,
//              anchored_by, checks: [{name, status: "passed"|"failed"|"not_checked"|"untrusted",
//              detail}], error?}
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const text = JSON.parse(app.dataset.text);
  const wasmUrl = app.dataset.wasm;
  const form = $("form");
  const fileInput = $("file");
  const drop = $("drop");
  const textarea = $("doc");
  const status = $("status");
  const result = $("result");
  const verdict = $("verdict");
  const summary = $("summary");
  const meta = $("meta");
  const checks = $("checks");
  const proven = $("proven");
  const provenList = $("proven-list");

  // Larger documents are refused by the verifier (MAX_DOCUMENT_BYTES); show at most this
  // much of a chosen file in the text box.
  const SHOW_AT_MOST = 1024 * 1024;

  let compiled = null; // Promise of the WebAssembly.Module, fetched and compiled once
  let instance = null; // the current instance; dropped after a trap

  function loadModule() {
    if (!compiled) {
      compiled = fetch(wasmUrl, { credentials: "same-origin" })
        .then((r) => {
          if (!r.ok) {
            throw new Error("HTTP " + r.status);
          }
          return r.arrayBuffer();
        })
        .then((bytes) => WebAssembly.instantiate(bytes, {}))
        .then((made) => {
          instance = made.instance;
          return made.module;
        });
      compiled.catch(() => {
        compiled = null; // try again on the next verification
      });
    }
    return compiled;
  }

  async function exports() {
    const module = await loadModule();
    if (!instance) {
      instance = await WebAssembly.instantiate(module, {});
    }
    return instance.exports;
  }

  // The keys the page pins, as the module reads them: {seal: [...], log: [...]}. The
  // serving operator's (in data-keys), unless the visitor pasted an operator's
  // /.well-known/consentry.json (then that one's, and only those).
  function pinnedKeys() {
    const pasted = document.getElementById("keys").value.trim();
    if (!pasted) {
      return app.dataset.keys || "{}";
    }
    let wk;
    try {
      wk = JSON.parse(pasted);
    } catch (e) {
      return "not JSON";
    }
    const seal = (wk.seal_keys || []).map((k) => k.public_key);
    const log = wk.log && wk.log.verifier_key ? [wk.log.verifier_key] : [];
    (wk.previous_log_keys || []).forEach((k) => log.push(k));
    return JSON.stringify({ seal: seal, log: log });
  }

  // Copies bytes (a Uint8Array) into a new buffer of the module: [ptr, len].
  function copyIn(ex, bytes) {
    const len = bytes.length;
    const ptr = ex.alloc(len) >>> 0;
    new Uint8Array(ex.memory.buffer, ptr, len).set(bytes);
    return [ptr, len];
  }

  // Verifies bytes (a Uint8Array) against the pinned keys and returns the report.
  function verifyBytes(ex, bytes) {
    const [inPtr, len] = copyIn(ex, bytes);
    const [keysPtr, keysLen] = copyIn(ex, new TextEncoder().encode(pinnedKeys()));
    let packed;
    try {
      packed = BigInt.asUintN(64, ex.verify_pinned(inPtr, len, keysPtr, keysLen));
    } catch (e) {
      // A trap (a panic in Rust) leaves the instance's memory in an unknown state.
      instance = null;
      throw e;
    }
    ex.dealloc(inPtr, len);
    ex.dealloc(keysPtr, keysLen);
    const outPtr = Number(packed >> 32n);
    const outLen = Number(packed & 0xffffffffn);
    // Read the report before freeing it; memory.buffer is read again, since it may have
    // grown (and the old buffer been detached) during the call.
    const json = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, outPtr, outLen));
    ex.dealloc(outPtr, outLen);
    return JSON.parse(json);
  }

  function el(tag, className, content) {
    const e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (content !== undefined) {
      e.textContent = content;
    }
    return e;
  }

  function checkLabel(name) {
    return text.checks[name] || name;
  }

  const MARKS = { passed: "\u2713", failed: "\u2717", not_checked: "\u2013", untrusted: "?" };

  // The proof a verified document carries: itself, or a certificate's proof.
  function proofIn(bytes, kind) {
    try {
      const doc = JSON.parse(new TextDecoder().decode(bytes));
      if (kind === "proof") {
        return doc;
      }
      if (kind === "certificate" && doc.proof && typeof doc.proof === "object") {
        return doc.proof;
      }
    } catch (e) {
      // Not JSON: nothing to summarise.
    }
    return null;
  }

  // What a valid proof proves, in plain words and the page's language, before the
  // technical checks: who asked (the sender's identifier at the operator, and the log),
  // for what, the decision, when, and until when. Only for a valid verdict: the
  // members of anything else are not vouched for.
  function renderProven(report, bytes) {
    provenList.replaceChildren();
    const doc = report.outcome === "valid" && bytes ? proofIn(bytes, report.kind) : null;
    if (!doc) {
      proven.hidden = true;
      return;
    }
    const words = text.proven;
    const lang = document.documentElement.lang || undefined;
    const date = (iso) => {
      const d = new Date(iso);
      return isNaN(d.getTime())
        ? String(iso)
        : d.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
    };
    const rows = [
      ["sender", words.sender, String(doc.tenant) + " \u2014 " + String(doc.log)],
      ["purpose", words.purpose, String(doc.purpose)],
      ["decision", words.decision, words.decisions[doc.decision] || String(doc.decision)],
      ["date", words.date, date(doc.recorded_at)],
    ];
    if (doc.valid_until) {
      rows.push(["valid_until", words.valid_until, date(doc.valid_until)]);
    }
    rows.forEach(([field, label, value]) => {
      const dd = el("dd", null, value);
      dd.dataset.field = field;
      provenList.append(el("dt", null, label), dd);
    });
    proven.hidden = false;
  }

  // Everything from the report is shown with textContent: details can quote the
  // document, which is untrusted.
  function render(report, source, bytes) {
    result.className = report.outcome;
    verdict.textContent =
      (text[report.outcome] || report.outcome) +
      (report.kind ? " \u2014 " + (text.kind[report.kind] || report.kind) : "");
    if (report.outcome === "valid") {
      summary.textContent = text.valid_detail;
    } else if (report.outcome === "untrusted") {
      const unrooted = report.checks.filter((c) => c.status === "untrusted");
      summary.textContent =
        text.untrusted_detail + unrooted.map((c) => checkLabel(c.name) + " (" + c.name + ")").join(", ");
    } else if (report.outcome === "invalid") {
      const failed = report.checks.find((c) => c.status === "failed");
      summary.textContent =
        text.invalid_detail +
        (failed ? checkLabel(failed.name) + " (" + failed.name + ") \u2014 " + failed.detail : "");
    } else {
      summary.textContent = text.unusable_detail + (report.error || "");
    }
    renderProven(report, bytes);
    meta.replaceChildren();
    const lines = [];
    if (source) {
      lines.push(text.file + source);
    }
    if (report.proof_id) {
      lines.push((report.kind === "event" ? text.event_id : text.proof_id) + report.proof_id);
    }
    if (report.leaf_hash) {
      lines.push(text.leaf_hash + report.leaf_hash);
    }
    if (report.anchored_by) {
      lines.push(text.anchored_by + report.anchored_by);
    }
    lines.forEach((line, i) => {
      if (i > 0) {
        meta.append(el("br"));
      }
      meta.append(document.createTextNode(line));
    });
    meta.hidden = lines.length === 0;
    checks.replaceChildren(
      ...report.checks.map((c) => {
        const li = el("li", c.status);
        li.dataset.check = c.name;
        li.dataset.status = c.status;
        const badge = el("span", "badge");
        const mark = el("span", null, (MARKS[c.status] || "?") + " ");
        mark.setAttribute("aria-hidden", "true");
        badge.append(mark, document.createTextNode(text.status[c.status] || c.status));
        li.append(
          badge,
          " ",
          el("strong", null, checkLabel(c.name)),
          " ",
          el("code", null, c.name),
          el("span", "detail", c.detail),
        );
        return li;
      }),
    );
    checks.hidden = report.checks.length === 0;
    result.hidden = false;
    // Set last: the page's state for anyone (or any test) waiting on it.
    result.dataset.outcome = report.outcome;
  }

  function clearResult() {
    result.hidden = true;
    delete result.dataset.outcome;
    result.className = "";
  }

  let run = 0;

  async function verifyAndShow(bytes, source, focus) {
    const mine = ++run;
    clearResult();
    status.textContent = text.verifying;
    let ex;
    try {
      ex = await exports();
    } catch (e) {
      if (mine === run) {
        status.textContent = text.load_failed + message(e);
      }
      return;
    }
    if (mine !== run) {
      return; // a newer verification started meanwhile
    }
    let report;
    try {
      report = verifyBytes(ex, bytes);
    } catch (e) {
      status.textContent = text.crashed + message(e);
      return;
    }
    status.textContent = "";
    render(report, source, bytes);
    if (focus) {
      result.focus();
    }
    // A certificate valid under this operator's own keys carries a checkpoint of this
    // log: the monitor (monitor.js) checks it against the one this browser remembers.
    if (
      report.kind === "certificate" &&
      report.outcome === "valid" &&
      window.consentryMonitor &&
      document.getElementById("keys").value.trim() === ""
    ) {
      try {
        const doc = JSON.parse(new TextDecoder().decode(bytes));
        if (typeof doc.checkpoint === "string") {
          window.consentryMonitor.certificate(doc.checkpoint);
        }
      } catch (e) {
        // Not JSON (a tlog-proof text): nothing to compare.
      }
    }
  }

  function message(e) {
    return e && e.message ? e.message : String(e);
  }

  async function verifyFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (bytes.length <= SHOW_AT_MOST) {
      textarea.value = new TextDecoder().decode(bytes);
    }
    await verifyAndShow(bytes, file.name, true);
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (textarea.value.trim() === "") {
      clearResult();
      status.textContent = text.empty;
      textarea.focus();
      return;
    }
    verifyAndShow(new TextEncoder().encode(textarea.value), null, true);
  });

  form.addEventListener("reset", () => {
    run++;
    clearResult();
    status.textContent = "";
  });

  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // A paste is verified at once (after the browser has put the text in the box).
  textarea.addEventListener("paste", () => {
    setTimeout(() => form.requestSubmit(), 0);
  });

  fileInput.addEventListener("change", () => {
    const file = fileInput.files && fileInput.files[0];
    if (file) {
      verifyFile(file);
    }
  });

  // Files may be dropped on the box or on the text area; dropped text still goes into
  // the text area as usual.
  const hasFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  for (const target of [drop, textarea]) {
    target.addEventListener("dragover", (e) => {
      if (hasFiles(e)) {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        drop.classList.add("over");
      }
    });
    target.addEventListener("dragleave", () => drop.classList.remove("over"));
    target.addEventListener("drop", (e) => {
      drop.classList.remove("over");
      const file = hasFiles(e) && e.dataTransfer.files[0];
      if (file) {
        e.preventDefault();
        verifyFile(file);
      }
    });
  }
  // A file dropped beside the box must not make the browser open it instead.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (e) => {
      if (hasFiles(e)) {
        e.preventDefault();
      }
    });
  }

  // A proof carried in the address's fragment (the QR code of a proof PDF):
  // #proof=<unpadded base64url of the raw-DEFLATE-compressed proof JSON>
  // (docs/formats.md). The fragment never reaches a server; the proof is decompressed
  // here and verified like a pasted one. null when the address carries none.
  async function fromFragment() {
    const m = /^#proof=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (!m) {
      return null;
    }
    const b64 = m[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
    const packed = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function verifyFragment() {
    let bytes;
    try {
      bytes = await fromFragment();
    } catch (e) {
      status.textContent = text.bad_link + message(e);
      return;
    }
    if (bytes) {
      textarea.value = new TextDecoder().decode(bytes);
      await verifyAndShow(bytes, text.from_link, true);
    }
  }

  window.addEventListener("hashchange", verifyFragment);

  // Fetch and compile the verifier at once, so that the first check is quick.
  status.textContent = text.loading;
  loadModule().then(
    () => {
      if (status.textContent === text.loading) {
        status.textContent = "";
      }
      app.dataset.ready = "true";
      verifyFragment();
    },
    (e) => {
      status.textContent = text.load_failed + message(e);
    },
  );
})();
