// Confirm dialogs, modals and the Home tab, drawn from the views promobot opened or
// published. A view is redrawn only when its id or hash changes, so typing is never lost.
import { collectValues, renderBlocks } from "./blockkit.js";
import { el, textObject } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);
let page = null; // { call, context }
let shownModal = null; // { id, hash, inputs }
let shownHome = null; // { id, hash, inputs }

/** Give the views the page's `call(path, body)` and `context(extra)`. */
export function connectViews(connection) {
  page = connection;
  $("modal-submit").addEventListener("click", submitModal);
  $("modal-close").addEventListener("click", closeModal);
  $("modal").addEventListener("cancel", (event) => {
    event.preventDefault();
    closeModal();
  });
}

/** Forget what is drawn (another person is looking now). */
export function resetViews() {
  shownModal = null;
  shownHome = null;
  if ($("modal").open) $("modal").close();
}

export function confirmDialog(spec) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = spec.title?.text ?? "Are you sure?";
    $("confirm-text").replaceChildren(textObject(spec.text, page.context()));
    $("confirm-ok").textContent = spec.confirm?.text ?? "Yes";
    $("confirm-deny").textContent = spec.deny?.text ?? "Cancel";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

export function renderModal(snapshot) {
  const dialog = $("modal");
  const view = snapshot?.modal;
  if (!view) {
    shownModal = null;
    if (dialog.open) dialog.close();
    return;
  }
  if (shownModal && shownModal.id === view.id && shownModal.hash === view.hash) {
    showErrors(view.errors ?? {});
    return;
  }
  const inputs = new Map();
  const options = new Map(); // query -> promise of the options promobot gave
  const ctx = page.context({
    inputs,
    errors: view.errors ?? {},
    onAction: (block, element, extra) =>
      page.call("/ui/action", { view_id: view.id, block_id: block.block_id, action_id: element.action_id, ...extra, values: collectValues(inputs) }),
    loadOptions: (block, element, query) => {
      // Asked once per query and form state (a version list depends on the model chosen):
      // the same body sent twice within a second would look like a replay to promobot.
      const values = collectValues(inputs);
      const key = JSON.stringify([block.block_id, element.action_id, query, values]);
      if (!options.has(key)) {
        const body = { view_id: view.id, block_id: block.block_id, action_id: element.action_id, value: query, values };
        options.set(key, page.call("/ui/options", body));
      }
      return options.get(key);
    },
  });
  shownModal = { id: view.id, hash: view.hash, inputs };
  $("modal-title").textContent = view.title?.text ?? "";
  $("modal-body").replaceChildren(renderBlocks(view.blocks, ctx));
  $("modal-error").textContent = view.errors?.[""] ?? "";
  $("modal-close").textContent = view.close?.text ?? "Cancel";
  $("modal-submit").hidden = !view.submit;
  $("modal-submit").textContent = view.submit?.text ?? "Submit";
  if (!dialog.open) dialog.showModal();
}

function showErrors(errors) {
  $("modal-error").textContent = errors[""] ?? "";
  for (const block of $("modal-body").querySelectorAll(".bk-input-block")) {
    const message = errors[block.dataset.blockId];
    const shown = block.querySelector(".bk-error");
    if ((shown?.textContent ?? undefined) === message) continue; // unchanged: no new alert
    block.classList.toggle("bk-has-error", Boolean(message));
    shown?.remove();
    const field = block.querySelector("input, select, textarea");
    if (message) {
      const id = `input-${block.dataset.blockId}-error`;
      block.append(el("div", { class: "bk-error", id, role: "alert" }, message));
      field?.setAttribute("aria-invalid", "true");
      field?.setAttribute("aria-describedby", id);
    } else {
      field?.removeAttribute("aria-invalid");
    }
  }
}

async function submitModal() {
  if (!shownModal) return;
  const button = $("modal-submit");
  button.disabled = true;
  try {
    const answer = await page.call("/ui/submit", { view_id: shownModal.id, values: collectValues(shownModal.inputs) });
    if (answer.errors) showErrors(answer.errors);
  } finally {
    button.disabled = false;
  }
}

async function closeModal() {
  if (!shownModal) return;
  const { id, inputs } = shownModal;
  await page.call("/ui/close", { view_id: id, values: collectValues(inputs) });
}

export function renderHome(snapshot) {
  const view = snapshot?.home;
  $("home-empty").hidden = Boolean(view);
  if (!view) {
    shownHome = null;
    $("home-view").replaceChildren();
    return;
  }
  if (shownHome && shownHome.id === view.id && shownHome.hash === view.hash) return;
  const inputs = new Map();
  const ctx = page.context({
    inputs,
    onAction: (block, element, extra) =>
      page.call("/ui/action", { view_id: view.id, block_id: block.block_id, action_id: element.action_id, ...extra, values: collectValues(inputs) }),
  });
  shownHome = { id: view.id, hash: view.hash, inputs };
  $("home-view").replaceChildren(renderBlocks(view.blocks, ctx));
}
