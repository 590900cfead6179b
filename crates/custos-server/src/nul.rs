//! Text holding U+0000 (NUL) is refused where input enters, before any storage is touched.
//!
//! PostgreSQL cannot hold NUL in a text value (it refuses it with error 22021), SQLite
//! cuts strings at it in places, and no address, name or message needs it. So every
//! string that arrives (in a JSON body, a form, a query string or a path) and contains
//! it is refused with `422 invalid_value`, naming where it was, never repeating the value:
//!
//! - JSON bodies: [`check_json`], called by [`crate::extract::parse`], which every JSON
//!   endpoint parses its body with. A JSON string can hold NUL only as the escape
//!   `\u0000` (a raw NUL byte is not JSON), so bodies without that escape cost one fast
//!   scan; a body with it is walked to name the field.
//! - Form posts: [`check_pairs`], called by [`crate::extract::Form`] and the website's
//!   forms (`/v1/forms/*`, URL-encoded and multipart).
//! - Query strings and paths: the [`refuse_in_url`] layer, for every route.
//! - DRP signed messages and partners' batches (JSON, NDJSON, CSV): their parsers in the
//!   engine ([`custos_engine::nul`]).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::ApiError;

/// The refusal of text with NUL at `field` (a path such as `identity.email`).
pub(crate) fn refusal(field: &str) -> ApiError {
    ApiError::invalid("invalid_value", custos_engine::nul::message(field)).with_field(field.to_owned())
}

/// Refuses a JSON body with a string (a value or a key) that holds NUL, naming its path as
/// the body's parser does (`events[0].url`). A body that is not valid JSON passes: its
/// parser says what is wrong with it.
pub(crate) fn check_json(bytes: &[u8]) -> Result<(), ApiError> {
    if memchr::memmem::find(bytes, br"\u0000").is_none() {
        return Ok(());
    }
    // The escape may be text (`\\u0000` is a backslash, then `u0000`): look at the values.
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else { return Ok(()) };
    match custos_engine::nul::path(&value) {
        Some(path) if path.is_empty() => Err(refusal("body")),
        Some(path) => Err(refusal(&path)),
        None => Ok(()),
    }
}

/// Refuses form fields (`name=value` pairs, decoded) where a name or a value holds NUL.
pub(crate) fn check_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<(), ApiError> {
    for (key, value) in pairs {
        let (key, value) = (key.as_ref(), value.as_ref());
        if key.contains('\0') {
            return Err(refusal("body"));
        }
        if value.contains('\0') {
            return Err(refusal(key));
        }
    }
    Ok(())
}

/// The layer that refuses a request whose path or query string holds an encoded NUL
/// (`%00`; a raw one is not a valid URL and never gets this far).
pub(crate) async fn refuse_in_url(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if uri.path().contains("%00") {
        return refusal("path").into_response();
    }
    if let Some(query) = uri.query().filter(|q| q.contains("%00"))
        && let Err(refused) = check_pairs(form_urlencoded::parse(query.as_bytes()))
    {
        let field = refused.body().field.clone().unwrap_or_default();
        let field = if field == "body" { "query".to_owned() } else { field };
        return refusal(&field).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(result: Result<(), ApiError>) -> Option<String> {
        result.err().map(|e| {
            assert_eq!((e.status().as_u16(), e.body().code.as_str()), (422, "invalid_value"));
            assert!(e.body().message.contains("U+0000"), "{}", e.body().message);
            e.body().field.clone().unwrap_or_default()
        })
    }

    #[test]
    fn names_the_json_field_that_holds_nul() {
        assert_eq!(
            field(check_json(br#"{"identity": {"email": "a\u0000@b.example"}}"#)),
            Some("identity.email".into())
        );
        assert_eq!(
            field(check_json(br#"{"events": [{"url": "/"}, {"url": "/\u0000"}]}"#)),
            Some("events[1].url".into())
        );
        assert_eq!(field(check_json(br#"[1, "\u0000"]"#)), Some("[1]".into()));
        assert_eq!(field(check_json(br#""\u0000""#)), Some("body".into()));
        assert_eq!(field(check_json(br#"{"choices": {"a\u0000": true}}"#)), Some("choices".into()));
        assert_eq!(field(check_json(br#"{"k\u0000": 1}"#)), Some("body".into()));
    }

    #[test]
    fn lets_through_text_that_only_looks_like_the_escape_and_bodies_that_are_not_json() {
        assert_eq!(field(check_json(br#"{"message": "type \\u0000 to say NUL"}"#)), None);
        assert_eq!(field(check_json(br#"{"message": "fine"}"#)), None);
        assert_eq!(field(check_json(br#"{"message": "\u0000"#)), None, "the parser refuses it");
        assert_eq!(field(check_json(b"{\"a\": \"\\u00000\"}")), Some("a".into()));
    }

    #[test]
    fn names_the_form_field_that_holds_nul() {
        assert_eq!(field(check_pairs(form_urlencoded::parse(b"name=Ada&email=a%00b"))), Some("email".into()));
        assert_eq!(field(check_pairs(form_urlencoded::parse(b"na%00me=Ada"))), Some("body".into()));
        assert_eq!(field(check_pairs(form_urlencoded::parse(b"name=Ada+%C3%A9&x=%2500"))), None);
    }
}
