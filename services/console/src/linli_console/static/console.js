"use strict";
// The pages work without this file. With it, a form on its way says so on the button that sent it,
// and a second tap while a slow answer is coming sends nothing more.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "true";
  form.setAttribute("aria-busy", "true");
  const button = event.submitter;
  if (button && button.tagName === "BUTTON") {
    button.dataset.label = button.textContent;
    button.textContent = "请稍候…";
  }
});

// Back to a page the browser kept: its forms are ready to send again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-sending]")) {
    delete form.dataset.sending;
    form.removeAttribute("aria-busy");
    for (const button of form.querySelectorAll("button[data-label]")) {
      button.textContent = button.dataset.label;
      delete button.dataset.label;
    }
  }
});
