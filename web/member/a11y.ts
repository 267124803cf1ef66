// Names for the few Vant widgets that come without one (screen readers announce them, and axe-core
// refuses unnamed ones): toasts become status messages, dialogs and sheets are named by their title or
// text, close icons and overlays say what they do, the upload input says what it picks.
type Translate = (key: string) => string;

function nameDialogs() {
  for (const dialog of document.querySelectorAll<HTMLElement>("[role=dialog]")) {
    if (dialog.classList.contains("van-toast")) {
      dialog.setAttribute("role", "status");
      dialog.setAttribute("aria-live", "polite");
      continue;
    }
    const labelled = dialog.getAttribute("aria-labelledby");
    if (dialog.getAttribute("aria-label") || (labelled && document.getElementById(labelled))) continue;
    const text = dialog.querySelector(".van-dialog__header, .van-picker__title, h2")?.textContent
      ?? dialog.querySelector(".van-dialog__message")?.textContent ?? "";
    if (text.trim()) dialog.setAttribute("aria-label", text.trim().slice(0, 80));
  }
}

function nameControls(t: Translate) {
  for (const icon of document.querySelectorAll(".van-popup__close-icon:not([aria-label])")) {
    icon.setAttribute("aria-label", t("common.close"));
  }
  for (const overlay of document.querySelectorAll(".van-overlay[role=button]:not([aria-label])")) {
    overlay.setAttribute("aria-label", t("common.close"));
  }
  for (const input of document.querySelectorAll(".van-uploader__input:not([aria-label])")) {
    input.setAttribute("aria-label", t("upload.pick"));
  }
}

export function nameVantWidgets(t: Translate) {
  new MutationObserver(() => {
    nameDialogs();
    nameControls(t);
  }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["role", "class"] });
}
