use std::sync::Arc;

use custos_store::{InboxMessage, InboxThread, PartnerRequest, Store, StoreError};
use custos_testkit::{TestDb, on_both_backends};
use uuid::Uuid;

use crate::at;

on_both_backends!(
    threads_keep_their_mails_once_found_by_header_and_request,
    partner_requests_and_webhooks_are_kept_per_partner
);

fn thread(n: i64) -> InboxThread {
    InboxThread {
        id: Uuid::now_v7(),
        request_id: None,
        state: "triage".into(),
        intent: None,
        language: "en".into(),
        confidence: 0,
        sender_index: vec![7; 32],
        sealed_sender: vec![1, 2, 3],
        partner_id: None,
        received_at: at(n),
        due_at: at(n + 1000),
        updated_at: at(n),
    }
}

fn message(thread: Uuid, hash: u8, ms: i64) -> InboxMessage {
    InboxMessage {
        thread_id: thread,
        id: Uuid::now_v7(),
        header_hash: vec![hash; 32],
        direction: "in".into(),
        source: "imap".into(),
        sealed: vec![hash; 10],
        at: at(ms),
    }
}

async fn threads_keep_their_mails_once_found_by_header_and_request(store: Arc<dyn Store>, _db: &TestDb) {
    let (mut a, b) = (thread(10), thread(5));
    store.create_inbox_thread(&a).await.expect("a");
    store.create_inbox_thread(&b).await.expect("b");
    assert!(matches!(store.create_inbox_thread(&a).await, Err(StoreError::Conflict(_))));
    store.add_inbox_message(&message(a.id, 1, 10)).await.expect("first mail");
    store.add_inbox_message(&message(a.id, 2, 20)).await.expect("reply");
    assert!(
        matches!(store.add_inbox_message(&message(b.id, 1, 30)).await, Err(StoreError::Conflict(_))),
        "a mail is stored once"
    );
    assert_eq!(store.inbox_thread_by_header(&[2; 32]).await.expect("find"), Some(a.id));
    assert_eq!(store.inbox_thread_by_header(&[9; 32]).await.expect("find"), None);
    let mails = store.inbox_messages(a.id).await.expect("mails");
    assert_eq!(mails.iter().map(|m| m.header_hash[0]).collect::<Vec<_>>(), [1, 2], "oldest first");

    let request = Uuid::now_v7();
    a.request_id = Some(request);
    a.state = "request".into();
    a.intent = Some("erasure".into());
    a.confidence = 812;
    a.due_at = at(2000);
    store.update_inbox_thread(&a).await.expect("update");
    assert_eq!(store.inbox_thread(a.id).await.expect("get"), Some(a.clone()));
    assert_eq!(store.inbox_thread_of_request(request).await.expect("by request"), Some(a.clone()));
    let open: Vec<Uuid> = store.open_inbox_threads(10).await.expect("open").iter().map(|t| t.id).collect();
    assert_eq!(open, [b.id, a.id], "soonest due first");
    a.state = "closed".into();
    store.update_inbox_thread(&a).await.expect("close");
    assert_eq!(store.open_inbox_threads(10).await.expect("open").len(), 1);
}

async fn partner_requests_and_webhooks_are_kept_per_partner(store: Arc<dyn Store>, _db: &TestDb) {
    let partner = Uuid::now_v7();
    let mut r = PartnerRequest {
        id: Uuid::now_v7(),
        partner_id: partner,
        direction: "forwarded".into(),
        kind: "erasure".into(),
        thread_id: Some(Uuid::now_v7()),
        pseudonym_index: None,
        state: "queued".into(),
        outcome: None,
        received_at: at(1),
        done_at: None,
    };
    store.put_partner_request(&r).await.expect("put");
    r.state = "done".into();
    r.outcome = Some(serde_json::json!({"channel": "email"}));
    r.done_at = Some(at(2));
    store.put_partner_request(&r).await.expect("update");
    assert_eq!(store.partner_request(r.id).await.expect("get"), Some(r.clone()));
    let later = PartnerRequest { id: Uuid::now_v7(), received_at: at(5), direction: "received".into(), ..r.clone() };
    store.put_partner_request(&later).await.expect("later");
    let listed: Vec<Uuid> = store.partner_requests(partner, 10).await.expect("list").iter().map(|r| r.id).collect();
    assert_eq!(listed, [later.id, r.id], "newest first");
    assert!(store.partner_requests(Uuid::now_v7(), 10).await.expect("other").is_empty());

    assert_eq!(store.partner_webhook(partner).await.expect("none"), None);
    store.set_partner_webhook(partner, Some("https://a.example/hook"), at(1)).await.expect("set");
    store.set_partner_webhook(partner, Some("https://b.example/hook"), at(2)).await.expect("replace");
    assert_eq!(store.partner_webhook(partner).await.expect("get").as_deref(), Some("https://b.example/hook"));
    store.set_partner_webhook(partner, None, at(3)).await.expect("remove");
    assert_eq!(store.partner_webhook(partner).await.expect("gone"), None);
}
