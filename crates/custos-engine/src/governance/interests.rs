//! Legitimate interests (seed 7; GDPR Art. 6(1)(f), 13(1)(d), 21): anyone may obtain the
//! balancing assessment behind a purpose that rests on legitimate interests. They are served
//! from the policy, which refuses a legitimate-interest purpose without one.

use custos_policy::{LegalBasis, Policy, Purpose};
use serde_json::{Value, json};

use super::{GovernanceError, invalid};

/// One purpose's assessment, as JSON.
fn assessment_json(purpose: &Purpose) -> Option<Value> {
    let li = purpose.legitimate_interest.as_ref()?;
    Some(json!({
        "purpose": purpose.id,
        "name": purpose.name,
        "description": purpose.description,
        "legal_basis": purpose.legal_basis.as_str(),
        "interest": li.interest,
        "necessity": li.necessity,
        "balancing": li.balancing,
        "categories": purpose.categories,
        "subjects": purpose.subjects.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "your_right_to_object": "You may object at any time to this processing on grounds relating to your \
            situation (GDPR Art. 21(1)); it then stops unless we show compelling legitimate grounds.",
    }))
}

/// Every legitimate-interest purpose's assessment, in policy order.
pub fn assessments(policy: &Policy) -> Vec<Value> {
    policy.purposes.iter().filter_map(assessment_json).collect()
}

/// The assessments of the purposes in `purposes` that rest on legitimate interests.
pub fn assessments_for<'a>(policy: &Policy, purposes: impl IntoIterator<Item = &'a str>) -> Vec<Value> {
    let wanted: Vec<&str> = purposes.into_iter().collect();
    policy.purposes.iter().filter(|p| wanted.contains(&p.id.as_str())).filter_map(assessment_json).collect()
}

/// The assessment of purpose `id`.
pub fn assessment(policy: &Policy, id: &str) -> Result<Value, GovernanceError> {
    let purpose = policy.purpose(id).ok_or_else(|| GovernanceError::NotFound(format!("purpose `{id}`")))?;
    if purpose.legal_basis != LegalBasis::LegitimateInterests {
        return Err(invalid(
            "purpose",
            format!("`{id}` rests on {}, not on legitimate interests: it has no balancing test", purpose.legal_basis),
        ));
    }
    assessment_json(purpose).ok_or_else(|| GovernanceError::NotFound(format!("the assessment of `{id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_legitimate_interest_purpose_has_its_assessment_and_no_other() {
        let policy = Policy::example();
        let ids: Vec<String> =
            assessments(&policy).iter().map(|a| a["purpose"].as_str().unwrap_or("").to_owned()).collect();
        let expected: Vec<String> = policy
            .purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::LegitimateInterests)
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(ids, expected);
        assert!(!ids.is_empty());
        let one = assessment(&policy, "contact").expect("contact rests on legitimate interests");
        assert_eq!(
            one["balancing"],
            policy
                .purpose("contact")
                .and_then(|p| p.legitimate_interest.as_ref())
                .map(|l| l.balancing.clone())
                .unwrap_or_default()
        );
        assert!(matches!(assessment(&policy, "marketing"), Err(GovernanceError::Invalid { .. })));
        assert!(matches!(assessment(&policy, "nope"), Err(GovernanceError::NotFound(_))));
    }
}
