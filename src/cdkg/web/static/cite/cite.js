// The Cite control of a canned query's page. Without script the page shows every citation with
// its download link; with it, one button per format shows that one, and Copy puts it on the
// clipboard. The Clipboard API exists only in secure contexts (https, or this machine), and a
// server behind plain http is not one: there the text is selected and copied with execCommand.
(function () {
  "use strict";
  const control = document.getElementById("cite-control");
  if (!control) return;
  const panels = Array.from(document.querySelectorAll(".cite-format"));
  const choices = Array.from(control.querySelectorAll("button.cite-choice"));

  function show(id) {
    for (const button of choices) {
      button.setAttribute("aria-expanded", String(button.getAttribute("aria-controls") === id));
    }
    for (const panel of panels) panel.hidden = panel.id !== id;
  }

  function copyBySelection(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) throw new Error("the browser refused to copy");
  }

  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return;
      } catch (err) {
        // permission refused: the selection may still be allowed
      }
    }
    copyBySelection(text);
  }

  control.addEventListener("click", (event) => {
    const button = event.target.closest("button.cite-choice");
    if (button) show(button.getAttribute("aria-controls"));
  });
  for (const panel of panels) {
    const status = panel.querySelector(".cite-status");
    panel.querySelector(".cite-copy").addEventListener("click", async () => {
      try {
        await copy(panel.querySelector(".cite-body").textContent);
        status.textContent = "Copied.";
      } catch (err) {
        status.textContent = "Could not copy: select the text and copy it.";
      }
    });
  }
  control.hidden = false;
  show(null);
})();
