//! Service tokens: shown once, stored hashed, scoped, revocable.

use std::sync::Arc;

use custos_engine::gate::Actor;
use custos_engine::tokens::{self, TokenError};
use custos_policy::Policy;
use custos_store::Store;
use custos_testkit::{TestDb, on_both_backends};

on_both_backends!(issued_tokens_authenticate_until_revoked, the_cache_checks_every_secret_and_forgets_revoked_tokens);

async fn issued_tokens_authenticate_until_revoked(store: Arc<dyn Store>, _db: &TestDb) {
    let policy = Policy::example();
    let now = jiff::Timestamp::now();
    let (stored, secret) = tokens::issue(&store, &policy, "website", &["support".into()], now).await.expect("issue");
    assert!(secret.starts_with("cst_"));
    let actor = tokens::authenticate(&store, &secret).await.expect("valid");
    assert_eq!(actor, Actor::Service { token: stored.id.clone(), purposes: vec!["support".into()] });
    assert!(!format!("{stored:?}").contains(&secret[17..]), "the secret is not stored");
    let mut wrong = secret.clone();
    wrong.pop();
    wrong.push(if secret.ends_with('A') { 'B' } else { 'A' });
    assert!(matches!(tokens::authenticate(&store, &wrong).await, Err(TokenError::Invalid)));
    assert!(matches!(tokens::authenticate(&store, "Bearer nonsense").await, Err(TokenError::Invalid)));
    assert!(store.revoke_token(&stored.id, now).await.expect("revoke"));
    assert!(matches!(tokens::authenticate(&store, &secret).await, Err(TokenError::Invalid)));
    let err = tokens::issue(&store, &policy, "x", &["resale".into()], now).await.expect_err("unknown purpose");
    assert!(matches!(err, TokenError::UnknownPurpose(p) if p == "resale"));
}

async fn the_cache_checks_every_secret_and_forgets_revoked_tokens(store: Arc<dyn Store>, _db: &TestDb) {
    let now = jiff::Timestamp::now();
    let (stored, secret) =
        tokens::issue(&store, &Policy::example(), "website", &["support".into()], now).await.expect("issue");
    let cache = tokens::TokenCache::default();
    assert!(cache.authenticate(&store, &secret).await.is_ok());
    let mut wrong = secret.clone();
    wrong.pop();
    wrong.push(if secret.ends_with('A') { 'B' } else { 'A' });
    assert!(
        matches!(cache.authenticate(&store, &wrong).await, Err(TokenError::Invalid)),
        "a cached token still needs its own secret"
    );
    assert!(store.revoke_token(&stored.id, now).await.expect("revoke"));
    tokio::time::sleep(tokens::TokenCache::TTL + std::time::Duration::from_millis(50)).await;
    assert!(
        matches!(cache.authenticate(&store, &secret).await, Err(TokenError::Invalid)),
        "a revocation reaches the cache within its time to live"
    );
}
