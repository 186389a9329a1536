// Slack mrkdwn, rendered as DOM nodes.
//
// Every piece of text from a message reaches the page through a text node or an
// attribute, never through HTML parsing: a model named <script> or <!channel> shows as
// those characters. Links are made only for http(s) and mailto URLs.

export const SAFE_URL = /^(https?:|mailto:)/i;

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
    // A permalink to a message here stays in this tab; anything else opens a new one.
    const here = url.startsWith(`${location.origin}/#`);
    return el("a", { href: url, target: here ? null : "_blank", rel: "noopener noreferrer" }, label ?? url);
  }
  return document.createTextNode(label ?? url);
}

/** A text object: mrkdwn is formatted, plain_text is shown exactly as given. */
export function textObject(object, ctx) {
  if (!object) return document.createTextNode("");
  if (object.type === "mrkdwn") return mrkdwn(object.text, ctx);
  return document.createTextNode(String(object.text ?? ""));
}
