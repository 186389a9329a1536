// Block Kit and Slack mrkdwn, rendered as DOM nodes.
//
// Every piece of text from a message reaches the page through a text node or an
// attribute, never through HTML parsing: a model named <script> or <!channel> shows as
// those characters. Links are made only for http(s) and mailto URLs.

const SAFE_URL = /^(https?:|mailto:)/i;

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Slack's three escapes, undone (&amp; last, so "&amp;lt;" stays "&lt;"). */
export function decodeEntities(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// The emoji promobot uses (and a few more); others stay as their :code:, as offline text.
const EMOJI = {
  warning: "⚠️",
  white_check_mark: "✅",
  heavy_check_mark: "✔️",
  no_entry_sign: "🚫",
  no_entry: "⛔",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  x: "❌",
  leftwards_arrow_with_hook: "↩️",
  information_source: "ℹ️",
  gear: "⚙️",
  boom: "💥",
  rocket: "🚀",
  bell: "🔔",
  new: "🆕",
  memo: "📝",
  package: "📦",
  eyes: "👀",
  tada: "🎉",
  arrows_counterclockwise: "🔄",
  lock: "🔒",
  bar_chart: "📊",
};

function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

const INLINE = new RegExp(
  [
    "`([^`\\n]+)`",
    "<([^<>\\n]+)>",
    "(?<![\\w*])\\*(?=\\S)([^*\\n]+?)(?<=\\S)\\*(?![\\w*])",
    "(?<![\\w_])_(?=\\S)([^_\\n]+?)(?<=\\S)_(?![\\w_])",
    "(?<![\\w~])~(?=\\S)([^~\\n]+?)(?<=\\S)~(?![\\w~])",
  ].join("|"),
  "g",
);

/** Slack mrkdwn as a fragment: bold, italic, strike, code, quotes, links and mentions. */
export function mrkdwn(text, ctx = {}) {
  const fragment = document.createDocumentFragment();
  const parts = String(text ?? "").split(/```([\s\S]*?)```/);
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      fragment.append(el("pre", { class: "bk-pre" }, decodeEntities(part.replace(/^\n/, ""))));
    } else {
      appendLines(fragment, part, ctx);
    }
  });
  return fragment;
}

function appendLines(parent, text, ctx) {
  const lines = text.split("\n");
  let quote = null;
  lines.forEach((line, index) => {
    const quoted = /^(&gt;|>) ?/.exec(line);
    if (quoted) {
      if (!quote) {
        quote = el("blockquote", { class: "bk-quote" });
        parent.append(quote);
      } else {
        quote.append(el("br"));
      }
      inline(quote, line.slice(quoted[0].length), ctx);
      return;
    }
    quote = null;
    inline(parent, line, ctx);
    if (index < lines.length - 1 && !/^(&gt;|>) ?/.test(lines[index + 1] ?? "")) parent.append(el("br"));
  });
}

function inline(parent, text, ctx) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(emojify(decodeEntities(text.slice(last, match.index))));
    const [, code, angle, bold, italic, strike] = match;
    if (code !== undefined) parent.append(el("code", { class: "bk-code" }, decodeEntities(code)));
    else if (angle !== undefined) parent.append(angled(angle, ctx));
    else {
      const tag = bold !== undefined ? "strong" : italic !== undefined ? "em" : "s";
      const inner = el(tag);
      inline(inner, bold ?? italic ?? strike, ctx);
      parent.append(inner);
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(emojify(decodeEntities(text.slice(last))));
}

/** What Slack makes of `<...>`: a mention, a channel, a date, or a link. */
function angled(content, ctx) {
  const bar = content.indexOf("|");
  const target = bar === -1 ? content : content.slice(0, bar);
  const label = bar === -1 ? null : decodeEntities(content.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = ctx.people?.[id]?.name ?? label ?? id;
    const self = ctx.me === id;
    return el("span", { class: self ? "bk-mention bk-mention-me" : "bk-mention", "data-user": id }, "@" + name);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return el("span", { class: "bk-mention" }, "#" + (ctx.channels?.[id] ?? label ?? id));
  }
  if (target.startsWith("!subteam^")) {
    const id = target.slice("!subteam^".length);
    return el("span", { class: "bk-mention" }, label ?? "@" + (ctx.groups?.[id] ?? id));
  }
  if (target.startsWith("!date^")) {
    const seconds = Number(target.split("^")[1]);
    const shown = Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : label ?? "";
    return el("time", { title: label ?? "" }, shown);
  }
  if (target.startsWith("!")) {
    // <!channel>, <!here>, <!everyone>: shown as text, they notify nobody here.
    return el("span", { class: "bk-mention" }, label ?? "@" + target.slice(1));
  }
  const url = decodeEntities(target);
  if (SAFE_URL.test(url)) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label ?? url);
  }
  return document.createTextNode(label ?? url);
}

/** A text object: mrkdwn is formatted, plain_text is shown exactly as given. */
export function textObject(object, ctx) {
  if (!object) return document.createTextNode("");
  if (object.type === "mrkdwn") return mrkdwn(object.text, ctx);
  return document.createTextNode(String(object.text ?? ""));
}

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
