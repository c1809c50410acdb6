// riskwarn workbench: small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Filters apply as soon as a choice changes.
  for (const select of document.querySelectorAll("select[data-autosubmit], input[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // A tier raise cannot be undone: ask once.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => {
      const select = button.form.querySelector("select");
      const choice = select ? select.options[select.selectedIndex].text : "";
      if (!window.confirm(`${button.dataset.confirm} ${choice}`)) event.preventDefault();
    });
  }
  // Whole queue rows open their case.
  for (const row of document.querySelectorAll("table.queue tr.row")) {
    row.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      const link = row.querySelector("a.case-link");
      if (link) window.location.assign(link.href);
    });
  }
});
