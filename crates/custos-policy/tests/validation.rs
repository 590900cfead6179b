//! One broken policy per validation rule: each must be refused with the exact code, a
//! message naming what is wrong, and the line and column of the fault.

use custos_policy::{Diagnostic, Policy, PolicyError};

const EXAMPLE: &str = custos_policy::EXAMPLE_TOML;

/// The example with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(EXAMPLE.matches(from).count(), 1, "`{from}` must occur once in the example");
    EXAMPLE.replacen(from, to, 1)
}

/// The 1-based line and column where `needle` starts in `text` (its `nth` occurrence, from 0).
fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` #{nth} not in text")).0;
    let before = &text[..offset];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
}

fn errors(text: &str) -> PolicyError {
    Policy::from_toml(text, "policy.toml").expect_err("the policy must be refused")
}

/// Asserts that `text` is refused with exactly one diagnostic `code` at the start of
/// `needle` (its `nth` occurrence), whose message contains each of `words`.
fn refused(text: &str, code: &str, needle: &str, nth: usize, words: &[&str]) -> Diagnostic {
    let err = errors(text);
    let found: Vec<&Diagnostic> = err.diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "one `{code}` expected:\n{err}");
    let d = found[0].clone();
    assert_eq!((d.line, d.column), position(text, needle, nth), "position of `{code}`:\n{err}");
    for word in words {
        assert!(d.message.contains(word), "`{word}` missing from `{}`", d.message);
    }
    assert!(d.help.is_some(), "every rule says what to change: {d:?}");
    let shown = err.to_string();
    assert!(shown.contains(&format!("policy.toml:{}:{}: ", d.line, d.column)), "{shown}");
    d
}

#[test]
fn a_purpose_without_a_legal_basis() {
    let text = edit(
        "id = \"support\"\nname = \"Support\"\ndescription = \"Helping you when you ask for assistance with the services.\"\nlegal_basis = \"contract\"\n",
        "id = \"support\"\nname = \"Support\"\ndescription = \"Helping you when you ask for assistance with the services.\"\n",
    );
    let d = refused(&text, "purpose.no_legal_basis", "\"support\"", 0, &["`support`", "no legal basis"]);
    assert!(d.help.expect("help").contains("legitimate_interests"));
}

#[test]
fn an_unknown_legal_basis() {
    let text = edit(
        "legal_basis = \"contract\"\ncategories = [\"user.name\", \"user.contact.email\"]\n",
        "legal_basis = \"because\"\ncategories = [\"user.name\", \"user.contact.email\"]\n",
    );
    refused(&text, "unknown_value", "\"because\"", 0, &["`because` is not a legal basis"]);
}

#[test]
fn legitimate_interests_without_an_assessment() {
    let start = EXAMPLE.find("id = \"contact\"").expect("contact purpose");
    let line_start = start + EXAMPLE[start..].find("legitimate_interest = {").expect("assessment");
    let line_end = line_start + EXAMPLE[line_start..].find('\n').expect("end of line") + 1;
    let text = format!("{}{}", &EXAMPLE[..line_start], &EXAMPLE[line_end..]);
    let needle_nth = text[..start].matches("\"legitimate_interests\"").count();
    refused(
        &text,
        "purpose.legitimate_interest_without_assessment",
        "\"legitimate_interests\"",
        needle_nth,
        &["`contact`", "no balancing test"],
    );
}

#[test]
fn an_assessment_on_another_basis() {
    let text = edit(
        "id = \"contact\"\nname = \"Answering your messages\"\ndescription = \"Reading and answering what you send us through the contact form or by email, attachments included.\"\nlegal_basis = \"legitimate_interests\"",
        "id = \"contact\"\nname = \"Answering your messages\"\ndescription = \"Reading and answering what you send us through the contact form or by email, attachments included.\"\nlegal_basis = \"contract\"",
    );
    let nth = text[..text.find("id = \"contact\"").expect("contact")].matches("legitimate_interest = {").count();
    refused(&text, "purpose.assessment_without_legitimate_interest", "{ interest", nth, &["`contact`", "contract"]);
}

#[test]
fn consent_that_is_not_opt_in() {
    let text = edit(
        "id = \"marketing\"\nname = \"Marketing\"\ndescription = \"Sending you advertising and offers about our current and future activities, products and services by email. Every message has a one-click unsubscribe link.\"\nlegal_basis = \"consent\"\nopt_in = true",
        "id = \"marketing\"\nname = \"Marketing\"\ndescription = \"Sending you advertising and offers about our current and future activities, products and services by email. Every message has a one-click unsubscribe link.\"\nlegal_basis = \"consent\"\nopt_in = false",
    );
    refused(&text, "purpose.consent_not_opt_in", "false", 0, &["`marketing`", "consent"]);
}

#[test]
fn a_recipient_outside_the_eea_without_a_safeguard() {
    let text = edit("country = \"IN\"\ntransfer = \"scc\"\n", "country = \"IN\"\n");
    refused(&text, "recipient.no_transfer_safeguard", "\"IN\"", 0, &["`partner-network`", "IN", "outside the EEA"]);
}

#[test]
fn adequacy_claimed_for_a_country_without_it() {
    let text = edit("country = \"IN\"\ntransfer = \"scc\"\n", "country = \"IN\"\ntransfer = \"adequacy\"\n");
    let nth = text[..text.find("country = \"IN\"").expect("IN")].matches("\"adequacy\"").count();
    refused(&text, "recipient.not_adequate", "\"adequacy\"", nth, &["IN", "no adequacy decision"]);
}

#[test]
fn us_adequacy_needs_certification() {
    let text = edit("transfer = \"adequacy\"\ndpf_certified = true\n", "transfer = \"adequacy\"\n");
    let nth = text[..text.find("id = \"email-delivery\"").expect("mailer")].matches("\"adequacy\"").count();
    refused(&text, "recipient.dpf_not_certified", "\"adequacy\"", nth, &["Data Privacy Framework"]);
}

#[test]
fn a_category_with_no_retention_rule() {
    // The rule for service-improvement now covers two of its three categories.
    let text = edit(
        "[[retention]]\nid = \"improvement\"\npurposes = [\"service-improvement\"]\n",
        "[[retention]]\nid = \"improvement\"\npurposes = [\"service-improvement\"]\ncategories = [\"user.unique_id.pseudonymous\", \"user.behavior.lead_information\"]\n",
    );
    refused(
        &text,
        "category.no_retention",
        "\"user.behavior.browsing_history\"",
        0,
        &["`user.behavior.browsing_history`", "`service-improvement`"],
    );
}

#[test]
fn a_cookie_whose_category_no_purpose_covers() {
    let text =
        edit("name = \"custos_vid\"\ncategory = \"analytics\"", "name = \"custos_vid\"\ncategory = \"marketing\"");
    let nth = text[..text.find("name = \"custos_vid\"").expect("cookie")].matches("\"marketing\"").count();
    refused(
        &text,
        "cookie.uncovered_category",
        "\"marketing\"",
        nth,
        &["`custos_vid`", "marketing", "no purpose covers"],
    );
}

#[test]
fn a_cookie_whose_purpose_does_not_cover_its_category() {
    let text = edit(
        "lifetime = \"P13M\"\nparty = \"first\"\npurpose = \"analytics\"",
        "lifetime = \"P13M\"\nparty = \"first\"\npurpose = \"website-operation\"",
    );
    let nth = text[..text.find("name = \"custos_vid\"").expect("cookie")].matches("\"website-operation\"").count();
    refused(&text, "cookie.purpose_does_not_cover", "\"website-operation\"", nth, &["`custos_vid`", "analytics"]);
}

#[test]
fn non_necessary_cookies_need_a_consent_purpose() {
    let text = edit(
        "cookie_categories = [\"necessary\"]\n\n[[purpose]]\nid = \"analytics\"",
        "cookie_categories = [\"necessary\", \"preferences\"]\n\n[[purpose]]\nid = \"analytics\"",
    );
    refused(&text, "purpose.cookies_without_consent", "\"preferences\"", 0, &["`website-operation`", "preferences"]);
}

#[test]
fn an_unknown_category_key() {
    let text = edit("key = \"user.job_title\"", "key = \"user.job_titel\"");
    let d = refused(&text, "category.unknown_key", "\"user.job_titel\"", 0, &["`user.job_titel`", "not a fideslang"]);
    assert!(d.help.expect("help").contains("did you mean `user.job_title`"));
}

#[test]
fn a_custom_category_needs_a_known_parent() {
    let text = edit("key = \"user.behavior.lead_information\"", "key = \"user.leads.lead_information\"");
    refused(&text, "category.unknown_key", "\"user.leads.lead_information\"", 0, &["must extend a known"]);
}

#[test]
fn a_recipient_given_a_purpose_that_does_not_exist() {
    let text = edit("purposes = [\"support\", \"contact\"]", "purposes = [\"support\", \"contacts\"]");
    let d = refused(&text, "unknown_reference", "\"contacts\"", 0, &["recipient `support-desk`", "purpose `contacts`"]);
    assert!(d.help.expect("help").contains("did you mean `contact`"));
}

#[test]
fn a_recipient_given_a_category_none_of_its_purposes_uses() {
    let text = edit(
        "purposes = [\"service-communication\", \"marketing\", \"contact\", \"support\"]\ncategories = [\"user.name\", \"user.contact.email\"]",
        "purposes = [\"service-communication\", \"marketing\", \"contact\", \"support\"]\ncategories = [\"user.name\", \"user.contact.email\", \"user.job_title\"]",
    );
    let nth = text[..text.find("id = \"email-delivery\"").expect("mailer")].matches("\"user.job_title\"").count();
    refused(
        &text,
        "recipient.category_not_in_purpose",
        "\"user.job_title\"",
        nth,
        &["`email-delivery`", "`user.job_title`"],
    );
}

#[test]
fn duplicate_ids() {
    let text = edit("[[recipient]]\nid = \"authorities\"", "[[recipient]]\nid = \"hosting\"");
    let d = refused(&text, "duplicate_id", "\"hosting\"", 1, &["recipient `hosting` is declared twice"]);
    let first = position(&text, "\"hosting\"", 0).0;
    assert!(d.help.expect("help").contains(&format!("line {first}")));
}

#[test]
fn a_retention_rule_that_never_ends() {
    let text = edit(
        "id = \"improvement\"\npurposes = [\"service-improvement\"]\nperiod = \"P2Y\"\n",
        "id = \"improvement\"\npurposes = [\"service-improvement\"]\n",
    );
    refused(&text, "retention.no_end", "\"improvement\"", 0, &["`improvement` never ends"]);
}

#[test]
fn a_bad_period() {
    let text = edit("period = \"P13M\"", "period = \"thirteen months\"");
    refused(&text, "retention.bad_period", "\"thirteen months\"", 0, &["not a period"]);
}

#[test]
fn a_deadline_longer_than_gdpr_allows() {
    let text = edit("deadline = \"P1M\"", "deadline = \"P45D\"");
    refused(&text, "rights.deadline_too_long", "\"P45D\"", 0, &["one month"]);
}

#[test]
fn an_unused_category() {
    let text = edit(
        "[[category]]\nkey = \"user.job_title\"",
        "[[category]]\nkey = \"user.financial\"\ndescription = \"x\"\nsource = \"subject\"\n\n[[category]]\nkey = \"user.job_title\"",
    );
    refused(&text, "category.unused", "\"user.financial\"", 0, &["`user.financial`", "no purpose uses"]);
}

#[test]
fn every_error_is_reported_at_once_in_file_order() {
    let text = edit("country = \"IN\"\ntransfer = \"scc\"\n", "country = \"IN\"\n").replacen(
        "key = \"user.job_title\"",
        "key = \"user.job_titel\"",
        1,
    );
    let err = errors(&text);
    let codes: Vec<&str> = err.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"recipient.no_transfer_safeguard") && codes.contains(&"category.unknown_key"), "{err}");
    let lines: Vec<usize> = err.diagnostics.iter().map(|d| d.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "in file order: {lines:?}");
}

#[test]
fn syntax_errors_and_unknown_keys_have_positions() {
    let text = edit("[rights]\n", "[rights]\nspeed = 3\n");
    let err = errors(&text);
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(err.diagnostics[0].code, "syntax");
    assert!(err.diagnostics[0].message.contains("unknown field `speed`"), "{err}");
    assert_eq!((err.diagnostics[0].line, err.diagnostics[0].column), position(&text, "speed", 0));
}
