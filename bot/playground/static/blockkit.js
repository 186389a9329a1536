// Block Kit blocks and elements, rendered as DOM nodes (text through mrkdwn.js, never as HTML).
import { SAFE_URL, el, textObject } from "./mrkdwn.js";

export { el, mrkdwn, textObject } from "./mrkdwn.js";

function plain(object) {
  return String(object?.text ?? "");
}

/**
 * Blocks as DOM. `ctx` carries who is looking (me, people, channels), `onAction(block,
 * element, extra)` for clicks, `confirm(dialog)` returning a promise of a boolean,
 * `loadOptions(block, element, query)` for external selects, and `inputs` (a Map the
 * renderer fills with block_id -> action_id -> () => state value) for views.
 */
export function renderBlocks(blocks, ctx) {
  const container = el("div", { class: "bk-blocks" });
  for (const block of blocks ?? []) container.append(renderBlock(block, ctx));
  return container;
}

function renderBlock(block, ctx) {
  switch (block.type) {
    case "header":
      return el("h3", { class: "bk-header" }, plain(block.text));
    case "section":
      return section(block, ctx);
    case "context":
      return el(
        "div",
        { class: "bk-context" },
        (block.elements ?? []).map((e) =>
          e.type === "image" ? el("span", { class: "bk-image-alt" }, `[${e.alt_text ?? "image"}]`) : el("span", {}, textObject(e, ctx)),
        ),
      );
    case "divider":
      return el("hr", { class: "bk-divider" });
    case "actions":
      return el("div", { class: "bk-actions" }, (block.elements ?? []).map((e) => element(block, e, ctx)));
    case "input":
      return input(block, ctx);
    case "image":
      return el("figure", { class: "bk-image" }, el("figcaption", {}, `[image: ${block.alt_text ?? ""}]`));
    case "rich_text":
      return el("div", { class: "bk-rich" }, richText(block.elements ?? []));
    default:
      return el("div", { class: "bk-unsupported" }, `[${block.type} block]`);
  }
}

function section(block, ctx) {
  const node = el("div", { class: "bk-section" });
  const body = el("div", { class: "bk-section-body" });
  if (block.text) body.append(el("div", { class: "bk-text" }, textObject(block.text, ctx)));
  if (block.fields?.length) {
    body.append(el("div", { class: "bk-fields" }, block.fields.map((f) => el("div", { class: "bk-field" }, textObject(f, ctx)))));
  }
  node.append(body);
  if (block.accessory) node.append(el("div", { class: "bk-accessory" }, element(block, block.accessory, ctx)));
  return node;
}

function richText(elements) {
  return elements.map((part) => {
    if (Array.isArray(part.elements)) return el("div", {}, richText(part.elements));
    return el("span", {}, String(part.text ?? part.url ?? ""));
  });
}

function element(block, spec, ctx, inInput = false) {
  switch (spec.type) {
    case "button":
      return button(block, spec, ctx);
    case "static_select":
    case "multi_static_select":
    case "overflow":
      return staticSelect(block, spec, ctx, inInput);
    case "external_select":
      return externalSelect(block, spec, ctx, inInput);
    case "conversations_select":
    case "channels_select":
    case "users_select":
      return pickerSelect(block, spec, ctx, inInput);
    case "plain_text_input":
      return textInput(block, spec, ctx);
    case "radio_buttons":
    case "checkboxes":
      return choices(block, spec, ctx, inInput);
    case "datepicker":
      return datePicker(block, spec, ctx);
    case "image":
      return el("span", { class: "bk-image-alt" }, `[${spec.alt_text ?? "image"}]`);
    default:
      return el("span", { class: "bk-unsupported" }, `[${spec.type}]`);
  }
}

function button(block, spec, ctx) {
  const style = spec.style === "primary" || spec.style === "danger" ? ` bk-${spec.style}` : "";
  return el(
    "button",
    {
      type: "button",
      class: "bk-button" + style,
      onclick: async () => {
        if (spec.confirm && !(await ctx.confirm(spec.confirm))) return;
        if (spec.url && SAFE_URL.test(spec.url)) window.open(spec.url, "_blank", "noopener");
        ctx.onAction?.(block, spec, {});
      },
    },
    plain(spec.text),
  );
}

function remember(ctx, block, spec, read) {
  if (!ctx.inputs) return;
  if (!ctx.inputs.has(block.block_id)) ctx.inputs.set(block.block_id, new Map());
  ctx.inputs.get(block.block_id).set(spec.action_id, read);
}

function optionNode(option, selected) {
  return el("option", { value: option.value, selected: selected && option.value === selected.value }, plain(option.text));
}

function optionList(spec) {
  const groups = spec.option_groups ?? [{ options: spec.options ?? [] }];
  return groups.flatMap((g) => g.options ?? []);
}

function staticSelect(block, spec, ctx, inInput) {
  const multiple = spec.type === "multi_static_select";
  const initial = spec.initial_option;
  const select = el("select", { class: "bk-select", multiple, "aria-label": plain(spec.placeholder) || plain(block.label) || "Choose" });
  if (!multiple) select.append(el("option", { value: "" }, spec.type === "overflow" ? "…" : plain(spec.placeholder) || "Choose…"));
  const groups = spec.option_groups;
  if (groups) {
    for (const g of groups) select.append(el("optgroup", { label: plain(g.label) }, (g.options ?? []).map((o) => optionNode(o, initial))));
  } else {
    for (const o of spec.options ?? []) select.append(optionNode(o, initial));
  }
  const chosen = () => optionList(spec).filter((o) => [...select.selectedOptions].some((s) => s.value === o.value));
  remember(ctx, block, spec, () =>
    multiple ? { type: spec.type, selected_options: chosen() } : { type: spec.type, selected_option: chosen()[0] ?? null },
  );
  if (!inInput || block.dispatch_action) {
    select.addEventListener("change", () => {
      const picked = chosen();
      if (!picked.length && !multiple) return;
      ctx.onAction?.(block, spec, multiple ? { selected_options: picked } : { selected_option: picked[0] });
    });
  }
  return select;
}

function externalSelect(block, spec, ctx, inInput) {
  const minimum = spec.min_query_length ?? 3;
  const name = plain(block.label) || plain(spec.placeholder) || "option";
  let loaded = spec.initial_option ? [spec.initial_option] : [];
  const search = el("input", {
    type: "search",
    class: "bk-input",
    placeholder: plain(spec.placeholder) || `Type to search`,
    "aria-label": `Search ${name}`,
    autocomplete: "off",
  });
  const select = el("select", { class: "bk-select", "aria-label": name });
  const fill = (options, groups) => {
    loaded = groups ? groups.flatMap((g) => g.options ?? []) : options;
    const previous = select.value;
    select.replaceChildren(el("option", { value: "" }, loaded.length ? "Choose…" : "No matches"));
    if (groups) {
      for (const g of groups) select.append(el("optgroup", { label: plain(g.label) }, (g.options ?? []).map((o) => optionNode(o, null))));
    } else {
      for (const o of options) select.append(optionNode(o, null));
    }
    if (loaded.some((o) => o.value === previous)) select.value = previous;
    else if (loaded.length === 1) select.value = loaded[0].value;
  };
  fill(loaded, null);
  if (spec.initial_option) select.value = spec.initial_option.value;
  let timer = null;
  const load = () => {
    const query = search.value;
    if (query.length < minimum) return;
    ctx.loadOptions?.(block, spec, query).then((answer) => fill(answer.options ?? [], answer.option_groups));
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  if (minimum === 0) setTimeout(load, 0);
  const chosen = () => loaded.find((o) => o.value === select.value) ?? null;
  remember(ctx, block, spec, () => ({ type: spec.type, selected_option: chosen() }));
  if (!inInput || block.dispatch_action) {
    select.addEventListener("change", () => chosen() && ctx.onAction?.(block, spec, { selected_option: chosen() }));
  }
  return el("div", { class: "bk-external" }, search, select);
}

function pickerSelect(block, spec, ctx, inInput) {
  const users = spec.type === "users_select";
  const items = users ? ctx.peopleList ?? [] : ctx.conversationList ?? [];
  const initial = users ? spec.initial_user : spec.initial_conversation ?? spec.initial_channel ?? (spec.default_to_current_conversation ? ctx.currentConversation : null);
  const select = el(
    "select",
    { class: "bk-select", "aria-label": plain(block.label) || plain(spec.placeholder) || "Choose" },
    el("option", { value: "" }, plain(spec.placeholder) || "Choose…"),
    items.map((item) => el("option", { value: item.id, selected: item.id === initial }, item.label)),
  );
  const key = users ? "selected_user" : spec.type === "channels_select" ? "selected_channel" : "selected_conversation";
  remember(ctx, block, spec, () => ({ type: spec.type, [key]: select.value || null }));
  if (!inInput || block.dispatch_action) {
    select.addEventListener("change", () => select.value && ctx.onAction?.(block, spec, { [key]: select.value }));
  }
  return select;
}

function textInput(block, spec, ctx) {
  const attrs = {
    class: "bk-input",
    placeholder: plain(spec.placeholder) || null,
    maxlength: spec.max_length ?? null,
    "aria-label": plain(block.label) || "Text",
  };
  const field = spec.multiline ? el("textarea", { ...attrs, rows: 3 }) : el("input", { ...attrs, type: "text" });
  field.value = spec.initial_value ?? "";
  remember(ctx, block, spec, () => ({ type: "plain_text_input", value: field.value === "" ? null : field.value }));
  return field;
}

function choices(block, spec, ctx, inInput) {
  const radio = spec.type === "radio_buttons";
  const group = `${block.block_id}-${spec.action_id}`;
  const initial = radio ? [spec.initial_option] : spec.initial_options ?? [];
  const boxes = (spec.options ?? []).map((o) => {
    const box = el("input", { type: radio ? "radio" : "checkbox", name: group, value: o.value, checked: initial.some((i) => i && i.value === o.value) });
    if (!inInput || block.dispatch_action) {
      box.addEventListener("change", () => ctx.onAction?.(block, spec, radio ? { selected_option: o } : { selected_options: picked() }));
    }
    return { box, option: o, node: el("label", { class: "bk-choice" }, box, " ", textObject(o.text, ctx)) };
  });
  const picked = () => boxes.filter((b) => b.box.checked).map((b) => b.option);
  remember(ctx, block, spec, () => (radio ? { type: spec.type, selected_option: picked()[0] ?? null } : { type: spec.type, selected_options: picked() }));
  return el("div", { class: "bk-choices", role: radio ? "radiogroup" : "group" }, boxes.map((b) => b.node));
}

function datePicker(block, spec, ctx) {
  const field = el("input", { type: "date", class: "bk-input", "aria-label": plain(block.label) || "Date" });
  field.value = spec.initial_date ?? "";
  remember(ctx, block, spec, () => ({ type: "datepicker", selected_date: field.value || null }));
  return field;
}

function input(block, ctx) {
  const id = `input-${block.block_id}`;
  const control = element(block, { ...block.element }, ctx, true);
  const focusable = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea");
  if (focusable) focusable.id = id;
  const error = ctx.errors?.[block.block_id];
  const errorId = `${id}-error`;
  if (focusable && error) {
    focusable.setAttribute("aria-invalid", "true");
    focusable.setAttribute("aria-describedby", errorId);
  }
  return el(
    "div",
    { class: error ? "bk-input-block bk-has-error" : "bk-input-block", "data-block-id": block.block_id },
    el("label", { for: id, class: "bk-label" }, plain(block.label), block.optional ? el("span", { class: "bk-optional" }, " (optional)") : null),
    control,
    block.hint ? el("div", { class: "bk-hint" }, plain(block.hint)) : null,
    error ? el("div", { class: "bk-error", id: errorId, role: "alert" }, String(error)) : null,
  );
}

/** The view's state.values from the inputs `renderBlocks` registered. */
export function collectValues(inputs) {
  const values = {};
  for (const [blockId, actions] of inputs) {
    values[blockId] = {};
    for (const [actionId, read] of actions) values[blockId][actionId] = read();
  }
  return values;
}
