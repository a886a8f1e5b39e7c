// The chat page's behaviour that needs no server round trip (loaded in <head> by app/ui.py).
// * [n] in any answer shows that answer's sources (the panel keeps every turn's) and scrolls
//   the card into view and its passage box (and open full text) to the highlighted sentence;
// * new sources, and 阅读全文 when opened, scroll to their highlighted sentence too;
// * 复制答案和来源 copies the answer with its numbered references;
// * a question sent while the models load is acknowledged at once (the last block);
// * the page is Chinese whatever the browser's language: Gradio has picked its own words (drop
//   zone, toasts, footer) from the browser's language before this runs, so its i18n is switched
//   to zh-CN, and navigator.language reads zh-CN for anything that asks later.
(() => {
  const zh = { language: "zh-CN", languages: ["zh-CN", "zh"] };
  for (const [key, value] of Object.entries(zh)) {
    try {
      Object.defineProperty(Navigator.prototype, key, { get: () => value, configurable: true });
    } catch (e) {
      /* a browser that will not let it be redefined keeps its own */
    }
  }
  document.documentElement.lang = "zh-CN";
  // this script runs once Gradio has chosen its language: tell its i18n (the same module
  // instance, imported again by its URL) to change to zh-CN
  const core = performance
    .getEntriesByType("resource")
    .map((e) => e.name)
    .find((name) => /\/assets\/core-[\w-]+\.js$/.test(name));
  if (core) import(core).then((m) => m.changeLocale && m.changeLocale("zh-CN")).catch(() => {});
})();

(() => {
  const panel = () => document.querySelector("#sources");

  function toMark(box) {
    const mark = box && box.querySelector("mark");
    if (!mark) return;
    const b = box.getBoundingClientRect();
    const m = mark.getBoundingClientRect();
    box.scrollTop += m.top - b.top - Math.max(0, (box.clientHeight - Math.min(m.height, box.clientHeight)) / 3);
  }

  function settle(root) {
    root.querySelectorAll(".passage").forEach(toMark);
    root.querySelectorAll("details[open] .article-text").forEach(toMark);
  }

  function showTurn(turn) {
    let shown = null;
    panel()?.querySelectorAll(".turn-sources").forEach((s) => {
      const on = s.dataset.turn === String(turn);
      s.classList.toggle("shown", on);
      if (on) shown = s;
    });
    return shown;
  }

  function openSource(turn, n) {
    const section = showTurn(turn);
    const card = document.getElementById(`src-${turn}-${n}`);
    if (!section || !card) return;
    card.scrollIntoView({ block: "start" });
    settle(card);
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 1500);
    history.replaceState(null, "", `#src-${turn}-${n}`);
  }

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function copyTurn(link, turn) {
    const pre = panel()?.querySelector(`.turn-sources[data-turn="${turn}"] .copy-text`);
    const text = pre ? pre.textContent : link.closest(".message")?.innerText || "";
    const label = link.textContent;
    const done = (ok) => {
      link.textContent = ok ? "已复制" : "复制失败，请手动选择文字";
      setTimeout(() => (link.textContent = label), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done(true), () => done(fallbackCopy(text)));
    } else {
      done(fallbackCopy(text));
    }
  }

  document.addEventListener(
    "click",
    (e) => {
      const link = e.target.closest && e.target.closest("a.cite, a.copy-answer");
      if (!link) return;
      const href = link.getAttribute("href") || "";
      let m = /^#src-(\d+)-(\d+)$/.exec(href);
      if (m) {
        e.preventDefault();
        e.stopPropagation();
        openSource(m[1], m[2]);
        return;
      }
      m = /^#copy-(\d+)$/.exec(href);
      if (m) {
        e.preventDefault();
        e.stopPropagation();
        copyTurn(link, m[1]);
      }
    },
    true,
  );

  document.addEventListener(
    "toggle",
    (e) => {
      const d = e.target;
      if (d.matches && d.matches("details.article") && d.open) toMark(d.querySelector(".article-text"));
    },
    true,
  );

  let watched = null;
  const observer = new MutationObserver(() => {
    const shown = panel()?.querySelector(".turn-sources.shown");
    if (shown) requestAnimationFrame(() => settle(shown));
  });
  setInterval(() => {
    const p = panel();
    if (p && p !== watched) {
      observer.disconnect();
      observer.observe(p, { childList: true, subtree: true });
      watched = p;
    }
  }, 300);
})();

// * a question sent while the models load gets a note under the chat at once, before the server
//   (busy loading) has started on it; the note goes when the chat shows a reply.
(() => {
  const loading = () => {
    const s = document.querySelector("#model-status");
    return !!s && s.offsetParent !== null && s.innerText.includes("正在加载模型");
  };
  const replies = () => document.querySelectorAll("#chat .message.bot").length;

  function notePending() {
    const box = document.querySelector("#question textarea");
    const question = (box && box.value ? box.value : "").trim();
    const chat = document.querySelector("#chat");
    if (!question || !chat || !loading()) return;
    let note = document.querySelector("#pending-question");
    if (!note) {
      note = document.createElement("div");
      note.id = "pending-question";
      note.className = "loading";
      chat.insertAdjacentElement("afterend", note);
    }
    note.textContent = `已收到问题“${question}”，模型加载完成后自动回答…`;
    const before = replies();
    const gone = setInterval(() => {
      if (replies() > before || !loading()) {
        note.remove();
        clearInterval(gone);
      }
    }, 200);
  }

  document.addEventListener(
    "click",
    (e) => {
      if (e.target.closest && e.target.closest("#send")) notePending();
    },
    true,
  );
  document.addEventListener(
    "keydown",
    (e) => {
      if (e.key === "Enter" && !e.shiftKey && e.target.closest && e.target.closest("#question")) notePending();
    },
    true,
  );
})();
