//! What a report quotes of a message: long strings cut, long arrays
//! shortened, so one finding stays readable and a report stays small.

use serde_json::{Map, Value};

/// The longest string quoted, in characters.
const MAX_STRING: usize = 240;
/// The most array items quoted.
const MAX_ITEMS: usize = 8;
/// How deep a value is quoted.
const MAX_DEPTH: usize = 6;

/// `value`, cut to what a report quotes.
pub(super) fn value(value: Value) -> Value {
    cut(value, 0)
}

fn cut(value: Value, depth: usize) -> Value {
    match value {
        Value::String(s) if s.chars().count() > MAX_STRING => {
            let kept: String = s.chars().take(MAX_STRING).collect();
            Value::String(format!("{kept}… ({} characters)", s.chars().count()))
        }
        Value::Array(items) if depth >= MAX_DEPTH => {
            Value::String(format!("[… {} items]", items.len()))
        }
        Value::Object(map) if depth >= MAX_DEPTH => {
            Value::String(format!("{{… {} keys}}", map.len()))
        }
        Value::Array(items) => {
            let total = items.len();
            let mut out: Vec<Value> = items
                .into_iter()
                .take(MAX_ITEMS)
                .map(|v| cut(v, depth + 1))
                .collect();
            if total > MAX_ITEMS {
                out.push(Value::String(format!("… {} more", total - MAX_ITEMS)));
            }
            Value::Array(out)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, cut(v, depth + 1)))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(1000);
        let cut = super::value(json!({"a": long, "b": (0..20).collect::<Vec<_>>()}));
        assert!(cut["a"].as_str().unwrap().ends_with("(1000 characters)"));
        assert_eq!(cut["b"].as_array().unwrap().len(), 9);
    }
}
