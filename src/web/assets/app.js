// TimeSync web app conveniences. Every page works without this script;
// it only ticks the running timer, preselects a project's default
// activity, and asks before deleting.
"use strict";

function pad(n) {
  return String(n).padStart(2, "0");
}

// A running timer: <output data-started-ms="…"> shows h:mm:ss since then.
function tickTimers() {
  const outputs = document.querySelectorAll("output[data-started-ms]");
  if (outputs.length === 0) return;
  const offset = Date.now() - Number(document.body.dataset.serverNowMs || Date.now());
  const tick = () => {
    for (const out of outputs) {
      const elapsed = Math.max(0, Math.floor((Date.now() - offset - Number(out.dataset.startedMs)) / 1000));
      const h = Math.floor(elapsed / 3600);
      out.textContent = h + ":" + pad(Math.floor(elapsed / 60) % 60) + ":" + pad(elapsed % 60);
    }
  };
  tick();
  setInterval(tick, 1000);
}

// Choosing a project selects its default activity, unless activities were
// already picked by hand.
function defaultActivities() {
  for (const project of document.querySelectorAll("select[data-activities]")) {
    const activities = document.getElementById(project.dataset.activities);
    if (!activities) continue;
    let touched = false;
    activities.addEventListener("change", () => { touched = true; });
    project.addEventListener("change", () => {
      if (touched) return;
      const chosen = project.selectedOptions[0];
      const slug = chosen ? chosen.dataset.defaultActivity : "";
      for (const option of activities.options) option.selected = option.value === slug && slug !== "";
    });
  }
}

function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  tickTimers();
  defaultActivities();
  confirmations();
});
