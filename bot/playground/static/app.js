// The playground page: a Slack channel, direct messages and a Home tab, drawn from what
// promobot posted to the in-process Slack API, plus a live view of the MLflow registry.
import { renderBlocks } from "./blockkit.js";
import { el, mrkdwn } from "./mrkdwn.js";
import { postDigest, refreshRegistry, registerVersion } from "./registry.js";
import { confirmDialog, connectViews, renderHome, renderModal, resetViews } from "./views.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;

let config = null;
let me = null;
let tab = "channel";
let lastVersion = -1;
let snapshot = null;
let seenDirectMessages = 0;
let followed = ""; // the permalink last shown
let shownCount = 0; // top-level messages in the conversation shown
const messageNodes = new Map(); // message key -> { signature, node }
const closedThreads = new Set(); // threads the person collapsed

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ person: me, ...body }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) notice(answer.error ?? `The playground answered ${response.status}.`);
  else if (answer.status && answer.status !== 200) notice(`promobot answered ${answer.status}.`);
  return answer;
}

function notice(text) {
  $("notice").textContent = text;
}

function context(extra = {}) {
  return {
    me,
    people: Object.fromEntries(config.people.map((p) => [p.id, p])),
    channels: { [config.channel.id]: config.channel.name },
    peopleList: config.people.map((p) => ({ id: p.id, label: p.name })),
    conversationList: [{ id: config.channel.id, label: `#${config.channel.name}` }],
    currentConversation: config.channel.id,
    confirm: confirmDialog,
    ...extra,
  };
}

// Messages

function conversationId() {
  return tab === "messages" ? snapshot?.dm_channel : config.channel.id;
}

function renderMessages() {
  const list = $("messages");
  const channel = conversationId();
  const inConversation = (snapshot?.messages ?? []).filter((m) => m.channel === channel);
  const replies = new Map();
  for (const m of inConversation) {
    if (m.thread_ts && m.thread_ts !== m.ts) {
      if (!replies.has(m.thread_ts)) replies.set(m.thread_ts, []);
      replies.get(m.thread_ts).push(m);
    }
  }
  const top = inConversation.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const keep = new Set();
  let previous = null;
  for (const m of top) {
    const key = `${m.channel}:${m.ts}`;
    const thread = replies.get(m.ts) ?? [];
    const signature = JSON.stringify([m, thread]);
    let entry = messageNodes.get(key);
    if (!entry || entry.signature !== signature) {
      const node = messageNode(m, thread);
      if (entry) entry.node.replaceWith(node);
      entry = { signature, node };
      messageNodes.set(key, entry);
    }
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (entry.node !== expected) list.insertBefore(entry.node, expected);
    previous = entry.node;
    keep.add(key);
  }
  for (const [key, entry] of messageNodes) {
    if (!keep.has(key)) {
      entry.node.remove();
      messageNodes.delete(key);
    }
  }
  $("empty").hidden = top.length > 0;
  if (top.length > shownCount) list.scrollTop = list.scrollHeight; // new messages: to the end
  shownCount = top.length;
}

function messageNode(m, thread) {
  const classes = ["message", m.ephemeral ? "ephemeral" : ""].join(" ").trim();
  return el(
    "li",
    { class: classes, "data-testid": "message", id: `m${m.ts.replace(".", "-")}`, "data-ts": m.ts },
    messageContent(m),
    thread.length ? threadNode(m, thread) : null,
  );
}

function messageContent(m) {
  const author = config.people.find((p) => p.id === m.user)?.name ?? "promobot";
  const when = new Date(Number(m.ts.split(".")[0]) * 1000);
  return el(
    "div",
    { class: "message-content" },
    el(
      "div",
      { class: "meta" },
      el("span", { class: "author" }, author),
      author === "promobot" ? el("span", { class: "badge" }, "APP") : null,
      el("time", { datetime: when.toISOString() }, when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
      m.edited ? el("span", { class: "edited" }, "(edited)") : null,
    ),
    m.ephemeral ? el("div", { class: "only-you" }, "Only visible to you") : null,
    messageBody(m),
  );
}

function messageBody(m) {
  const ctx = context({
    onAction: (block, element, extra) =>
      call("/ui/action", { channel: m.channel, ts: m.ts, block_id: block.block_id, action_id: element.action_id, ...extra }),
  });
  if (m.blocks?.length) return renderBlocks(m.blocks, ctx);
  return el("div", { class: "bk-text" }, mrkdwn(m.text, ctx));
}

function threadNode(parent, thread) {
  const key = `${parent.channel}:${parent.ts}`;
  const details = el(
    "details",
    { class: "thread", open: !closedThreads.has(key) },
    el("summary", {}, `${thread.length} ${thread.length === 1 ? "reply" : "replies"}`),
    thread.map((r) => el("div", { class: r.ephemeral ? "reply ephemeral" : "reply", "data-testid": "thread-reply" }, messageContent(r))),
  );
  details.addEventListener("toggle", () => (details.open ? closedThreads.delete(key) : closedThreads.add(key)));
  return details;
}

// Tabs, people and the composer

const TABS = [["tab-channel", "channel"], ["tab-messages", "messages"], ["tab-home", "home"]];

function selectTab(name) {
  tab = name;
  for (const [id, value] of TABS) {
    $(id).setAttribute("aria-selected", String(value === name));
    $(id).tabIndex = value === name ? 0 : -1;
  }
  $("panel-conversation").hidden = name === "home";
  $("panel-home").hidden = name !== "home";
  $("panel-conversation").setAttribute("aria-labelledby", name === "messages" ? "tab-messages" : "tab-channel");
  $("composer-label").textContent = name === "messages" ? "Message promobot" : `Message #${config.channel.name}`;
  for (const entry of messageNodes.values()) entry.node.remove();
  messageNodes.clear();
  shownCount = 0;
  renderMessages();
  if (name === "messages") seenDirectMessages = directMessageCount();
  updateUnread();
  if (name !== "channel") call("/ui/open-tab", { tab: name === "home" ? "home" : "messages" });
}

/** A permalink (#m<ts>) shows its message: in the channel or the direct messages. */
function followPermalink() {
  const anchor = location.hash.slice(1);
  if (!anchor || anchor === followed) return;
  const target = (snapshot?.messages ?? []).find((m) => `m${m.ts.replace(".", "-")}` === anchor);
  if (!target) return;
  followed = anchor;
  const wanted = target.channel === snapshot.dm_channel ? "messages" : "channel";
  if (tab !== wanted) selectTab(wanted);
  const node = document.getElementById(anchor);
  node?.scrollIntoView({ block: "center" });
  node?.classList.add("highlight");
}

/** Left and right arrows move between the tabs, as in any tab list. */
function tabKeys(event) {
  const index = TABS.findIndex(([id]) => id === event.target.id);
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (index === -1 || !step) return;
  const [id, name] = TABS[(index + step + TABS.length) % TABS.length];
  selectTab(name);
  $(id).focus();
}

function directMessageCount() {
  return (snapshot?.messages ?? []).filter((m) => m.channel === snapshot.dm_channel).length;
}

/** "promobot: Messages (2)" while direct messages wait unread. */
function updateUnread() {
  if (tab === "messages") seenDirectMessages = directMessageCount();
  const unread = directMessageCount() - seenDirectMessages;
  $("tab-messages").textContent = unread > 0 ? `promobot: Messages (${unread})` : "promobot: Messages";
}

function showRole() {
  const who = config.people.find((p) => p.id === me);
  $("person-role").textContent = who ? who.role : "";
}

function switchPerson(id) {
  me = id;
  for (const entry of messageNodes.values()) entry.node.remove();
  messageNodes.clear();
  shownCount = 0;
  resetViews();
  lastVersion = -1;
  seenDirectMessages = 0;
  notice("");
  refresh();
  if (tab === "home") call("/ui/open-tab", { tab: "home" });
}

function updateUsage() {
  const text = $("composer").value;
  const usage = $("usage");
  if (!text.startsWith("/")) {
    usage.replaceChildren();
    return;
  }
  const [typed] = text.split(" ");
  if (!config.command.startsWith(typed)) {
    usage.replaceChildren(el("span", {}, `Only ${config.command} works here.`));
    return;
  }
  const word = text.slice(config.command.length).trim().split(/\s+/)[0].toLowerCase();
  let lines = config.usage.filter((u) => !word || u.usage.split(" ")[0].startsWith(word));
  if (!lines.length) lines = config.usage.filter((u) => u.usage.startsWith("<"));
  usage.replaceChildren(
    el("div", { class: "usage-title" }, "Usage"),
    el("ul", {}, lines.map((u) => el("li", {}, el("code", {}, `${config.command} ${u.usage}`), ` — ${u.text}`))),
  );
}

async function sendComposer(event) {
  event.preventDefault();
  const box = $("composer");
  const text = box.value.trim();
  if (!text) return;
  if (!text.startsWith(config.command)) {
    notice(`This playground only passes ${config.command} commands to promobot; try ${config.command} help.`);
    return;
  }
  notice("");
  box.value = "";
  updateUsage();
  await call("/ui/command", { text, channel: conversationId() });
}

// State

async function refresh() {
  const person = me;
  try {
    const response = await fetch(`/ui/state?person=${encodeURIComponent(person)}`);
    const state = await response.json();
    if (person !== me || !response.ok) return;
    if (state.version === lastVersion) return;
    lastVersion = state.version;
    snapshot = state;
    renderMessages();
    updateUnread();
    followPermalink();
    renderModal(snapshot);
    renderHome(snapshot);
  } catch {
    notice("The playground is not answering.");
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

async function start() {
  config = await (await fetch("/ui/config")).json();
  const people = $("person");
  // Each option is the person's name; their role is shown beside the switcher.
  people.replaceChildren(...config.people.map((p) => el("option", { value: p.id, title: p.label }, p.name)));
  me = config.people[0].id;
  showRole();
  people.addEventListener("change", () => {
    switchPerson(people.value);
    showRole();
  });
  $("tab-channel").addEventListener("click", () => selectTab("channel"));
  $("tab-messages").addEventListener("click", () => selectTab("messages"));
  $("tab-home").addEventListener("click", () => selectTab("home"));
  document.querySelector("[role=tablist]").addEventListener("keydown", tabKeys);
  window.addEventListener("hashchange", () => {
    followed = "";
    followPermalink();
  });
  $("composer").addEventListener("input", updateUsage);
  $("composer").addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("usage").replaceChildren(); // uncover the messages
  });
  $("composer-form").addEventListener("submit", sendComposer);
  connectViews({ call, context });
  $("post-digest").addEventListener("click", () => postDigest(call));
  $("new-version").addEventListener("click", () => registerVersion(call));
  document.body.dataset.ready = "true";
  poll();
  refreshRegistry();
}

start();
