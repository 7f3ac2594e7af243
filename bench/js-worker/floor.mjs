// The floor: what any worker on this runtime pays for a push before it
// decides anything — it reads the body, logs one line and answers a
// constant <Response/>. Nothing can answer a push for less here; bench/run.mjs
// reports each worker's CPU above it.
export default {
  async fetch(request) {
    const body = await request.text();
    console.log(JSON.stringify({ level: "info", msg: "floor", status: 200, bytes: body.length }));
    return new Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', {
      headers: { "content-type": "application/xml; charset=utf-8" },
    });
  },
};
