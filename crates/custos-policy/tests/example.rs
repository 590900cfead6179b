//! The embedded example policy encodes the seed policy and passes every rule.

use custos_policy::{LegalBasis, Policy, TransferMechanism};

#[test]
fn the_example_policy_is_valid() {
    let policy = Policy::from_toml(custos_policy::EXAMPLE_TOML, "example.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(policy.purposes.len() >= 10);
}

#[test]
fn the_example_covers_what_the_seed_describes() {
    let p = Policy::example();
    // Visitor analytics: IP, cookies, geo, pages, frequency and duration, entry points.
    let analytics = p.purpose("analytics").expect("analytics");
    assert_eq!(analytics.legal_basis, LegalBasis::Consent);
    for key in
        ["user.device.ip_address", "user.device.cookie_id", "user.location.imprecise", "user.behavior.browsing_history"]
    {
        assert!(analytics.categories.iter().any(|c| c == key), "{key}");
    }
    // Contact messages with attachments; accounts with name, company, address, email, phone.
    assert!(p.purpose("contact").expect("contact").categories.iter().any(|c| c == "user.content.private"));
    let account = p.purpose("account").expect("account");
    for key in [
        "user.name",
        "user.contact.organization",
        "user.contact.address",
        "user.contact.email",
        "user.contact.phone_number",
    ] {
        assert!(account.categories.iter().any(|c| c == key), "{key}");
    }
    // Marketing is direct marketing on consent; partner data is processed as a processor.
    let marketing = p.purpose("marketing").expect("marketing");
    assert!(marketing.direct_marketing && marketing.legal_basis == LegalBasis::Consent && marketing.opt_in);
    assert_eq!(p.purpose("partner-services").expect("partner services").role, custos_policy::Role::Processor);
    // Legitimate interests carry their assessment; legal obligations and disclosures to authorities exist.
    assert!(
        p.purposes
            .iter()
            .filter(|x| x.legal_basis == LegalBasis::LegitimateInterests)
            .all(|x| x.legitimate_interest.is_some())
    );
    assert!(p.purposes.iter().any(|x| x.legal_basis == LegalBasis::LegalObligation));
    assert!(p.recipients.iter().any(|r| r.role == custos_policy::RecipientRole::Authority));
    // Transfers under each safeguard the seed names: adequacy, public-authority instrument, SCC.
    for mechanism in [TransferMechanism::Adequacy, TransferMechanism::PublicAuthorityInstrument, TransferMechanism::Scc]
    {
        assert!(p.recipients.iter().any(|r| r.transfer == mechanism), "{mechanism:?}");
    }
    assert_eq!(p.subjects.len(), 4, "visitors, users, partner contacts, partners' end users");
}
