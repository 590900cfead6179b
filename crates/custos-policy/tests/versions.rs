//! Versions are content hashes; a diff names exactly what changed.

use custos_policy::{Policy, PolicyDiff};

fn example_with(from: &str, to: &str) -> Policy {
    let text = custos_policy::EXAMPLE_TOML.replacen(from, to, 1);
    assert_ne!(text, custos_policy::EXAMPLE_TOML, "`{from}` not found");
    Policy::from_toml(&text, "edited.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_version_is_a_stable_content_hash() {
    let a = Policy::example().version();
    let b = Policy::example().version();
    assert_eq!(a, b);
    assert_eq!(a.hash.len(), 64);
    assert!(a.hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.short(), &a.hash[..12]);
}

#[test]
fn layout_comments_label_and_date_do_not_change_the_version() {
    let original = Policy::example().version();
    let relabelled = example_with("label = \"2026-11\"", "label = \"November edition\"").version();
    assert_eq!(relabelled.hash, original.hash);
    assert_eq!(relabelled.label, "November edition");
    let commented = example_with("[controller]\n", "# a comment\n\n[controller]\n").version();
    assert_eq!(commented.hash, original.hash);
}

#[test]
fn changing_one_purpose_yields_a_new_version_and_a_diff_naming_only_it() {
    let old = Policy::example();
    let new =
        example_with("Helping you when you ask for assistance with the services.", "Helping you by chat and email.");
    assert_ne!(old.version().hash, new.version().hash);
    let diff = PolicyDiff::between(&old, &new);
    assert_eq!(diff.purposes.changed, vec!["support".to_owned()]);
    assert!(diff.purposes.added.is_empty() && diff.purposes.removed.is_empty());
    for part in [&diff.categories, &diff.recipients, &diff.cookies, &diff.retention] {
        assert!(part.is_empty(), "{diff:?}");
    }
    assert!(!diff.other);
    assert!(diff.reconsent_purposes(&new).is_empty(), "support rests on a contract, not consent");
}

#[test]
fn a_diff_lists_additions_and_removals_in_each_part() {
    let old = Policy::example();
    let new = example_with(
        "[[cookie]]\nname = \"custos_session\"",
        "[[cookie]]\nname = \"custos_theme\"\ncategory = \"necessary\"\nlifetime = \"P1Y\"\nparty = \"first\"\npurpose = \"website-operation\"\ndescription = \"Dark or light.\"\n\n[[cookie]]\nname = \"custos_session\"",
    );
    let diff = PolicyDiff::between(&old, &new);
    assert_eq!(diff.cookies.added, vec!["custos_theme".to_owned()]);
    let back = PolicyDiff::between(&new, &old);
    assert_eq!(back.cookies.removed, vec!["custos_theme".to_owned()]);
    assert!(PolicyDiff::between(&old, &old).is_empty());
}

#[test]
fn a_changed_consent_purpose_asks_for_consent_again() {
    let old = Policy::example();
    let new = example_with("so that we can improve the website.", "so that we can improve the website and our offers.");
    let diff = PolicyDiff::between(&old, &new);
    assert_eq!(diff.purposes.changed, vec!["analytics".to_owned()]);
    assert_eq!(diff.reconsent_purposes(&new), vec!["analytics".to_owned()]);
}

#[test]
fn a_stored_canonical_form_reads_back_as_the_same_policy() {
    let policy = Policy::example();
    let stored = custos_policy::version::canonical(&policy);
    let back: Policy = serde_json::from_str(&stored).expect("canonical JSON is a policy");
    assert_eq!(back, policy);
    assert_eq!(back.version(), policy.version());
}
