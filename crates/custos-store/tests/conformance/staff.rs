use std::sync::Arc;

use custos_store::{StaffMember, Store, StoreError};
use custos_testkit::{TestDb, on_both_backends};

use crate::at;

on_both_backends!(staff_sign_in_through_sessions_that_end, the_setup_link_makes_one_first_admin_once);

fn member(username: &str, role: &str) -> StaffMember {
    StaffMember {
        id: uuid::Uuid::now_v7(),
        username: username.into(),
        role: role.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: at(0),
        disabled_at: None,
        totp_sealed: None,
        totp_pending: None,
        totp_last_step: None,
        purposes: Vec::new(),
    }
}

async fn staff_sign_in_through_sessions_that_end(store: Arc<dyn Store>, _db: &TestDb) {
    let dpo = member("dpo", "dpo");
    store.create_staff(&dpo).await.expect("create");
    assert!(
        matches!(store.create_staff(&member("dpo", "admin")).await, Err(StoreError::Conflict(_))),
        "names are unique"
    );
    assert!(store.create_staff(&member("eve", "owner")).await.is_err(), "only the gate's roles");
    assert_eq!(store.staff_by_username("dpo").await.expect("find"), Some(dpo.clone()));
    assert_eq!(store.count_staff().await.expect("count"), 1);
    assert!(store.set_staff_purposes("dpo", &["support".into(), "account".into()]).await.expect("purposes"));
    assert!(!store.set_staff_purposes("nobody", &[]).await.expect("purposes"), "no such member");
    let assigned = store.staff_by_username("dpo").await.expect("find").expect("dpo").purposes;
    assert_eq!(assigned, ["support", "account"]);
    store.set_staff_purposes("dpo", &[]).await.expect("purposes");

    store.put_staff_session(&[1; 32], dpo.id, at(1_000)).await.expect("session");
    assert_eq!(store.staff_session(&[1; 32], at(999)).await.expect("open").map(|m| m.id), Some(dpo.id));
    assert_eq!(store.staff_session(&[1; 32], at(1_000)).await.expect("expired"), None, "ends at its expiry");
    assert_eq!(store.staff_session(&[2; 32], at(0)).await.expect("unknown"), None);
    assert!(
        matches!(store.put_staff_session(&[3; 32], uuid::Uuid::now_v7(), at(1)).await, Err(StoreError::NotFound(_))),
        "a session needs a member of staff"
    );
    // One-time passwords: set up, put in use with the first code's step, no step twice.
    assert!(!store.enable_staff_totp(dpo.id, 5).await.expect("enable"), "nothing being set up");
    store.set_staff_totp_pending(dpo.id, Some(&[9, 9])).await.expect("pending");
    assert!(store.enable_staff_totp(dpo.id, 5).await.expect("enable"));
    let with = store.staff_by_username("dpo").await.expect("find").expect("exists");
    assert_eq!((with.totp_sealed, with.totp_pending, with.totp_last_step), (Some(vec![9, 9]), None, Some(5)));
    assert!(!store.use_staff_totp_step(dpo.id, 5).await.expect("step"), "the setup code cannot be used again");
    assert!(store.use_staff_totp_step(dpo.id, 6).await.expect("step"));
    assert!(!store.use_staff_totp_step(dpo.id, 6).await.expect("step"), "a replayed code");
    assert!(!store.use_staff_totp_step(dpo.id, 4).await.expect("step"), "an older code");
    store.delete_staff_session(&[1; 32]).await.expect("logout");
    assert_eq!(store.staff_session(&[1; 32], at(0)).await.expect("ended"), None);

    // A new password ends every session; disabling ends them too, and sign-in with them.
    store.put_staff_session(&[4; 32], dpo.id, at(1_000)).await.expect("session");
    store.set_staff_password(dpo.id, "$argon2id$new").await.expect("password");
    assert_eq!(store.staff_session(&[4; 32], at(1)).await.expect("ended"), None, "a new password ends sessions");
    assert_eq!(store.staff_by_username("dpo").await.expect("find").expect("dpo").password_hash, "$argon2id$new");
    store.put_staff_session(&[5; 32], dpo.id, at(1_000)).await.expect("session");
    assert!(store.disable_staff("dpo", at(2)).await.expect("disable"));
    assert!(!store.disable_staff("dpo", at(3)).await.expect("again"), "disabled once");
    assert_eq!(store.staff_session(&[5; 32], at(3)).await.expect("session"), None, "a disabled member's sessions end");
}

async fn the_setup_link_makes_one_first_admin_once(store: Arc<dyn Store>, _db: &TestDb) {
    store.put_staff_setup(&[7; 32], at(1_000)).await.expect("setup");
    assert!(!store.complete_staff_setup(&[8; 32], at(0), &member("root", "admin")).await.expect("wrong"), "wrong link");
    assert!(!store.complete_staff_setup(&[7; 32], at(1_000), &member("root", "admin")).await.expect("late"), "expired");
    assert_eq!(store.count_staff().await.expect("count"), 0, "nothing made");
    store.put_staff_setup(&[7; 32], at(1_000)).await.expect("setup again");
    assert!(store.complete_staff_setup(&[7; 32], at(10), &member("root", "admin")).await.expect("setup"));
    assert!(!store.complete_staff_setup(&[7; 32], at(11), &member("mallory", "admin")).await.expect("again"), "once");
    store.put_staff_setup(&[9; 32], at(1_000)).await.expect("a new link");
    assert!(
        !store.complete_staff_setup(&[9; 32], at(12), &member("mallory", "admin")).await.expect("later"),
        "only while nobody exists"
    );
    let names: Vec<String> = store.staff_members().await.expect("list").into_iter().map(|m| m.username).collect();
    assert_eq!(names, ["root"]);
}
