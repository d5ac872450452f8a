#!/usr/bin/env node
// The official TypeScript SDK client (@modelcontextprotocol/sdk, handshake
// era over Streamable HTTP) against a gateway: lists the tools, calls one
// with a progress token, and prints one JSON line:
//   {"tools":[names...],"text":"...","progress":[...],"serverInfo":{...}}
//
//   node tests/peers/ts_gateway_client.mjs URL TOOL ARGS_JSON
//
// The SDK is loaded from $SWITCHBOARD_NODE_MODULES (.ci/install-peers.sh).
import path from "node:path";
import { pathToFileURL } from "node:url";

const [url, tool, args] = process.argv.slice(2);
if (!url || !tool) {
  console.error("usage: ts_gateway_client.mjs URL TOOL [ARGS_JSON]");
  process.exit(2);
}
const nm = process.env.SWITCHBOARD_NODE_MODULES;
if (!nm) {
  console.error("SWITCHBOARD_NODE_MODULES is not set: run bash .ci/install-peers.sh and . .peers/env.sh");
  process.exit(2);
}
const esm = path.join(nm, "@modelcontextprotocol", "sdk", "dist", "esm", "client");
const { Client } = await import(pathToFileURL(path.join(esm, "index.js")).href);
const { StreamableHTTPClientTransport } = await import(
  pathToFileURL(path.join(esm, "streamableHttp.js")).href
);

const client = new Client({ name: "ts-gateway-client", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const tools = (await client.listTools()).tools.map((t) => t.name);
const progress = [];
const result = await client.callTool(
  { name: tool, arguments: JSON.parse(args || "{}") },
  undefined,
  { onprogress: (p) => progress.push(p.progress), timeout: 20000 },
);
const text = (result.content || []).filter((c) => c.type === "text").map((c) => c.text).join("");
console.log(JSON.stringify({ tools, text, progress, serverInfo: client.getServerVersion() }));
await client.close();
