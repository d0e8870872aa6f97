// TimeSync web app conveniences. Every page works without this script;
// it only ticks the running timer, preselects a project's default
// activity, and asks before deleting.
"use strict";

function pad(n) {
  return String(n).padStart(2, "0");
}

// A running timer: <output data-elapsed="seconds at rendering"> counts on
// in h:mm:ss (from the page's load, so the device's clock does not matter).
function tickTimers() {
  const outputs = document.querySelectorAll("output[data-elapsed]");
  if (outputs.length === 0) return;
  const loaded = Date.now();
  const tick = () => {
    for (const out of outputs) {
      const elapsed = Number(out.dataset.elapsed) + Math.floor((Date.now() - loaded) / 1000);
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
      if (activities.multiple) {
        for (const option of activities.options) option.selected = option.value === slug && slug !== "";
      }
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
