"""An OTLP/HTTP trace receiver for tests: decodes each POST /v1/traces body
(protobuf `ExportTraceServiceRequest`, with the official `opentelemetry-proto`
messages) and prints one JSON line per span received.

    python otlp_receiver.py      # listens on 127.0.0.1, a free port

First line on stdout: {"port": N}. Then per span, flushed:
    {"service", "name", "kind" (e.g. "SPAN_KIND_SERVER"), "trace_id",
     "span_id", "parent_span_id" (hex, "" for a root), "attributes" {k: v}}
Anything but a protobuf POST to /v1/traces is answered 404/400 and printed
as {"error": "..."}. Ends when stdin closes.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

LOCK = threading.Lock()


def emit(obj: dict) -> None:
    with LOCK:
        print(json.dumps(obj, sort_keys=True), flush=True)


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces":
            emit({"error": f"POST {self.path}"})
            self.send_error(404)
            return
        if self.headers.get("Content-Type") != "application/x-protobuf":
            emit({"error": f"content type {self.headers.get('Content-Type')}"})
            self.send_error(400)
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            attrs = {a.key: value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    emit(
                        {
                            "service": attrs.get("service.name"),
                            "name": span.name,
                            "kind": Span.SpanKind.Name(span.kind),
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "attributes": {a.key: value(a.value) for a in span.attributes},
                        }
                    )
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    emit({"port": server.server_address[1]})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
