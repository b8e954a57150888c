// Parley staff app: the compose counter and live statuses. No framework, no inline script.
"use strict";

// SMS segments, counted exactly as parley.domain.segments counts them on the server;
// the GSM-7 tables come from the server in data attributes.
function countSegments(text, basic, extension) {
  const chars = Array.from(text);
  const gsm = chars.every((c) => basic.has(c) || extension.has(c));
  const costs = chars.map((c) => (gsm ? (extension.has(c) ? 2 : 1) : c.codePointAt(0) > 0xffff ? 2 : 1));
  const units = costs.reduce((a, b) => a + b, 0);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  if (units <= single) return { gsm, units, segments: 1 };
  let segments = 1, filled = 0;
  for (const cost of costs) {
    if (filled + cost > part) { segments += 1; filled = 0; }
    filled += cost;
  }
  return { gsm, units, segments };
}

function setUpCompose(form) {
  const basic = new Set(Array.from(form.dataset.gsmBasic + "\n\r"));
  const extension = new Set(Array.from(form.dataset.gsmExtension));
  const limit = Number(form.dataset.limit);
  const body = form.querySelector("textarea");
  const toggle = form.querySelector("#send-as-sms");
  const counter = form.querySelector("#counter");
  const warnings = form.querySelector("#sms-warnings");
  const shortened = form.querySelector("#shortened");
  function update() {
    const message = body.value.trim();
    const characters = Array.from(message).length;
    if (!toggle.checked) {
      counter.textContent = characters ? `${characters} characters` : "";
      warnings.hidden = true;
      return;
    }
    const text = form.dataset.head + message + form.dataset.tail;
    const count = countSegments(text, basic, extension);
    const plural = count.segments === 1 ? "segment" : "segments";
    counter.textContent = `${characters} characters · ${count.segments} SMS ${plural}` +
      (count.gsm ? "" : " (Unicode)");
    shortened.hidden = count.segments <= limit;
    warnings.hidden = !Array.from(warnings.children).some((li) => !li.hidden);
  }
  body.addEventListener("input", update);
  toggle.addEventListener("change", update);
  update();
}

function setUpLiveThread(thread) {
  if (!window.EventSource) return;
  const events = new EventSource(thread.dataset.events);
  events.addEventListener("changed", async () => {
    const response = await fetch(thread.dataset.fragment, { credentials: "same-origin" });
    if (response.ok) thread.innerHTML = await response.text();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("compose");
  if (form) setUpCompose(form);
  const thread = document.getElementById("thread");
  if (thread) setUpLiveThread(thread);
  const latest = document.getElementById("latest");
  if (latest && !location.hash) latest.scrollIntoView({ block: "end" });
});
