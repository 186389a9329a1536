// The registry panel: each model's versions with their stages or aliases, polled live,
// and the buttons that post a digest and register a new version.
import { el } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);
const REGISTRY_POLL_MS = 1000;
let lastRegistry = "";

export async function refreshRegistry() {
  try {
    const response = await fetch("/ui/registry");
    const text = await response.text();
    if (response.ok && text !== lastRegistry) {
      lastRegistry = text;
      renderRegistry(JSON.parse(text));
    }
  } catch {
    $("registry-status").textContent = "The playground is not answering.";
  } finally {
    setTimeout(refreshRegistry, REGISTRY_POLL_MS);
  }
}

function renderRegistry(registry) {
  const select = $("new-version-model");
  const chosen = select.value;
  select.replaceChildren(...registry.models.map((m) => el("option", { value: m.name, selected: m.name === chosen }, m.name)));
  const aliases = registry.mode === "aliases";
  $("registry-models").replaceChildren(
    ...registry.models.map((model) =>
      el(
        "section",
        { class: "model", "data-model": model.name },
        el("h3", {}, model.name),
        el(
          "table",
          {},
          el("caption", { class: "visually-hidden" }, `Versions of ${model.name}`),
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Version"), aliases ? null : el("th", { scope: "col" }, "Stage"), el("th", { scope: "col" }, "Aliases"))),
          el(
            "tbody",
            {},
            model.versions.map((v) =>
              el(
                "tr",
                { class: servingClass(v, registry), "data-version": v.version },
                el("td", {}, `v${v.version}`),
                aliases ? null : el("td", { class: `stage stage-${v.stage.toLowerCase()}` }, v.stage),
                el("td", {}, v.aliases.length ? v.aliases.map((a) => `@${a}`).join(" ") : "—"),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function servingClass(version, registry) {
  const production = registry.mode === "aliases" ? version.aliases.includes(registry.production.replace(/^@/, "")) : version.stage === "Production";
  return production ? "serving" : "";
}

export async function postDigest(call) {
  $("registry-status").textContent = "Asking promobot to post the digest…";
  await call("/ui/digest", {});
  $("registry-status").textContent = "Asked promobot for the digest; its answer is in the channel.";
}

export async function registerVersion(call) {
  const model = $("new-version-model").value;
  if (!model) return;
  $("registry-status").textContent = `Registering a new version of ${model}…`;
  const answer = await call("/ui/new-version", { model });
  if (answer.version) $("registry-status").textContent = `Registered ${answer.model} v${answer.version}.`;
}
