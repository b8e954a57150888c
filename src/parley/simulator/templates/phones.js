// Keeps each phone's texts current without losing what is being typed.
"use strict";
setInterval(async () => {
  const response = await fetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const phones = document.getElementById("phones");
  fresh.querySelectorAll("[data-phone]").forEach((phone) => {
    const mine = phones.querySelector(`[data-phone="${phone.dataset.phone}"]`);
    if (!mine) { phones.appendChild(document.importNode(phone, true)); return; }
    const texts = mine.querySelector(".texts");
    const freshTexts = phone.querySelector(".texts");
    if (texts.innerHTML !== freshTexts.innerHTML) texts.innerHTML = freshTexts.innerHTML;
  });
}, 1500);
