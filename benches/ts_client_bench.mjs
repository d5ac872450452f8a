#!/usr/bin/env node
// Comparison bench: the official TypeScript SDK client (@modelcontextprotocol/sdk
// 1.32.2, handshake era: initialize with 2025-11-25) calling one tool over stdio,
// or over Streamable HTTP with --url.
//
//   node benches/ts_client_bench.mjs --calls N --concurrency C --tool NAME --args JSON -- CMD ARGS...
//   node benches/ts_client_bench.mjs --calls N --concurrency C --tool NAME --args JSON --url http://HOST:PORT/mcp
//
// Connects (initialize), lists tools, warms up with 50 calls, then runs N
// tools/call with C in flight and prints one JSON line:
//   {"client":"ts-sdk","calls","concurrency","seconds","calls_per_sec","p50_us","p99_us"}
// The SDK is loaded from $SWITCHBOARD_NODE_MODULES (see .ci/install-peers.sh),
// else <repo>/.peers/node/node_modules. Extra flags: --warmup N (default 50),
// --stderr (let the server's stderr through; ignored by default).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

function usage(msg) {
  if (msg) console.error(`ts_client_bench: ${msg}`);
  console.error(
    "usage: node benches/ts_client_bench.mjs --calls N --concurrency C --tool NAME --args JSON [--warmup N] [--stderr] -- CMD ARGS...",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { calls: 1000, concurrency: 1, tool: "echo", args: {}, warmup: 50, stderr: false, cmd: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--":
        opts.cmd = argv.slice(i + 1);
        i = argv.length;
        break;
      case "--calls": opts.calls = Number.parseInt(next(), 10); break;
      case "--concurrency": opts.concurrency = Number.parseInt(next(), 10); break;
      case "--warmup": opts.warmup = Number.parseInt(next(), 10); break;
      case "--tool": opts.tool = next(); break;
      case "--args":
        try { opts.args = JSON.parse(next()); } catch (e) { usage(`--args is not JSON: ${e.message}`); }
        break;
      case "--stderr": opts.stderr = true; break;
      case "--url": opts.url = next(); break;
      case "-h": case "--help": usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!opts.cmd.length && !opts.url) usage("missing -- CMD ARGS... or --url URL");
  if (!(opts.calls > 0) || !(opts.concurrency > 0) || !(opts.warmup >= 0)) usage("--calls/--concurrency must be positive");
  return opts;
}

async function loadSdk() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const nm = process.env.SWITCHBOARD_NODE_MODULES || path.join(here, "..", ".peers", "node", "node_modules");
  const esm = path.join(nm, "@modelcontextprotocol", "sdk", "dist", "esm", "client");
  const files = [path.join(esm, "index.js"), path.join(esm, "stdio.js"), path.join(esm, "streamableHttp.js")];
  for (const f of files) {
    if (!existsSync(f)) {
      console.error(`ts_client_bench: ${f} not found; run .ci/install-peers.sh and . .peers/env.sh`);
      process.exit(1);
    }
  }
  const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all(
    files.map((f) => import(pathToFileURL(f).href)),
  );
  return { Client, StdioClientTransport, StreamableHTTPClientTransport };
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { Client, StdioClientTransport, StreamableHTTPClientTransport } = await loadSdk();
  const transport = opts.url
    ? new StreamableHTTPClientTransport(new URL(opts.url))
    : new StdioClientTransport({
        command: opts.cmd[0],
        args: opts.cmd.slice(1),
        env: { ...process.env },
        stderr: opts.stderr ? "inherit" : "ignore",
      });
  const client = new Client({ name: "switchboard-ts-bench", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  const { tools } = await client.listTools(); // also caches output schemas, as a real client would
  if (!tools.some((t) => t.name === opts.tool)) {
    console.error(`ts_client_bench: tool ${opts.tool} not found; server has: ${tools.map((t) => t.name).join(", ")}`);
    await client.close();
    process.exit(1);
  }

  const call = async () => {
    const r = await client.callTool({ name: opts.tool, arguments: opts.args }, undefined, { timeout: 30000 });
    if (r.isError) throw new Error(`tool returned isError: ${JSON.stringify(r.content).slice(0, 300)}`);
  };

  for (let i = 0; i < opts.warmup; i++) await call();

  const lat = new Float64Array(opts.calls);
  let nextIdx = 0;
  const worker = async () => {
    while (true) {
      const i = nextIdx++;
      if (i >= opts.calls) return;
      const t0 = process.hrtime.bigint();
      await call();
      lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.calls) }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await client.close();

  const sorted = Array.from(lat).sort((a, b) => a - b);
  const out = {
    client: "ts-sdk",
    calls: opts.calls,
    concurrency: opts.concurrency,
    seconds: Number(seconds.toFixed(4)),
    calls_per_sec: Number((opts.calls / seconds).toFixed(1)),
    p50_us: Math.round(percentile(sorted, 50)),
    p99_us: Math.round(percentile(sorted, 99)),
  };
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`ts_client_bench: ${e?.stack || e}`);
  process.exit(1);
});
