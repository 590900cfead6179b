//! Text holding U+0000 (NUL), which custos refuses wherever input enters: PostgreSQL
//! cannot hold it in text (error 22021) and no name, address or message needs it. The
//! server refuses it in every body, form and URL; the engine refuses it in what it parses
//! itself (DRP signed messages, partners' batches), with the same words.

use serde_json::Value;

/// The path of the first string in `value` that holds NUL, written as the server names
/// fields (`events[0].url`; `""` for `value` itself); a key holding NUL is named by the
/// object it is in. `None` when no string holds it.
pub fn path(value: &Value) -> Option<String> {
    find(value, &mut String::new())
}

fn find(value: &Value, path: &mut String) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| path.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(path.clone());
            }
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = find(item, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

/// What to say about NUL found at `field`: never the value.
pub fn message(field: &str) -> String {
    format!("{field}: the text contains the NUL character (U+0000), which is not accepted; remove it")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_string_or_the_object_whose_key_holds_nul() {
        assert_eq!(path(&json!({"identity": {"email": "a\u{0}@b.example"}})), Some("identity.email".into()));
        assert_eq!(path(&json!({"events": [{"url": "/"}, {"url": "/\u{0}"}]})), Some("events[1].url".into()));
        assert_eq!(path(&json!([1, "\u{0}"])), Some("[1]".into()));
        assert_eq!(path(&json!("\u{0}")), Some(String::new()));
        assert_eq!(path(&json!({"choices": {"a\u{0}": true}})), Some("choices".into()));
        assert_eq!(path(&json!({"message": "\\u0000 is how JSON writes it", "n": 0})), None);
    }
}
