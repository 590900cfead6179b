//! Aggregates across partners (seed 3.2): counts of people and sums of a measure, grouped
//! by dimensions the settings allow; nothing else can be asked.
//!
//! What protects the partners and their users:
//! - a group with fewer than `k` distinct pseudonyms is suppressed;
//! - a group where one partner contributes `dominance` or more of the people, or of the
//!   sum, is suppressed, so that one partner's figures cannot be read off a group;
//! - each person's contribution to a sum is clamped to the measure's bound;
//! - pseudonyms never leave: the answer holds only group values, counts and sums;
//! - optionally, Laplace noise of scale sensitivity / epsilon is added to each figure, and
//!   epsilon is charged to the dataset's privacy budget in the store before anything is
//!   computed; once spent, noisy queries are refused.
//!
//! Distinct pseudonyms are counted per partner: partners' pseudonyms are unrelated (their
//! indexes are bound to the partner), so the same person at two partners counts twice.
//! Records of partners whose contract is ending are left out.

use std::collections::{BTreeMap, HashMap, HashSet};

use custos_store::SubjectId;
use custos_vault::DataKey;
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::uploads::TABLE;
use super::{PartnerError, Partners, invalid};
use crate::gate::Actor;
use crate::vault::Vault;

/// The most dimensions one query groups by.
const MAX_DIMENSIONS: usize = 3;
/// Records read per page.
const PAGE: u32 = 1000;

/// A query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AggregateQuery {
    /// The dimensions to group by (allowed ones only).
    pub group_by: Vec<String>,
    /// The measure to add up, if any (allowed ones only).
    pub measure: Option<String>,
    /// The epsilon to spend on noise; no noise when absent.
    pub epsilon: Option<f64>,
}

/// One sample of the Laplace distribution centred on 0 with scale `b`, by inverting its
/// distribution function: for u uniform in (-1/2, 1/2), `-b · sign(u) · ln(1 - 2|u|)`.
/// Written here by hand (it is these few lines); `rand` supplies the uniform draw.
pub fn laplace(rng: &mut impl Rng, b: f64) -> f64 {
    loop {
        let u: f64 = rng.random::<f64>() - 0.5;
        let tail = 1.0 - 2.0 * u.abs();
        if tail > 0.0 {
            return -b * u.signum() * tail.ln();
        }
    }
}

/// The running figures of one group.
#[derive(Default)]
struct Group {
    /// Per (partner, pseudonym index): the person's total of the measure.
    people: HashMap<(Uuid, [u8; 32]), f64>,
}

impl Partners {
    /// Answers an aggregate query; see the module's documentation.
    pub async fn aggregate(&self, actor: &Actor, query: &AggregateQuery) -> Result<Value, PartnerError> {
        let settings = &self.settings.aggregation;
        let allowed = match actor {
            Actor::Service { purposes, .. } => purposes.contains(&settings.purpose),
            Actor::Staff { role, .. } => *role != crate::gate::StaffRole::Auditor,
            Actor::System => true,
            Actor::Subject(_) | Actor::Visitor => false,
        };
        if !allowed {
            return Err(PartnerError::Forbidden {
                code: "forbidden",
                message: format!("aggregates need a token for purpose `{}`", settings.purpose),
            });
        }
        if self.policy.purpose(&settings.purpose).is_none() {
            return Err(PartnerError::Forbidden {
                code: "aggregation_purpose_missing",
                message: format!("the policy declares no purpose `{}`", settings.purpose),
            });
        }
        if query.group_by.is_empty() || query.group_by.len() > MAX_DIMENSIONS {
            return Err(invalid("invalid_value", "group_by", format!("group by 1 to {MAX_DIMENSIONS} dimensions")));
        }
        for (i, d) in query.group_by.iter().enumerate() {
            if !settings.dimensions.contains(d) {
                return Err(invalid(
                    "dimension_not_allowed",
                    "group_by",
                    format!("`{d}` is not a dimension aggregates may use; allowed: {}", settings.dimensions.join(", ")),
                ));
            }
            if query.group_by[..i].contains(d) {
                return Err(invalid("invalid_value", "group_by", format!("`{d}` is named twice")));
            }
        }
        let bound = match &query.measure {
            None => None,
            Some(m) => Some(*settings.measures.get(m).ok_or_else(|| {
                invalid(
                    "measure_not_allowed",
                    "measure",
                    format!(
                        "`{m}` is not a measure aggregates may add up; allowed: {}",
                        settings.measures.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?),
        };
        if let Some(e) = query.epsilon
            && !(e.is_finite() && e > 0.0 && e <= settings.epsilon_budget)
        {
            return Err(invalid(
                "invalid_epsilon",
                "epsilon",
                format!("epsilon is a number above 0 and at most the budget, {}", settings.epsilon_budget),
            ));
        }
        // Pay first: a refused or failed computation after this still counts as spent.
        let budget = match query.epsilon {
            None => None,
            Some(e) => {
                match self.records.store().charge_privacy_budget(&settings.dataset, settings.epsilon_budget, e).await? {
                    Some(b) => Some(b),
                    None => {
                        let b = self.records.store().privacy_budget(&settings.dataset).await?;
                        let (spent, total) =
                            b.map_or((settings.epsilon_budget, settings.epsilon_budget), |b| (b.spent, b.total));
                        self.audit(
                            &actor.audit_name(),
                            "aggregate.refused",
                            Some(&settings.purpose),
                            json!({"rule": "privacy_budget_spent", "dataset": settings.dataset, "epsilon": e}),
                        )
                        .await?;
                        return Err(PartnerError::BudgetSpent { dataset: settings.dataset.clone(), spent, total });
                    }
                }
            }
        };

        let groups = self.collect_groups(&query.group_by, query.measure.as_deref()).await?;
        let mut out = Vec::new();
        let mut suppressed = 0u64;
        for (values, group) in groups {
            let people = group.people.len() as u64;
            let mut per_partner: HashMap<Uuid, (u64, f64)> = HashMap::new();
            let mut sum = 0.0;
            for ((partner, _), total) in &group.people {
                let v = bound.map_or(0.0, |b| total.clamp(-b, b));
                let e = per_partner.entry(*partner).or_default();
                e.0 += 1;
                e.1 += v.abs();
                sum += v;
            }
            let abs_sum: f64 = per_partner.values().map(|(_, s)| s).sum();
            let dominant = per_partner.values().any(|(n, s)| {
                (*n as f64) >= settings.dominance * people as f64
                    || (abs_sum > 0.0 && *s >= settings.dominance * abs_sum)
            });
            if people < settings.k || dominant {
                suppressed += 1;
                continue;
            }
            let dims: serde_json::Map<String, Value> = query
                .group_by
                .iter()
                .cloned()
                .zip(values.into_iter().map(|v| v.map_or(Value::Null, Value::String)))
                .collect();
            let mut row = json!({"dimensions": dims});
            match query.epsilon {
                None => {
                    row["count"] = json!(people);
                    if bound.is_some() {
                        row["sum"] = json!(sum);
                    }
                }
                Some(e) => {
                    // Sequential composition: a sum and a count each get half.
                    let share = if bound.is_some() { e / 2.0 } else { e };
                    let count = (people as f64 + laplace(&mut rand::rng(), 1.0 / share)).round().max(0.0);
                    row["count"] = json!(count as u64);
                    if let Some(b) = bound {
                        row["sum"] = json!(sum + laplace(&mut rand::rng(), b / share));
                    }
                }
            }
            out.push(row);
        }
        self.audit(
            &actor.audit_name(),
            "aggregate.query",
            Some(&settings.purpose),
            json!({"group_by": query.group_by, "measure": query.measure, "epsilon": query.epsilon,
                   "groups": out.len(), "suppressed": suppressed}),
        )
        .await?;
        Ok(json!({
            "groups": out,
            "suppressed_groups": suppressed,
            "k": settings.k,
            "dominance": settings.dominance,
            "measure": query.measure,
            "noise": budget.map(|b| json!({
                "mechanism": "laplace",
                "epsilon": query.epsilon,
                "dataset": b.dataset,
                "budget_total": b.total,
                "budget_spent": b.spent,
            })),
            "purpose": settings.purpose,
        }))
    }

    /// Reads every active partner's records and groups them.
    async fn collect_groups(
        &self,
        group_by: &[String],
        measure: Option<&str>,
    ) -> Result<BTreeMap<Vec<Option<String>>, Group>, PartnerError> {
        let store = self.records.store();
        let active: HashMap<Uuid, Uuid> = store
            .partners()
            .await?
            .into_iter()
            .filter(|p| p.contract_status == "active")
            .map(|p| (p.id, p.data_key_id))
            .collect();
        let mut keys: HashMap<Uuid, DataKey> = HashMap::new();
        let mut skipped: HashSet<Uuid> = HashSet::new();
        let mut groups: BTreeMap<Vec<Option<String>>, Group> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = store.all_partner_records(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for row in &page {
                let Some(key_id) = active.get(&row.partner_id) else { continue };
                if skipped.contains(&row.partner_id) {
                    continue;
                }
                let owner = SubjectId(*key_id);
                if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(row.partner_id) {
                    match self.records.vault().data_key(owner).await {
                        Ok(k) => {
                            slot.insert(k);
                        }
                        Err(
                            crate::vault::VaultAccessError::Erased { .. } | crate::vault::VaultAccessError::NoKey(_),
                        ) => {
                            skipped.insert(row.partner_id);
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                let Some(key) = keys.get(&row.partner_id) else { continue };
                let plain = Vault::open_value(key, TABLE, row.id, owner, &row.sealed)
                    .map_err(crate::vault::VaultAccessError::from)?;
                let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&plain) else { continue };
                let values: Vec<Option<String>> = group_by.iter().map(|d| fields.get(d).and_then(normalise)).collect();
                let amount = measure.and_then(|m| fields.get(m)).and_then(number).unwrap_or(0.0);
                *groups.entry(values).or_default().people.entry((row.partner_id, row.pseudonym_index)).or_default() +=
                    amount;
            }
        }
        Ok(groups)
    }
}

/// A dimension's value as grouped: strings trimmed, numbers and booleans as text.
fn normalise(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A measure's value: a number, or a string holding one (CSV).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn laplace_samples_have_the_right_spread() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 200_000;
        let b = 2.0;
        let samples: Vec<f64> = (0..n).map(|_| laplace(&mut rng, b)).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let mean_abs = samples.iter().map(|x| x.abs()).sum::<f64>() / n as f64;
        // E[X] = 0 and E[|X|] = b for Laplace(0, b).
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((mean_abs - b).abs() < 0.05, "mean absolute value {mean_abs}");
        assert!(samples.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn measures_are_read_from_numbers_and_csv_text() {
        assert_eq!(number(&json!(2.5)), Some(2.5));
        assert_eq!(number(&json!(" 7 ")), Some(7.0));
        assert_eq!(number(&json!("NaN")), None);
        assert_eq!(number(&json!(true)), None);
    }
}
