//! The lists (tools, resources, templates, prompts), fetched raw page by
//! page: pagination terminates and is stable, and each list agrees with
//! the capabilities the server declared.

use serde_json::{json, Value};

use super::checker::Checker;
use super::probe::{Exchange, Probe};
use super::report::Finding;

/// At most this many pages per list (the client's own cap).
const MAX_PAGES: usize = 64;

/// What each list held (empty when the capability is not declared or
/// the list failed).
#[derive(Debug, Default)]
pub(super) struct Lists {
    pub(super) tools: Vec<Value>,
    pub(super) resources: Vec<Value>,
    pub(super) templates: Vec<Value>,
    pub(super) prompts: Vec<Value>,
}

/// A list method: what it is called, the capability that offers it, the
/// key of its items and the field naming each item.
struct Kind {
    method: &'static str,
    capability: &'static str,
    key: &'static str,
    id: &'static str,
}

const KINDS: [Kind; 4] = [
    Kind {
        method: "tools/list",
        capability: "tools",
        key: "tools",
        id: "name",
    },
    Kind {
        method: "resources/list",
        capability: "resources",
        key: "resources",
        id: "uri",
    },
    Kind {
        method: "resources/templates/list",
        capability: "resources",
        key: "resourceTemplates",
        id: "uriTemplate",
    },
    Kind {
        method: "prompts/list",
        capability: "prompts",
        key: "prompts",
        id: "name",
    },
];

const CAPS_RULE: &str = "server capabilities (basic/lifecycle): a server offers tools, resources \
     and prompts only when it declares the capability, and answers what it declares";

/// Fetches every list, checking pagination and capabilities on the way.
pub(super) async fn fetch(p: &Probe, c: &mut Checker) -> Lists {
    let caps = serde_json::to_value(&p.caps).unwrap_or(Value::Null);
    let mut lists = Lists::default();
    for kind in &KINDS {
        let declared = caps.get(kind.capability).is_some_and(|v| !v.is_null());
        let items = one(p, c, kind, declared).await;
        match kind.key {
            "tools" => lists.tools = items,
            "resources" => lists.resources = items,
            "resourceTemplates" => lists.templates = items,
            _ => lists.prompts = items,
        }
    }
    lists
}

async fn one(p: &Probe, c: &mut Checker, kind: &Kind, declared: bool) -> Vec<Value> {
    c.ran("capabilities.consistent");
    let fetched = pages(p, c, kind).await;
    match (declared, fetched) {
        (true, Ok((items, pages))) => {
            if pages > 1 {
                stable(p, c, kind, &items).await;
            } else {
                c.skip("pagination.stable", "every list fits one page");
            }
            items
        }
        (true, Err(x)) => {
            c.find(
                Finding::error(
                    "capabilities.consistent",
                    format!("declares `{}` but {} fails", kind.capability, kind.method),
                )
                .sent(x.sent.clone())
                .received(x.received())
                .rule(CAPS_RULE)
                .fix(format!(
                    "answer {} (an empty list is fine), or stop declaring `{}`",
                    kind.method, kind.capability
                )),
            );
            Vec::new()
        }
        (false, Ok((items, _))) if !items.is_empty() => {
            c.find(
                Finding::warning(
                    "capabilities.consistent",
                    format!(
                        "{} answers {} items, but `{}` is not declared: clients will never ask",
                        kind.method,
                        items.len(),
                        kind.capability
                    ),
                )
                .sent(json!({"method": kind.method, "params": {}}))
                .received(json!({ kind.key: format!("{} items", items.len()) }))
                .rule(CAPS_RULE)
                .fix(format!(
                    "declare `{}` in the server's capabilities",
                    kind.capability
                )),
            );
            Vec::new()
        }
        (false, _) => Vec::new(),
    }
}

/// Every page of one list: the items and how many pages, or the exchange
/// that failed.
async fn pages(p: &Probe, c: &mut Checker, kind: &Kind) -> Result<(Vec<Value>, usize), Exchange> {
    c.ran("pagination.terminates");
    let mut items = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let params = match &cursor {
            Some(cur) => json!({ "cursor": cur }),
            None => json!({}),
        };
        let x = p.ask(kind.method, params).await;
        let Ok(result) = &x.reply else { return Err(x) };
        let Some(list) = result.get(kind.key).and_then(Value::as_array) else {
            c.find(
                Finding::error(
                    "pagination.shape",
                    format!("{} has no `{}` array", kind.method, kind.key),
                )
                .sent(x.sent.clone())
                .received(x.received())
                .rule(format!(
                    "schema: {}Result requires `{}`, an array",
                    kind.method, kind.key
                ))
                .fix(format!("answer {{\"{}\": [...]}}", kind.key)),
            );
            return Err(x);
        };
        let before = items.len();
        items.extend(list.iter().cloned());
        let next = match result.get("nextCursor") {
            None | Some(Value::Null) => return Ok((items, page)),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                c.find(
                    Finding::error(
                        "pagination.shape",
                        format!("{}: nextCursor is not a string", kind.method),
                    )
                    .sent(x.sent.clone())
                    .received(json!({ "nextCursor": other }))
                    .rule("utilities/pagination: a cursor is an opaque string token")
                    .fix("send nextCursor as a string, or leave it out on the last page"),
                );
                return Ok((items, page));
            }
        };
        if seen.contains(&next) {
            c.find(
                Finding::error(
                    "pagination.terminates",
                    format!("{}: page {page} hands back cursor {next:?} again: the list never ends", kind.method),
                )
                .sent(x.sent.clone())
                .received(json!({ "nextCursor": next }))
                .rule("utilities/pagination: a missing nextCursor marks the last page; cursors must lead to it")
                .fix("give each page a new cursor, and none on the last page"),
            );
            // The page came round again: its items are not new ones.
            items.truncate(before);
            return Ok((items, page));
        }
        seen.push(next.clone());
        cursor = Some(next);
    }
    c.find(
        Finding::error(
            "pagination.terminates",
            format!("{}: still more after {MAX_PAGES} pages", kind.method),
        )
        .rule("utilities/pagination: a missing nextCursor marks the last page")
        .fix("end the list: leave nextCursor out on the last page"),
    );
    Ok((items, MAX_PAGES))
}

/// A second walk of a paged list gives the same items in the same order.
async fn stable(p: &Probe, c: &mut Checker, kind: &Kind, first: &[Value]) {
    c.ran("pagination.stable");
    let mut scratch = Checker::default();
    let Ok((again, _)) = pages(p, &mut scratch, kind).await else {
        return;
    };
    let ids = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|i| i.get(kind.id).map(|v| v.to_string()).unwrap_or_default())
            .collect()
    };
    let (a, b) = (ids(first), ids(&again));
    if a != b {
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        c.find(
            Finding::warning(
                "pagination.stable",
                format!(
                    "{}: walking the pages twice gave different lists ({} then {} items, first difference at item {at})",
                    kind.method,
                    a.len(),
                    b.len()
                ),
            )
            .received(json!({"first": a.get(at), "second": b.get(at)}))
            .rule("utilities/pagination: cursors are stable, so a client can resume a walk")
            .fix("page over a stable order (e.g. sorted by name), not a set's iteration order"),
        );
    }
}
