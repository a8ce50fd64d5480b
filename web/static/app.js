// hdr review: the little behaviour the pages need, without a framework.
// 1. The batch page refreshes its status part every second until the job is done.
// 2. The review page is keyboard-first: Enter approves (the form's first button),
//    U marks unreadable, S or Esc skips, D shows the document around the field.
"use strict";

function pollStatus(box) {
  const url = box.dataset.poll;
  const tick = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.status === 401 || response.redirected) { window.location.reload(); return; }
      if (response.ok) {
        box.innerHTML = await response.text();
        if (response.headers.get("X-Job-Final") === "1") { box.dataset.final = ""; return; }
      }
    } catch (err) { /* the server may restart: try again */ }
    window.setTimeout(tick, 1000);
  };
  if (!("final" in box.dataset)) window.setTimeout(tick, 1000);
}

function togglePage() {
  const page = document.getElementById("page");
  if (!page) return;
  const img = page.querySelector("img[data-src]");
  if (img && !img.getAttribute("src")) img.setAttribute("src", img.dataset.src);
  page.hidden = !page.hidden;
}

function reviewKeys() {
  const input = document.getElementById("value");
  if (!input) return;
  input.focus();
  input.select();
  const toggle = document.getElementById("toggle-page");
  if (toggle) toggle.addEventListener("click", togglePage);
  // Values are digits, '.', ',', ' ' and '-': letters are free to be commands.
  const act = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "u") {
      event.preventDefault();
      document.getElementById("unreadable").click();
    } else if (key === "s" || key === "Escape") {
      event.preventDefault();
      window.location.assign(document.getElementById("skip").href);
    } else if (key === "d") {
      event.preventDefault();
      togglePage();
    }
  };
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement && target !== input;
    if (!typing && !(target instanceof HTMLSelectElement)) act(event);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(pollStatus);
  reviewKeys();
});
