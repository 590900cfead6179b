//! The rendered notice and the record of processing carry everything the policy says.

use custos_policy::render::{Format, render};
use custos_policy::{Policy, ropa};

#[test]
fn the_html_notice_names_every_purpose_recipient_and_cookie() {
    let policy = Policy::example();
    let html = render(&policy, Format::Html, Some("/privacy-center"));
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<main id=\"content\">"), "a main landmark");
    for p in &policy.purposes {
        assert!(html.contains(&format!("data-purpose=\"{}\"", p.id)), "{}", p.id);
    }
    for r in &policy.recipients {
        assert!(html.contains(&format!("data-recipient=\"{}\"", r.id)), "{}", r.id);
    }
    for c in &policy.cookies {
        assert!(html.contains(&format!("data-cookie=\"{}\"", c.name)), "{}", c.name);
    }
    assert!(html.contains(policy.version().short()));
    assert!(html.contains("href=\"/privacy-center\""));
}

#[test]
fn html_escapes_what_the_policy_says() {
    let text =
        custos_policy::EXAMPLE_TOML.replacen("name = \"Support\"", "name = \"Support <script>alert(1)</script>\"", 1);
    let policy = Policy::from_toml(&text, "x.toml").expect("valid");
    let html = render(&policy, Format::Html, None);
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "escaped");
}

#[test]
fn the_markdown_notice_has_each_section_and_escapes_tables() {
    let policy = Policy::example();
    let md = render(&policy, Format::Markdown, None);
    for heading in [
        "## Who we are",
        "## Why we process data",
        "## What data",
        "## Who receives it",
        "## Your rights",
        "## Cookies",
        "## Security",
    ] {
        assert!(md.contains(heading), "{heading}");
    }
    for p in &policy.purposes {
        assert!(md.contains(&format!("### {}", p.name)), "{}", p.name);
    }
    let text = custos_policy::EXAMPLE_TOML.replacen("Your role at a partner company.", "Role | title", 1);
    let policy = Policy::from_toml(&text, "x.toml").expect("valid");
    assert!(render(&policy, Format::Markdown, None).contains("Role \\| title"));
}

#[test]
fn json_rendering_is_the_policy() {
    let policy = Policy::example();
    let json = render(&policy, Format::Json, None);
    let back: Policy = serde_json::from_str(&json).expect("json");
    assert_eq!(back, policy);
}

#[test]
fn the_record_of_processing_has_one_activity_per_purpose_with_every_article_30_field() {
    let policy = Policy::example();
    let record = ropa::record(&policy);
    assert_eq!(record.activities.len(), policy.purposes.len());
    assert!(record.controller.contains(&policy.controller.name));
    assert!(record.dpo.contains(&policy.controller.dpo.email));
    assert!(!record.security_measures.is_empty());
    let mail = record.activities.iter().find(|a| a.purpose == "marketing").expect("marketing");
    assert!(mail.transfers.iter().any(|t| t.contains("(US)") && t.contains("Art. 45(3)")), "{mail:?}");
    assert!(
        record.activities.iter().all(|a| !a.retention.is_empty() && !a.categories.is_empty() && !a.subjects.is_empty())
    );

    let csv = ropa::to_csv(&policy);
    let mut lines = csv.lines();
    assert!(lines.next().expect("header").starts_with("controller,dpo,purpose,description,legal_basis"));
    assert_eq!(csv.lines().count(), policy.purposes.len() + 1);
    let json: serde_json::Value = serde_json::from_str(&ropa::to_json(&policy)).expect("json");
    assert_eq!(json["activities"].as_array().expect("array").len(), policy.purposes.len());
}
