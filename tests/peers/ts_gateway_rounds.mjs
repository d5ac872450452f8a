#!/usr/bin/env node
// The official TypeScript SDK client (@modelcontextprotocol/sdk 1.32.x, handshake
// era only: it speaks 2025-11-25 over Streamable HTTP) against a gateway serving
// the config servers `everything` (server-everything), `fastmcp`
// (tests/peers/fastmcp_server.py) and `rounds` (tests/peers/rounds_server.py).
// It declares sampling, elicitation (form) and roots and installs handlers:
//   - sampling answers the text `sampled: <the messages' text, joined by " ">`;
//   - elicitation accepts with every property of the requested schema filled:
//     its `default` when given, else enums/oneOf/anyOf their first value, strings
//     "Ada" (email/uri/date formats get a valid value), booleans true, numbers 1,
//     arrays one item;
//   - roots answers [file:///tmp/switchboard-root].
// Steps (each request under a 15 s timeout, the whole run under 28 s):
// tools/list; everything_trigger-long-running-operation {"duration":1,"steps":3}
// with onprogress; everything_trigger-sampling-request {"prompt":"ping","maxTokens":5};
// everything_trigger-elicitation-request {}; rounds_ask_sampling,
// rounds_ask_elicitation, rounds_ask_roots; fastmcp_add {"a":2,"b":3};
// resources/list + read the first demo:// resource and data://greeting;
// prompts/get everything_simple-prompt and everything_args-prompt {"city":"Paris"}.
//
//   node tests/peers/ts_gateway_rounds.mjs URL
//
// Prints exactly one JSON line on stdout (also on failure), with the keys of
// tests/peers/py_gateway_client.py (see its docstring): flavor ("ts-sdk"),
// library, protocolVersion, serverInfo, tools, progress, progress_text,
// sampling, elicitation, sampling_requests, elicitation_requests,
// roots_requests, rounds_sampling, rounds_elicitation, rounds_roots,
// fastmcp_call, fastmcp_structured, resources, resource_uri, resource_text
// (first 200 chars), fastmcp_resource_text, prompt_messages, prompt_text,
// args_prompt_text, errors (["<step>: <message>"]). A failed step leaves its
// keys null. Exit 0 when every step succeeded, 1 otherwise (each failure also
// on stderr), 2 on bad usage.
//
// The SDK is loaded from $SWITCHBOARD_NODE_MODULES (.ci/install-peers.sh).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const STEP_MS = 15000;
const TOTAL_MS = 28000;
const ROOT_URI = "file:///tmp/switchboard-root";

const [url] = process.argv.slice(2);
if (!url) {
  console.error("usage: ts_gateway_rounds.mjs URL");
  process.exit(2);
}
const nm = process.env.SWITCHBOARD_NODE_MODULES;
if (!nm) {
  console.error("SWITCHBOARD_NODE_MODULES is not set: run bash .ci/install-peers.sh and . .peers/env.sh");
  process.exit(2);
}
const sdk = path.join(nm, "@modelcontextprotocol", "sdk");
const esm = path.join(sdk, "dist", "esm");
const load = (rel) => import(pathToFileURL(path.join(esm, rel)).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } = await load("types.js");
const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdk, "package.json"), "utf8")).version;

const out = {
  flavor: "ts-sdk",
  library: `@modelcontextprotocol/sdk ${sdkVersion}`,
  protocolVersion: null,
  serverInfo: null,
  tools: null,
  progress: [],
  progress_text: null,
  sampling: null,
  elicitation: null,
  sampling_requests: [],
  elicitation_requests: [],
  roots_requests: 0,
  rounds_sampling: null,
  rounds_elicitation: null,
  rounds_roots: null,
  fastmcp_call: null,
  fastmcp_structured: null,
  resources: null,
  resource_uri: null,
  resource_text: null,
  fastmcp_resource_text: null,
  prompt_messages: null,
  prompt_text: null,
  args_prompt_text: null,
  errors: [],
};

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  console.log(JSON.stringify(out));
  for (const e of out.errors) console.error(`ts_gateway_rounds.mjs: ${e}`);
  process.exit(out.errors.length ? 1 : 0);
}
setTimeout(() => {
  out.errors.push(`run: timed out after ${TOTAL_MS / 1000} s`);
  finish();
}, TOTAL_MS);

function fillValue(prop) {
  if ("default" in prop) return prop.default;
  if (Array.isArray(prop.enum) && prop.enum.length) return prop.enum[0];
  for (const key of ["oneOf", "anyOf"]) {
    if (Array.isArray(prop[key]) && prop[key].length && "const" in prop[key][0]) return prop[key][0].const;
  }
  let kind = prop.type;
  if (Array.isArray(kind)) kind = kind.find((k) => k !== "null");
  if (kind === "boolean") return true;
  if (kind === "integer" || kind === "number") return Math.max(1, prop.minimum ?? 1);
  if (kind === "array") return [fillValue(prop.items || { type: "string" })];
  return { email: "ada@example.com", uri: "https://example.com/ada", date: "1815-12-10", "date-time": "1815-12-10T00:00:00Z" }[prop.format] ?? "Ada";
}
function fillSchema(schema) {
  const content = {};
  for (const [name, prop] of Object.entries(schema?.properties || {})) content[name] = fillValue(prop || {});
  return content;
}
const blocksText = (content) =>
  (Array.isArray(content) ? content : [content]).filter((c) => c && c.type === "text").map((c) => c.text).join("");

const client = new Client(
  { name: "ts-gateway-rounds", version: "1.0.0" },
  { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: false } } },
);
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  const prompt = request.params.messages.map((m) => blocksText(m.content)).join(" ");
  out.sampling_requests.push(prompt);
  return { role: "assistant", content: { type: "text", text: `sampled: ${prompt}` }, model: "ts-gateway-rounds", stopReason: "endTurn" };
});
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  out.elicitation_requests.push(request.params.message);
  if ((request.params.mode ?? "form") !== "form") return { action: "accept" };
  return { action: "accept", content: fillSchema(request.params.requestedSchema) };
});
client.setRequestHandler(ListRootsRequestSchema, async () => {
  out.roots_requests += 1;
  return { roots: [{ uri: ROOT_URI, name: "tmp" }] };
});

const opts = { timeout: STEP_MS };
async function step(label, fn) {
  try {
    return await fn();
  } catch (e) {
    out.errors.push(`${label}: ${e?.message ?? e}`);
    return null;
  }
}
async function call(name, args, onprogress) {
  const r = await client.callTool({ name, arguments: args }, undefined, onprogress ? { ...opts, onprogress } : opts);
  const text = (r.content || []).filter((c) => c.type === "text").map((c) => c.text).join("");
  if (r.isError) throw new Error(`${name} returned isError: ${JSON.stringify(text)}`);
  return { text, structured: r.structuredContent ?? null, texts: (r.content || []).map((c) => c.text ?? null) };
}

const transport = new StreamableHTTPClientTransport(new URL(url));
try {
  await client.connect(transport, opts);
} catch (e) {
  out.errors.push(`connect: ${e?.message ?? e}`);
  finish();
}
out.protocolVersion = transport.protocolVersion ?? null;
const info = client.getServerVersion();
out.serverInfo = info ? { name: info.name, version: info.version } : null;

const tools = await step("tools", async () => (await client.listTools(undefined, opts)).tools.map((t) => t.name));
out.tools = tools ? tools.sort() : null;

let r = await step("progress", () =>
  call("everything_trigger-long-running-operation", { duration: 1, steps: 3 }, (p) => out.progress.push(p.progress)),
);
out.progress_text = r?.text ?? null;
r = await step("sampling", () => call("everything_trigger-sampling-request", { prompt: "ping", maxTokens: 5 }));
out.sampling = r?.text ?? null;
r = await step("elicitation", () => call("everything_trigger-elicitation-request", {}));
out.elicitation = r?.text ?? null;

r = await step("rounds_sampling", () => call("rounds_ask_sampling", {}));
out.rounds_sampling = r?.text ?? null;
r = await step("rounds_elicitation", () => call("rounds_ask_elicitation", {}));
out.rounds_elicitation = r?.text ?? null;
r = await step("rounds_roots", () => call("rounds_ask_roots", {}));
out.rounds_roots = r?.texts ?? null;

r = await step("fastmcp_call", () => call("fastmcp_add", { a: 2, b: 3 }));
out.fastmcp_call = r?.text ?? null;
out.fastmcp_structured = r?.structured ?? null;

const readText = async (uri) =>
  (await client.readResource({ uri }, opts)).contents.map((c) => c.text ?? "").join("");
const uris = await step("resources", async () => (await client.listResources(undefined, opts)).resources.map((x) => x.uri));
out.resources = uris ? [...uris].sort() : null;
if (uris) {
  const demo = uris.find((u) => u.startsWith("demo://"));
  if (!demo) out.errors.push(`resources: no demo:// (server-everything) resource in ${JSON.stringify(uris)}`);
  else {
    out.resource_uri = demo;
    const text = await step("resource_read", () => readText(demo));
    out.resource_text = text === null ? null : text.slice(0, 200);
  }
}
out.fastmcp_resource_text = await step("fastmcp_resource_read", () => readText("data://greeting"));

let p = await step("prompt", () => client.getPrompt({ name: "everything_simple-prompt" }, opts));
out.prompt_messages = p ? p.messages.length : null;
out.prompt_text = p?.messages?.length ? blocksText(p.messages[0].content) : null;
p = await step("args_prompt", () => client.getPrompt({ name: "everything_args-prompt", arguments: { city: "Paris" } }, opts));
out.args_prompt_text = p?.messages?.length ? blocksText(p.messages[0].content) : null;

await step("close", () => Promise.race([client.close(), new Promise((_, rej) => setTimeout(() => rej(new Error("timed out after 5 s")), 5000).unref())]));
finish();
