// The worker a user would write instead, in idiomatic JavaScript: the same
// job on the same KV rules (rules:live pointer, rules:vN:sK shards, the
// same rules document format), the same conditions and the same XML, so
// bench/run.mjs can compare the two side by side. It caches like the Rust
// worker (pointer for RULES_CACHE_SECONDS, shards until the version
// changes) and trusts what was published (no schema validation: a JS
// developer would validate at publish time, as the CLI does).
//
// Not part of the product; only the benchmark runs it.

const DAY = 86_400_000;
let cached = { pointer: null, fetchedAt: 0 };
const shards = new Map();
const formatters = new Map();

const escapeXml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);

function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const asList = (value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function weekdaySet(values) {
  const set = new Set();
  for (const value of values) {
    const [first, last = first] = value.split("-").map((day) => WEEKDAYS.indexOf(day.slice(0, 3)));
    for (let day = first; ; day = (day + 1) % 7) {
      set.add(day);
      if (day === last) break;
    }
  }
  return set;
}

const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function compileDates(values, calendars) {
  const checks = dateChecks(values, calendars);
  return (date) => checks.some((check) => check(date));
}

function dateChecks(values, calendars) {
  const checks = [];
  for (const value of values) {
    if (value.startsWith("@")) {
      checks.push(...dateChecks(calendars[value.slice(1)] ?? [], calendars));
      continue;
    }
    const [first, last = first] = value.split("..");
    checks.push(first.length === 10 ? (date) => date >= first && date <= last
      : first <= last ? (date) => date.slice(5) >= first && date.slice(5) <= last
      : (date) => date.slice(5) >= first || date.slice(5) <= last);
  }
  return checks;
}

function compilePatterns(values, lists) {
  const exact = new Set();
  const prefixes = [];
  let anonymous = false;
  let any = false;
  const add = (pattern) => {
    if (pattern.startsWith("@")) (lists[pattern.slice(1)] ?? []).forEach(add);
    else if (pattern === "anonymous") anonymous = true;
    else if (pattern === "*") any = true;
    else if (pattern.endsWith("*")) prefixes.push(pattern.slice(0, -1).replace(/^\+/, ""));
    else exact.add(pattern.replace(/^\+/, ""));
  };
  values.forEach(add);
  return (party) =>
    party === "anonymous" ? anonymous : /^\d+$/.test(party) && (any || exact.has(party) || prefixes.some((p) => party.startsWith(p)));
}

function compileRule(rule, document) {
  const when = rule.when ?? {};
  const checks = [];
  if (when.direction) {
    const directions = asList(when.direction);
    checks.push((call) => directions.includes(call.direction));
  }
  if (when.caller) {
    const matches = compilePatterns(asList(when.caller), document.lists ?? {});
    checks.push((call) => matches(call.from));
  }
  if (when.called) {
    const matches = compilePatterns(asList(when.called), document.lists ?? {});
    checks.push((call) => matches(call.to));
  }
  if (when.diversion !== undefined) {
    if (typeof when.diversion === "boolean") checks.push((call) => Boolean(call.diversion) === when.diversion);
    else {
      const matches = compilePatterns(asList(when.diversion), document.lists ?? {});
      checks.push((call) => Boolean(call.diversion) && matches(call.diversion));
    }
  }
  if (when.user) {
    const users = asList(when.user);
    checks.push((call) => call.users.some((user) => users.includes(user)));
  }
  if (when.userId) {
    const ids = asList(when.userId);
    checks.push((call) => call.userIds.some((id) => ids.includes(id)));
  }
  if (when.time) {
    const windows = asList(when.time).map((window) => ({
      zone: window.timezone ?? document.timezone ?? "Europe/Berlin",
      weekdays: window.weekdays && weekdaySet(asList(window.weekdays)),
      hours: window.hours && asList(window.hours).map((range) => [minutes(range), minutes(range.slice(6))]),
      dates: window.dates && compileDates(asList(window.dates), document.calendars ?? {}),
    }));
    checks.push((call) =>
      windows.some((window) => {
        const local = wallClock(window.zone, call.now);
        if (window.weekdays && !window.weekdays.has(local.weekday)) return false;
        if (window.hours && !window.hours.some(([from, to]) => (from < to ? local.minute >= from && local.minute < to : local.minute >= from || local.minute < to))) return false;
        return !window.dates || window.dates(local.date);
      }),
    );
  }
  return { id: rule.id, matches: (call) => checks.every((check) => check(call)), rule };
}

function wallClock(zone, now) {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "short", hourCycle: "h23",
    });
    formatters.set(zone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(now).map((part) => [part.type, part.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday.toLowerCase().slice(0, 3)),
  };
}

function compile(document) {
  const rules = (list) => (list ?? []).map((rule) => compileRule(rule, document));
  const numbers = new Map(Object.entries(document.numbers ?? {}).map(([number, list]) => [number.replace(/^\+/, ""), rules(list)]));
  return { document, global: rules(document.global), numbers, default: rules(document.default), menus: document.menus ?? {} };
}

async function liveRules(env, number) {
  const ttl = Number(env.RULES_CACHE_SECONDS ?? 10) * 1000;
  if (!cached.pointer || Date.now() - cached.fetchedAt >= ttl) {
    const pointer = await env.ROUTES.get("rules:live", { type: "json", cacheTtl: 30 });
    cached = { pointer, fetchedAt: Date.now() };
  }
  const pointer = cached.pointer;
  if (!pointer || pointer.kill || !pointer.version) return { pointer };
  const shard = pointer.shards > 1 ? fnv1a(number ?? "") % pointer.shards : 0;
  const key = `rules:v${pointer.version}:s${shard}`;
  let rules = shards.get(key);
  if (!rules) {
    rules = compile(await env.ROUTES.get(key, { type: "json", cacheTtl: DAY / 1000 }));
    shards.set(key, rules);
  }
  return { pointer, rules };
}

function actionXml(action, base) {
  const [verb, details] = Object.entries(action)[0];
  switch (verb) {
    case "dial": {
      let attributes = "";
      if (details.callerId) attributes += ` callerId="${escapeXml(details.callerId)}"`;
      if (details.anonymous !== undefined) attributes += ` anonymous="${details.anonymous}"`;
      return `<Dial${attributes}>${details.numbers.map((n) => `<Number>${escapeXml(n.replace(/^\+/, ""))}</Number>`).join("")}</Dial>`;
    }
    case "voicemail":
      return "<Dial><Voicemail/></Dial>";
    case "play":
      return `<Play><Url>${escapeXml(details.url)}</Url></Play>`;
    case "reject":
      return details.reason ? `<Reject reason="${details.reason}"/>` : "<Reject/>";
    case "hangup":
      return "<Hangup/>";
    case "proceed":
      return "";
    case "gather": {
      let attributes = ` onData="${escapeXml(details.onData)}"`;
      if (details.maxDigits) attributes += ` maxDigits="${details.maxDigits}"`;
      if (details.timeout) attributes += ` timeout="${details.timeout}"`;
      if (details.type) attributes += ` type="${details.type}"`;
      return details.play ? `<Gather${attributes}><Play><Url>${escapeXml(details.play.url)}</Url></Play></Gather>` : `<Gather${attributes}/>`;
    }
    default:
      return "";
  }
}

function menuXml(menus, name, base, attempt) {
  const menu = menus[name];
  const longest = Math.max(1, ...Object.keys(menu.options ?? {}).map((key) => key.length));
  let attributes = ` onData="${escapeXml(`${base}?menu=${name}&try=${attempt}`)}" maxDigits="${menu.maxDigits ?? longest}"`;
  if (menu.timeout) attributes += ` timeout="${menu.timeout}"`;
  return `<Gather${attributes}><Play><Url>${escapeXml(menu.prompt)}</Url></Play></Gather>`;
}

function respond(inner, attributes = "") {
  const body = inner ? `<Response${attributes}>${inner}</Response>` : `<Response${attributes}/>`;
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>${body}`, {
    headers: { "content-type": "application/xml; charset=utf-8" },
  });
}

function outcomeXml(action, menus, base) {
  return action.menu !== undefined ? menuXml(menus, action.menu, base, 0) : actionXml(action, base);
}

export default {
  async fetch(request, env) {
    // One JSON line per request, as the Rust worker writes (and as a
    // production worker should: Workers Logs index them).
    const log = { level: "info", msg: "not_routed", status: 200 };
    const response = await answer(request, env, log);
    log.status = response.status;
    console.log(JSON.stringify(log));
    return response;
  },
};

async function answer(request, env, log) {
  if (request.method !== "POST") return new Response("method not allowed\n", { status: 405, headers: { allow: "POST" } });
  if (!(request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
    return new Response("unsupported media type\n", { status: 415 });
  }
  const form = new URLSearchParams(await request.text());
  const url = new URL(request.url);
  const base = `${url.origin}${url.pathname}`;
  const event = form.get("event") || "newCall";
  log.event = event;
  log.callId = form.get("callId") ?? undefined;
  try {
    if (event === "newCall") {
      const call = {
        from: form.get("from") || "anonymous",
        to: form.get("to"),
        direction: form.get("direction"),
        diversion: form.get("diversion"),
        users: form.getAll("user[]"),
        userIds: [...form.getAll("userId[]"), ...form.getAll("fullUserId[]")],
        now: Date.now(),
      };
      if (!call.to || !call.direction) return new Response("missing field\n", { status: 400 });
      const number = (call.direction === "in" ? call.to : call.from).replace(/^\+/, "");
      const { pointer, rules } = await liveRules(env, number);
      if (pointer?.kill) return respond(actionXml(pointer.kill, base));
      if (!rules) return respond("");
      for (const list of [rules.global, rules.numbers.get(number) ?? [], rules.default]) {
        for (const rule of list) {
          if (!rule.matches(call)) continue;
          log.msg = "routed";
          log.version = pointer.version;
          log.rule = rule.id;
          let attributes = "";
          if (rule.rule.onAnswer) attributes += ` onAnswer="${escapeXml(rule.rule.onAnswer)}"`;
          if (rule.rule.onHangup) attributes += ` onHangup="${escapeXml(rule.rule.onHangup)}"`;
          return respond(outcomeXml(rule.rule.then, rules.menus, base), attributes);
        }
      }
      return respond("");
    }
    if (event === "dtmf") {
      const name = url.searchParams.get("menu");
      if (!name) return respond("");
      const attempt = Number(url.searchParams.get("try") ?? 0) || 0;
      const { pointer, rules } = await liveRules(env, null);
      if (pointer?.kill) return respond(actionXml(pointer.kill, base));
      const menu = rules?.menus[name];
      if (!menu) return respond("");
      log.msg = "menu";
      log.menu = name;
      const digits = form.get("dtmf") ?? "";
      const option = menu.options?.[digits];
      if (option) return respond(outcomeXml(option, rules.menus, base));
      if (attempt < (menu.retries ?? 1)) return respond(menuXml(rules.menus, name, base, attempt + 1));
      const fallback = digits === "" ? menu.noInput : menu.invalid;
      return respond(fallback ? outcomeXml(fallback, rules.menus, base) : "");
    }
    return respond("");
  } catch (error) {
    console.error(JSON.stringify({ level: "error", error: String(error) }));
    return respond("");
  }
}
