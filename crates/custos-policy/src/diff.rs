//! What changed between two versions of the policy: the purposes, categories, recipients,
//! cookies and retention rules added, removed or changed, by id. The consent module uses it
//! to write change notices and to decide whose consent must be asked again.

use serde::{Deserialize, Serialize};

use crate::Policy;

/// Ids added, removed and changed in one part of the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Ids only in the newer version.
    pub added: Vec<String>,
    /// Ids only in the older version.
    pub removed: Vec<String>,
    /// Ids in both whose content differs.
    pub changed: Vec<String>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    fn between<T: PartialEq>(old: &[T], new: &[T], id: impl Fn(&T) -> &str) -> Self {
        let find = |list: &[T], key: &str| list.iter().position(|x| id(x) == key);
        let mut changes = Changes::default();
        for item in new {
            match find(old, id(item)) {
                None => changes.added.push(id(item).to_owned()),
                Some(i) if old[i] != *item => changes.changed.push(id(item).to_owned()),
                Some(_) => {}
            }
        }
        changes.removed = old.iter().filter(|x| find(new, id(x)).is_none()).map(|x| id(x).to_owned()).collect();
        changes
    }
}

/// What changed from one policy version to another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDiff {
    /// Purposes, by id.
    pub purposes: Changes,
    /// Data categories, by key.
    pub categories: Changes,
    /// Recipients, by id.
    pub recipients: Changes,
    /// Cookies, by name.
    pub cookies: Changes,
    /// Retention rules, by id.
    pub retention: Changes,
    /// Whether the controller, rights contact, subjects or security measures changed.
    pub other: bool,
}

impl PolicyDiff {
    /// The changes from `old` to `new`.
    pub fn between(old: &Policy, new: &Policy) -> Self {
        Self {
            purposes: Changes::between(&old.purposes, &new.purposes, |p| &p.id),
            categories: Changes::between(&old.categories, &new.categories, |c| &c.key),
            recipients: Changes::between(&old.recipients, &new.recipients, |r| &r.id),
            cookies: Changes::between(&old.cookies, &new.cookies, |c| &c.name),
            retention: Changes::between(&old.retention, &new.retention, |r| &r.id),
            other: old.controller != new.controller
                || old.rights != new.rights
                || old.subjects != new.subjects
                || old.security != new.security,
        }
    }

    /// Whether the two versions say the same.
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty()
            && self.categories.is_empty()
            && self.recipients.is_empty()
            && self.cookies.is_empty()
            && self.retention.is_empty()
            && !self.other
    }

    /// Consent purposes that are new or changed: the people who consented under the old
    /// version must be asked again for these.
    pub fn reconsent_purposes(&self, new: &Policy) -> Vec<String> {
        self.purposes
            .added
            .iter()
            .chain(&self.purposes.changed)
            .filter(|id| new.purpose(id).is_some_and(|p| p.legal_basis == crate::LegalBasis::Consent))
            .cloned()
            .collect()
    }
}
