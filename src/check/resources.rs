//! Resources and templates: listed URIs parse, each resource reads
//! (bounded), MIME types are `type/subtype`, templates expand to URIs.

use serde_json::{json, Value};

use super::checker::Checker;
use super::probe::Probe;
use super::report::Finding;

/// At most this many resources are read.
const MAX_READS: usize = 16;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether `mime` looks like `type/subtype` (parameters allowed).
fn mime_ok(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    let mut parts = essence.splitn(2, '/');
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    matches!((parts.next(), parts.next()), (Some(t), Some(s)) if token(t) && token(s))
}

fn check_mime(c: &mut Checker, item: &Value, subject: &str) {
    c.ran("resources.mime");
    if let Some(mime) = item.get("mimeType").and_then(Value::as_str) {
        if !mime_ok(mime) {
            c.find(
                Finding::warning(
                    "resources.mime",
                    format!("{subject}: mimeType {mime:?} is not type/subtype"),
                )
                .subject(subject.to_owned())
                .received(json!({"mimeType": mime}))
                .rule("server/resources: mimeType is a MIME type (RFC 6838: type/subtype)")
                .fix("use a registered type such as text/plain or application/json"),
            );
        }
    }
}

/// Checks the listed resources, reading the first few.
pub(super) async fn check(p: &Probe, c: &mut Checker, resources: &[Value]) {
    c.ran("resources.uri");
    for r in resources {
        let uri = text(r, "uri");
        let subject = format!("resource {uri}");
        if let Err(e) = url::Url::parse(uri) {
            c.find(
                Finding::error("resources.uri", format!("{subject:?}: URI does not parse ({e})"))
                    .subject(subject.clone())
                    .received(json!({"uri": r.get("uri")}))
                    .rule("server/resources: each resource is identified by a URI (RFC 3986)")
                    .fix("give the resource an absolute URI with a scheme, e.g. file:///path or app://name"),
            );
        }
        check_mime(c, r, &subject);
    }
    if resources.is_empty() {
        c.skip("resources.read", "no resources listed");
        return;
    }
    c.ran("resources.read");
    for r in resources.iter().take(MAX_READS) {
        read(p, c, r).await;
    }
}

async fn read(p: &Probe, c: &mut Checker, r: &Value) {
    let uri = text(r, "uri");
    let x = p.ask("resources/read", json!({"uri": uri})).await;
    let subject = format!("resource {uri}");
    let contents = match &x.reply {
        Ok(result) => result.get("contents").and_then(Value::as_array),
        Err(_) => {
            c.find(
                Finding::error("resources.read", format!("listed resource {uri} cannot be read"))
                    .subject(subject)
                    .sent(x.sent.clone())
                    .received(x.received())
                    .rule("server/resources: resources/list names resources a client can read")
                    .fix("make resources/read answer every URI resources/list names, or leave it out of the list"),
            );
            return;
        }
    };
    match contents {
        Some(list) if !list.is_empty() => {
            for item in list {
                let has_body = item.get("text").is_some_and(Value::is_string)
                    || item.get("blob").is_some_and(Value::is_string);
                if !has_body {
                    c.find(
                        Finding::error("resources.read", format!("{uri}: a content item has neither text nor blob"))
                            .subject(subject.clone())
                            .sent(x.sent.clone())
                            .received(item.clone())
                            .rule("schema: ResourceContents is TextResourceContents (text) or BlobResourceContents (blob, base64)")
                            .fix("send {\"uri\", \"mimeType\", \"text\"} or {\"uri\", \"mimeType\", \"blob\"}"),
                    );
                }
                check_mime(c, item, &subject);
            }
        }
        _ => c.find(
            Finding::warning(
                "resources.read",
                format!("{uri}: read answered no contents"),
            )
            .subject(subject)
            .sent(x.sent.clone())
            .received(x.received())
            .rule("server/resources: ReadResourceResult carries the resource's contents")
            .fix("answer {\"contents\": [{\"uri\", \"text\" or \"blob\"}]}"),
        ),
    }
}

/// Expands an RFC 6570 template with `x` for every variable (level 4
/// operators; modifiers dropped); `Err` names what is malformed.
pub(super) fn expand(template: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("a `{` is never closed")?;
        let expr = &after[..close];
        let (op, vars) = match expr.chars().next() {
            Some(c @ ('+' | '#' | '.' | '/' | ';' | '?' | '&')) => (Some(c), &expr[1..]),
            _ => (None, expr),
        };
        let names: Vec<&str> = vars
            .split(',')
            .map(|v| v.trim_end_matches('*').split(':').next().unwrap_or(""))
            .collect();
        if names.iter().any(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '%')
        }) {
            return Err(format!("{{{expr}}} is not a variable list"));
        }
        let values = names.iter().map(|_| "x").collect::<Vec<_>>();
        match op {
            None | Some('+') => out.push_str(&values.join(",")),
            Some('#') => out.push_str(&format!("#{}", values.join(","))),
            Some('.') => out.push_str(&format!(".{}", values.join("."))),
            Some('/') => out.push_str(&format!("/{}", values.join("/"))),
            Some(';') => out.push_str(&names.iter().map(|n| format!(";{n}=x")).collect::<String>()),
            Some(q) => {
                let pairs: Vec<String> = names.iter().map(|n| format!("{n}=x")).collect();
                out.push(if q == '?' { '?' } else { '&' });
                out.push_str(&pairs.join("&"));
            }
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` without its `{`".into());
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks each template expands to a URI.
pub(super) fn templates(c: &mut Checker, templates: &[Value]) {
    c.ran("resources.template");
    for t in templates {
        let template = text(t, "uriTemplate");
        let subject = format!("template {template}");
        let problem = match expand(template) {
            Err(e) => Some(format!("is not an RFC 6570 template: {e}")),
            Ok(uri) => url::Url::parse(&uri)
                .err()
                .map(|e| format!("expands to {uri:?}, which is no URI ({e})")),
        };
        if let Some(problem) = problem {
            c.find(
                Finding::error("resources.template", format!("{template:?} {problem}"))
                    .subject(subject.clone())
                    .received(json!({"uriTemplate": t.get("uriTemplate")}))
                    .rule("server/resources (templates): uriTemplate is an RFC 6570 URI template")
                    .fix("write it as scheme://path/{var}, each variable in braces"),
            );
        }
        check_mime(c, t, &subject);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_expand_or_say_why() {
        assert_eq!(super::expand("file:///{path}").unwrap(), "file:///x");
        assert_eq!(
            super::expand("api://u{/id}{?q,r}").unwrap(),
            "api://u/x?q=x&r=x"
        );
        assert!(super::expand("a://{oops").is_err());
        assert!(super::mime_ok("text/plain; charset=utf-8") && !super::mime_ok("text"));
    }
}
