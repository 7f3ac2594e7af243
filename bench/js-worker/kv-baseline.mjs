// The cold-start baseline: reads the same two KV keys a cold push needs
// (the pointer and the number's shard) and answers <Response/> without
// looking at them. Its first push's CPU is what the runtime and the local
// KV cost; bench/run.mjs subtracts it to show the workers' own cold work.
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export default {
  async fetch(request, env) {
    const form = new URLSearchParams(await request.text());
    const pointer = await env.ROUTES.get("rules:live", { type: "json", cacheTtl: 30 });
    const shard = pointer.shards > 1 ? fnv1a(form.get("to")) % pointer.shards : 0;
    const text = await env.ROUTES.get(`rules:v${pointer.version}:s${shard}`, { cacheTtl: 86400 });
    return new Response(`<?xml version="1.0" encoding="UTF-8"?><Response/><!-- ${text.length} -->`, {
      headers: { "content-type": "application/xml; charset=utf-8" },
    });
  },
};
