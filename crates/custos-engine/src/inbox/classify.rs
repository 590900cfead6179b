//! What a privacy mail asks for: one of the rights (seed 7, 8, 9), with a confidence, in
//! English, German, French, Spanish or Italian.
//!
//! The text (subject and body, quoted lines dropped) is folded to lower case without
//! accents and cut into words. Its language is the one whose stop words it uses most
//! ([`super::lexicon`]). Every phrase of every lexicon that occurs adds its weight to its
//! intent, at full weight in the detected language and at half weight in the others (a
//! German writer may say "newsletter"). A clear erasure takes in a withdrawal or an
//! objection beside it (erasing ends that processing too). The best intent wins; the
//! confidence grows with
//! its score and with its lead over the runner-up, so a mail that names two rights
//! equally, or none clearly, falls below [`THRESHOLD`] and goes to staff.

use serde::{Deserialize, Serialize};

use super::lexicon::LEXICONS;

/// Below this confidence a mail goes to staff for triage.
pub const THRESHOLD: f32 = 0.5;

/// A score that names a right clearly (one strong phrase).
const STRONG: f32 = 1.5;

/// Rights that include others: erasing a person's data ends whatever processing a
/// withdrawal or an objection would stop, so a mail that clearly asks for erasure and also
/// withdraws or objects is an erasure (Art. 17(1)(b), (c) and (d)).
const COVERS: &[(Intent, &[Intent])] =
    &[(Intent::Erasure, &[Intent::Withdrawal, Intent::Objection, Intent::ObjectionMarketing])];

/// What a mail can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A copy of one's data and what is done with it (Art. 15).
    Access,
    /// Correcting wrong data (Art. 16).
    Rectification,
    /// Deleting one's data (Art. 17).
    Erasure,
    /// Restricting processing (Art. 18).
    Restriction,
    /// One's data in a portable format (Art. 20).
    Portability,
    /// Objecting to direct marketing, unsubscribing (Art. 21(2), seed 9).
    ObjectionMarketing,
    /// Objecting to processing on legitimate interests (Art. 21(1)).
    Objection,
    /// Withdrawing consent (Art. 7(3), seed 7).
    Withdrawal,
    /// The assessment behind processing on legitimate interests (seed 7).
    LiInformation,
}

impl Intent {
    /// Every intent, in a fixed order.
    pub const ALL: [Intent; 9] = [
        Intent::Access,
        Intent::Rectification,
        Intent::Erasure,
        Intent::Restriction,
        Intent::Portability,
        Intent::ObjectionMarketing,
        Intent::Objection,
        Intent::Withdrawal,
        Intent::LiInformation,
    ];

    /// Its name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Access => "access",
            Intent::Rectification => "rectification",
            Intent::Erasure => "erasure",
            Intent::Restriction => "restriction",
            Intent::Portability => "portability",
            Intent::ObjectionMarketing => "objection_marketing",
            Intent::Objection => "objection",
            Intent::Withdrawal => "withdrawal",
            Intent::LiInformation => "li_information",
        }
    }

    /// The intent named `name` (as [`Intent::as_str`] gives it).
    pub fn parse(name: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == name)
    }
}

/// What the classifier concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The best intent, if any phrase matched at all.
    pub intent: Option<Intent>,
    /// The language told from stop words (ISO 639-1; `en` when none is found).
    pub language: &'static str,
    /// How sure: 0 (nothing matched) to just under 1.
    pub confidence: f32,
    /// Whether the mail speaks of marketing (a withdrawal or objection then concerns it).
    pub marketing: bool,
}

impl Classification {
    /// The intent when the confidence reaches [`THRESHOLD`]; `None` sends the mail to triage.
    pub fn confident(&self) -> Option<Intent> {
        self.intent.filter(|_| self.confidence >= THRESHOLD)
    }
}

/// Classifies `text`.
pub fn classify(text: &str) -> Classification {
    let words = words(&without_quotes(text));
    let language = language(&words);
    let mut scores = [0f32; Intent::ALL.len()];
    for lexicon in LEXICONS {
        let factor = if lexicon.language == language { 1.0 } else { 0.5 };
        for (intent, phrase, weight) in lexicon.phrases {
            if occurs(&words, phrase) {
                scores[*intent as usize] += weight * factor;
            }
        }
    }
    let marketing = scores[Intent::ObjectionMarketing as usize] > 0.0;
    for (wide, narrower) in COVERS {
        if scores[*wide as usize] >= STRONG {
            for narrow in *narrower {
                scores[*wide as usize] += scores[*narrow as usize];
                scores[*narrow as usize] = 0.0;
            }
        }
    }
    let mut ranked: Vec<(Intent, f32)> = Intent::ALL.into_iter().zip(scores).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, top) = ranked[0];
    let second = ranked[1].1;
    if top <= 0.0 {
        return Classification { intent: None, language, confidence: 0.0, marketing };
    }
    // Strength saturates with the score (1 -> 0.5, 3 -> 0.75); the lead over the
    // runner-up scales it between one half (a tie) and one (no rival).
    let strength = top / (top + 1.0);
    let lead = (top - second) / top;
    let confidence = strength * (0.5 + 0.5 * lead);
    Classification { intent: Some(best), language, confidence, marketing }
}

/// The language whose stop words occur most in `words`; English when none does.
pub fn language(words: &[String]) -> &'static str {
    let mut best = ("en", 0usize);
    for lexicon in LEXICONS {
        let hits = words.iter().filter(|w| lexicon.stop_words.contains(&w.as_str())).count();
        if hits > best.1 {
            best = (lexicon.language, hits);
        }
    }
    best.0
}

/// `text` without the lines a reply quotes (`> …`) and without what follows a usual
/// "On … wrote:" or signature line.
fn without_quotes(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "--" || trimmed == "-- " || trimmed.starts_with("-----Original") {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `text` in lower case, accents folded, cut into words of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => folded.push('a'),
            'ç' => folded.push('c'),
            'è' | 'é' | 'ê' | 'ë' => folded.push('e'),
            'ì' | 'í' | 'î' | 'ï' => folded.push('i'),
            'ñ' => folded.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => folded.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => folded.push('u'),
            'ß' => folded.push_str("ss"),
            'œ' => folded.push_str("oe"),
            c if c.is_alphanumeric() || c == '*' => folded.push(c),
            _ => folded.push(' '),
        }
    }
    folded.split_whitespace().map(str::to_owned).collect()
}

/// Whether the words of `phrase` occur in `words` in order, each within three words of
/// the one before.
fn occurs(words: &[String], phrase: &str) -> bool {
    let wanted = self::words(phrase);
    let Some(first) = wanted.first() else { return false };
    'start: for (i, w) in words.iter().enumerate() {
        if !word_matches(w, first) {
            continue;
        }
        let mut at = i;
        for next in &wanted[1..] {
            let window = words.iter().enumerate().skip(at + 1).take(3);
            match window.into_iter().find(|(_, w)| word_matches(w, next)) {
                Some((j, _)) => at = j,
                None => continue 'start,
            }
        }
        return true;
    }
    false
}

/// Whether `word` is `pattern`, or begins with it when the pattern ends in `*`.
fn word_matches(word: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sure(text: &str) -> (Option<Intent>, &'static str) {
        let c = classify(text);
        (c.confident(), c.language)
    }

    #[test]
    fn scores_are_indexed_in_the_order_of_all() {
        for (n, intent) in Intent::ALL.into_iter().enumerate() {
            assert_eq!(intent as usize, n);
            assert_eq!(Intent::parse(intent.as_str()), Some(intent));
        }
    }

    #[test]
    fn words_fold_case_and_accents() {
        assert_eq!(
            words("Löschen Sie BITTE meine Daten! Suppression, accès."),
            ["loschen", "sie", "bitte", "meine", "daten", "suppression", "acces"]
        );
    }

    #[test]
    fn phrases_match_in_order_with_small_gaps() {
        let w = words("please delete all of my personal data");
        assert!(occurs(&w, "delet*"));
        assert!(occurs(&w, "delete my data"), "gaps of up to two words");
        assert!(!occurs(&w, "data delete"), "order counts");
        assert!(!occurs(&words("delete it. Then, much later on in the text, data"), "delete data"));
    }

    // Phrasings written apart from the lexicon, as people write them.
    #[test]
    fn english_requests() {
        assert_eq!(
            sure("Hi, please remove all my information from your systems and forget me."),
            (Some(Intent::Erasure), "en")
        );
        assert_eq!(
            sure("Could you tell me what data you are holding on me? I want a full copy of my personal data."),
            (Some(Intent::Access), "en")
        );
        assert_eq!(
            sure("I no longer want your newsletter, unsubscribe me please"),
            (Some(Intent::ObjectionMarketing), "en")
        );
        assert_eq!(
            sure("My date of birth in your records is wrong, please correct my profile."),
            (Some(Intent::Rectification), "en")
        );
        assert_eq!(
            sure("I hereby withdraw my consent to the processing of my data."),
            (Some(Intent::Withdrawal), "en")
        );
        assert_eq!(
            sure("Please send me my data in a machine-readable format so I can move to another provider."),
            (Some(Intent::Portability), "en")
        );
        assert_eq!(
            sure("How did you decide that your legitimate interests outweigh mine? Send me the balancing test."),
            (Some(Intent::LiInformation), "en")
        );
        assert_eq!(
            sure("I object to you using my data for profiling based on your interests."),
            (Some(Intent::Objection), "en")
        );
        assert_eq!(
            sure("While you check my complaint, restrict the processing of my account data."),
            (Some(Intent::Restriction), "en")
        );
    }

    #[test]
    fn german_requests() {
        assert_eq!(
            sure("Sehr geehrte Damen und Herren, bitte löschen Sie alle meine Daten und mein Konto."),
            (Some(Intent::Erasure), "de")
        );
        assert_eq!(
            sure("Ich möchte wissen, welche Daten Sie über mich gespeichert haben, und bitte um Auskunft."),
            (Some(Intent::Access), "de")
        );
        assert_eq!(
            sure("Hiermit widerrufe ich meine Einwilligung zur Verarbeitung meiner Daten."),
            (Some(Intent::Withdrawal), "de")
        );
        assert_eq!(
            sure("Bitte keine Werbung mehr an mich, ich will mich vom Newsletter abmelden."),
            (Some(Intent::ObjectionMarketing), "de")
        );
        assert_eq!(
            sure("Meine Adresse ist falsch gespeichert, bitte berichtigen Sie sie."),
            (Some(Intent::Rectification), "de")
        );
    }

    #[test]
    fn french_spanish_italian_requests() {
        assert_eq!(
            sure("Bonjour, je vous demande de supprimer toutes mes données personnelles. Merci."),
            (Some(Intent::Erasure), "fr")
        );
        assert_eq!(
            sure("Je souhaite exercer mon droit d'accès et recevoir une copie de mes données."),
            (Some(Intent::Access), "fr")
        );
        assert_eq!(
            sure("Hola, por favor borren mis datos personales de su base de datos."),
            (Some(Intent::Erasure), "es")
        );
        assert_eq!(
            sure("Quiero darme de baja de su boletín y no recibir más publicidad."),
            (Some(Intent::ObjectionMarketing), "es")
        );
        assert_eq!(
            sure("Buongiorno, chiedo la cancellazione dei miei dati personali. Grazie."),
            (Some(Intent::Erasure), "it")
        );
        assert_eq!(
            sure("Vorrei sapere quali dati conservate su di me e averne una copia dei miei dati."),
            (Some(Intent::Access), "it")
        );
        assert_eq!(
            sure("Con la presente revoco il mio consenso al trattamento dei dati."),
            (Some(Intent::Withdrawal), "it")
        );
    }

    #[test]
    fn an_erasure_covers_the_withdrawal_or_objection_beside_it() {
        assert_eq!(
            sure("Hiermit widerrufe ich meine Einwilligung und bitte Sie, meine Daten zu löschen."),
            (Some(Intent::Erasure), "de")
        );
        assert_eq!(sure("Unsubscribe me from everything and erase my account, thanks."), (Some(Intent::Erasure), "en"));
        assert_eq!(sure("Je retire mon consentement : merci d'effacer mes données."), (Some(Intent::Erasure), "fr"));
    }

    #[test]
    fn vague_or_mixed_mail_goes_to_triage() {
        let c = classify("Hello, I have a question about my last order, it has not arrived.");
        assert_eq!((c.intent, c.confident()), (None, None));
        assert_eq!(c.confidence, 0.0);
        let mixed = classify("Please delete my data. Also give me a copy of my data before.");
        assert!(mixed.confident().is_none(), "two rights equally strong: {mixed:?}");
        let weak = classify("Something about consent?");
        assert!(weak.intent.is_some() && weak.confident().is_none(), "a hint alone is not enough: {weak:?}");
    }

    #[test]
    fn quoted_text_does_not_count() {
        let reply = "Thanks, that is fine.\n\nOn Monday, custos wrote:\n> Your erasure request is done\n> delete";
        assert_eq!(classify(reply).intent, None);
    }

    #[test]
    fn marketing_is_noticed_beside_a_withdrawal() {
        let c = classify("I withdraw my consent to marketing emails.");
        assert_eq!((c.confident(), c.marketing), (Some(Intent::Withdrawal), true));
    }
}
