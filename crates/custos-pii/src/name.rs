//! Personal names: from the field's name (`first_name`, `nachname`, `customer.name`) and
//! the value's shape, and in free text from context: a courtesy title (`Herr Müller`,
//! `Mme Dupont`), an introduction (`my name is`, `je m'appelle`, `Regards,`), or a known
//! given name followed by a capitalised word (`Maria Garcia`, `Ludwig van Beethoven`).

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::lexicon::{INTRODUCTIONS, flag};
use crate::words::{Shape, Token, Tokens};

/// Values that stand for no one.
const PLACEHOLDERS: &[&str] =
    &["unknown", "n/a", "na", "none", "null", "test", "anonymous", "anonym", "redacted", "customer", "guest", "user"];

struct Ctx<'a> {
    value: &'a str,
    words: &'a Tokens,
    tokens: &'a [Token],
}

impl Ctx<'_> {
    fn text(&self, i: usize) -> &str {
        &self.value[self.tokens[i].start..self.tokens[i].end]
    }

    fn in_set(&self, i: usize, bits: u16) -> bool {
        self.words.has(i, bits)
    }

    fn capital(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.shape == Shape::Word && t.capital)
    }

    fn given(&self, i: usize) -> bool {
        self.in_set(i, flag::GIVEN)
    }

    fn ambiguous(&self, i: usize) -> bool {
        self.in_set(i, flag::AMBIGUOUS)
    }

    fn surname(&self, i: usize) -> bool {
        self.in_set(i, flag::SURNAME)
    }

    fn common(&self, i: usize) -> bool {
        self.in_set(i, flag::COMMON)
    }

    fn particle(&self, i: usize) -> bool {
        self.in_set(i, flag::PARTICLE)
    }

    fn street(&self, i: usize) -> bool {
        self.in_set(i, flag::STREET_AFTER | flag::STREET_BEFORE)
    }

    /// A single capital letter with a dot: a middle initial.
    fn initial(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.capital && t.end - t.start == 1 && t.dot_after)
    }

    /// A capitalised word that can be part of a name (not a common word, not a street type).
    fn namelike(&self, i: usize) -> bool {
        if !self.capital(i) || self.tokens[i].end - self.tokens[i].start < 2 || self.in_set(i, flag::TITLE) {
            return false;
        }
        if self.surname(i) || self.given(i) {
            return !self.street(i) || self.surname(i);
        }
        !self.common(i) && !self.street(i)
    }

    /// From `i`, the end (exclusive token index) of a run of name words: capitalised words,
    /// particles and initials, at most `max` words, without crossing a comma.
    fn name_run(&self, i: usize, max: usize) -> usize {
        let mut j = i;
        let mut words = 0;
        while j < self.tokens.len() && words < max {
            if j > i && self.tokens[j].break_before {
                break;
            }
            if self.namelike(j) || (j > i && self.initial(j)) {
                words += 1;
                j += 1;
            } else if j > i && self.particle(j) {
                // "van der Berg": particles, then a name word.
                let mut k = j;
                while k < self.tokens.len() && k - j < 3 && self.particle(k) && !self.tokens[k].break_before {
                    k += 1;
                }
                if k < self.tokens.len() && !self.tokens[k].break_before && self.namelike(k) {
                    j = k;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        // Do not end on a particle or an initial.
        while j > i && (self.particle(j - 1) && !self.capital(j - 1) || self.initial(j - 1)) {
            j -= 1;
        }
        j
    }
}

/// Finds the names in `value`.
pub(crate) fn scan(value: &str, hint: Hint, words: &Tokens, out: &mut Vec<Finding>) {
    let mut ctx = Ctx { value, words, tokens: &words.list };
    match hint {
        Hint::PersonName | Hint::MaybeName => {
            if let Some(f) = whole(&mut ctx, hint == Hint::PersonName) {
                out.push(f);
                return;
            }
            free_text(&mut ctx, false, out);
        }
        Hint::None => free_text(&mut ctx, false, out),
        Hint::NotAPerson => free_text(&mut ctx, true, out),
        Hint::NameBesideProduct => {
            if let Some(f) = whole(&mut ctx, false).filter(|f| f.confidence >= BEYOND_DOUBT) {
                out.push(f);
                return;
            }
            free_text(&mut ctx, true, out);
        }
        _ => {}
    }
}

/// The confidence of a whole value read as a name from both ends: a known given name first
/// and more words, or a known surname last after a capitalised word ("Daniel Gray"), which
/// products' names ("Wireless Mouse", "Organic Green Tea") rarely are.
const BEYOND_DOUBT: f32 = 0.85;

/// The whole value as one name, under a field named for one.
fn whole(ctx: &mut Ctx<'_>, certain: bool) -> Option<Finding> {
    let tokens = ctx.tokens;
    if tokens.is_empty() || tokens.len() > 6 || tokens.iter().any(|t| t.shape != Shape::Word) {
        return None;
    }
    let trimmed = ctx.value.trim();
    if PLACEHOLDERS.contains(&trimmed.to_lowercase().as_str()) || ctx.value.contains('@') {
        return None;
    }
    let start = tokens[0].start;
    let end = tokens[tokens.len() - 1].end;
    // Particles ("van", "du", "del") after the first word neither count nor need a capital.
    let particles = (1..tokens.len()).filter(|&i| ctx.particle(i)).count();
    let n = tokens.len() - particles;
    let mut hits = 0;
    let mut commons = 0;
    let mut capitals = 0;
    for (i, token) in tokens.iter().enumerate() {
        if ctx.particle(i) && i > 0 {
            continue;
        }
        if token.capital {
            capitals += 1;
        }
        if ctx.given(i) || ctx.surname(i) {
            hits += 1;
        } else if ctx.common(i) {
            commons += 1;
        }
    }
    if certain {
        let confidence = if hits > 0 { 0.95 } else { 0.9 };
        if commons == n {
            return None;
        }
        return Some(Finding::new(PiiType::PersonName, start, end, confidence));
    }
    if n > 4 || capitals == 0 {
        return None;
    }
    let last = tokens.len() - 1;
    let first_given = ctx.given(0) && (!ctx.ambiguous(0) || n > 1 && ctx.surname(last));
    let last_surname = n > 1 && ctx.surname(last) && !ctx.common(last);
    let confidence = if first_given && n > 1 || last_surname && ctx.capital(0) && !ctx.common(0) {
        0.85
    } else if n == 1 && first_given {
        0.65
    } else if n == 1 && ctx.surname(0) && !ctx.common(0) || n >= 2 && commons == 0 && capitals == n {
        0.55
    } else {
        return None;
    };
    Some(Finding::new(PiiType::PersonName, start, end, confidence))
}

fn push(ctx: &Ctx<'_>, from: usize, to: usize, confidence: f32, out: &mut Vec<Finding>) {
    let start = ctx.tokens[from].start;
    let end = ctx.tokens[to - 1].end;
    // "Peters & Jonker": surnames joined by an ampersand are a firm's ("Maria & Hans", led
    // by a given name, are people).
    let after = &ctx.value[end..];
    let ampersand = ctx.value[start..end].contains('&') || after.trim_start().starts_with('&');
    if names_a_firm(after) || ampersand && !ctx.given(from) {
        return;
    }
    out.push(Finding::new(PiiType::PersonName, start, end, confidence));
}

/// Courtesy titles that precede a name in lower case inside a sentence.
const LOWERCASE_TITLES: &[&str] = &[
    "signor",
    "signora",
    "signore",
    "signorina",
    "monsieur",
    "madame",
    "mademoiselle",
    "senor",
    "senora",
    "senorita",
    "heer",
    "mevrouw",
    "meneer",
    "pan",
    "pani",
];

/// Legal forms of companies, lowercase without dots: `GmbH`, `S.A.`, `Ltd`, `B.V.`.
const LEGAL_FORMS: &[&str] = &[
    "gmbh", "ag", "kg", "ohg", "ug", "ev", "ltd", "limited", "inc", "llc", "llp", "plc", "corp", "sa", "sarl", "sas",
    "sasu", "eurl", "sl", "sll", "slne", "slu", "scoop", "srl", "spa", "snc", "bv", "nv", "vof", "cv", "spzoo", "sc",
    "sk", "ska", "sp",
];

/// Whether the text after a run of name words makes them a firm's name: a legal form, perhaps
/// after more names ("Dupuy S.A.", "Silva Maestre S.Coop.", "Harloff GmbH"), or a family
/// firm's ending ("Vasseur et Fils", "Smith and Sons", "Bosch & Co").
fn names_a_firm(after: &str) -> bool {
    let mut words = after.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty());
    let mut next = words.next().unwrap_or("");
    // A legal form may come after one or two more capitalised names: "Silva Maestre S.Coop.".
    let bare =
        |word: &str| -> String { word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect() };
    for _ in 0..3 {
        if LEGAL_FORMS.contains(&bare(next).as_str()) && (next.contains('.') || next.chars().any(char::is_uppercase)) {
            return true;
        }
        let capitalised = next.chars().next().is_some_and(char::is_uppercase) && next.chars().any(char::is_lowercase);
        if !capitalised {
            break;
        }
        next = words.next().unwrap_or("");
    }
    if next == "&" || matches!(bare(next).as_str(), "and" | "et" | "y" | "e" | "und" | "en") {
        let family = words.next().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase());
        return family.is_some_and(|w| {
            matches!(
                w.as_str(),
                "sons" | "son" | "co" | "company" | "fils" | "cie" | "hijos" | "figli" | "söhne" | "zonen"
            )
        });
    }
    false
}

fn free_text(ctx: &mut Ctx<'_>, titles_only: bool, out: &mut Vec<Finding>) {
    let n = ctx.tokens.len();
    let mut i = 0;
    while i < n {
        if ctx.tokens[i].shape != Shape::Word {
            i += 1;
            continue;
        }
        // A courtesy title, perhaps two ("Frau Dr. Schmidt").
        let titled = ctx.in_set(i, flag::TITLE)
            && if ctx.capital(i) {
                ctx.text(i) != "M" || ctx.tokens[i].dot_after
            } else {
                // Inside a sentence, the Romance, Dutch and Polish titles are written in lower
                // case ("il signor Rossi", "de heer Jansen", "pan Kowalski", "dhr. Smit").
                ctx.tokens[i].shape == Shape::Word && LOWERCASE_TITLES.contains(&ctx.words.key(i))
                    || ctx.tokens[i].dot_after && matches!(ctx.words.key(i), "dhr" | "mevr" | "sig" | "sigra" | "dott")
            };
        if titled {
            let mut j = i + 1;
            if ctx.capital(j) && ctx.in_set(j, flag::TITLE) {
                j += 1;
            }
            let end = ctx.name_run(j, 3);
            if end > j {
                push(ctx, j, end, 0.85, out);
                i = end;
                continue;
            }
        }
        if titles_only {
            i += 1;
            continue;
        }
        // An introduction: "my name is", "Regards,", "Hi".
        if let Some(strong) = introduction_ending_at(ctx, i) {
            let j = i + 1;
            if j < n && ctx.capital(j) {
                let end = ctx.name_run(j, 3);
                let known = ctx.given(j) && !ctx.ambiguous(j) || ctx.surname(j) && end > j + 1;
                // After a bare English preposition ("by Artisan Leather"), only a known name.
                let preposition = matches!(ctx.words.key(i), "by" | "from" | "to" | "for" | "with" | "an" | "called");
                if end > j && (strong || known || end >= j + 2 && !preposition) {
                    let confidence = if strong || known { 0.8 } else { 0.6 };
                    push(ctx, j, end, confidence, out);
                    i = end;
                    continue;
                }
            }
        }
        // A known given name and a capitalised word: "Maria Garcia", "Jan van der Berg".
        if ctx.capital(i) && ctx.given(i) {
            let end = ctx.name_run(i, 4);
            if end >= i + 2 {
                let last = end - 1;
                let known_surname = (i + 1..end).any(|k| ctx.surname(k));
                let plain_surname = (i + 1..end).any(|k| ctx.surname(k) && !ctx.common(k));
                if !ctx.ambiguous(i) || plain_surname {
                    push(ctx, i, end, if known_surname { 0.9 } else { 0.75 }, out);
                    let _ = last;
                    i = end;
                    continue;
                }
            }
        }
        // "Müller, Hans".
        if ctx.capital(i) && ctx.surname(i) && !ctx.common(i) && i + 1 < n {
            let j = i + 1;
            if ctx.tokens[j].break_before
                && ctx.value[ctx.tokens[i].end..ctx.tokens[j].start].trim() == ","
                && ctx.capital(j)
                && ctx.given(j)
                && !ctx.ambiguous(j)
            {
                push(ctx, i, j + 1, 0.8, out);
                i = j + 1;
                continue;
            }
        }
        // "J. Smith".
        if ctx.initial(i) && i + 1 < n && ctx.capital(i + 1) && ctx.surname(i + 1) && !ctx.common(i + 1) {
            push(ctx, i, i + 2, 0.7, out);
            i += 2;
            continue;
        }
        // An unknown capitalised word and a known surname: "Siobhan Kowalczyk".
        if ctx.namelike(i)
            && !ctx.particle(i)
            && !ctx.tokens[i].all_caps
            && !ctx.given(i)
            && i + 1 < n
            && !ctx.tokens[i + 1].break_before
            && ctx.capital(i + 1)
            && ctx.surname(i + 1)
            && !ctx.common(i + 1)
            && !ctx.street(i + 1)
        {
            push(ctx, i, i + 2, 0.6, out);
            i += 2;
            continue;
        }
        i += 1;
    }
}

/// Whether an introduction phrase ends at token `i`, and whether it is a strong one.
fn introduction_ending_at(ctx: &mut Ctx<'_>, i: usize) -> Option<bool> {
    if !ctx.in_set(i, flag::INTRO_END) {
        return None;
    }
    let mut best: Option<bool> = None;
    for &(phrase, strong) in INTRODUCTIONS {
        let len = phrase.len();
        if len > i + 1 {
            continue;
        }
        if phrase[len - 1] != ctx.words.key(i) {
            continue;
        }
        let first = i + 1 - len;
        let matches =
            (0..len).all(|k| ctx.tokens[first + k].shape == Shape::Word && ctx.words.key(first + k) == phrase[k]);
        if matches {
            best = Some(best.unwrap_or(false) || strong);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokenize;

    fn names(value: &str, hint: Hint) -> Vec<&str> {
        let lex = crate::lexicon::Lexicon::new();
        let tokens = tokenize(value, &lex);
        let mut out = Vec::new();
        scan(value, hint, &tokens, &mut out);
        out.iter().filter(|f| f.confidence >= 0.5).map(|f| &value[f.start..f.end]).collect()
    }

    #[test]
    fn names_under_name_fields() {
        assert_eq!(names("Siobhan", Hint::PersonName), ["Siobhan"]);
        assert_eq!(names("García López", Hint::PersonName), ["García López"]);
        assert_eq!(names("Jane Doe", Hint::MaybeName), ["Jane Doe"]);
        assert_eq!(names("Paul du Didier", Hint::MaybeName), ["Paul du Didier"]);
        assert!(names("Wireless Mouse", Hint::MaybeName).is_empty());
        assert!(names("unknown", Hint::PersonName).is_empty());
        // Beside a product's fields, a bare name is a person's only beyond doubt.
        assert_eq!(names("Daniel Gray", Hint::NameBesideProduct), ["Daniel Gray"]);
        assert!(names("Wireless Mouse", Hint::NameBesideProduct).is_empty());
        assert!(names("Organic Green Tea", Hint::NameBesideProduct).is_empty());
        assert!(names("Wernher Schirmer", Hint::NameBesideProduct).is_empty(), "nothing known of it");
    }

    #[test]
    fn names_in_free_text() {
        assert_eq!(names("Please call Maria Garcia tomorrow.", Hint::None), ["Maria Garcia"]);
        assert_eq!(names("Sehr geehrter Herr Müller,", Hint::None), ["Müller"]);
        assert_eq!(names("Bonjour, je m'appelle Léa Moreau.", Hint::None), ["Léa Moreau"]);
        assert_eq!(names("Paket für Jan van der Berg", Hint::None), ["Jan van der Berg"]);
        assert_eq!(names("Best regards, Hannah", Hint::None), ["Hannah"]);
        assert_eq!(names("Spoke with Mme Dubois about it", Hint::None), ["Dubois"]);
        // Titles in lower case inside a sentence, and the Dutch "ten name van".
        assert_eq!(names("Il signor Noelia De Fabio chiede", Hint::None), ["Noelia De Fabio"]);
        assert_eq!(names("Graag bellen naar de heer Jansen.", Hint::None), ["Jansen"]);
        assert_eq!(names("Terugbetaling naar NL04 t.n.v. Manu Wuestemans.", Hint::None), ["Manu Wuestemans"]);
        assert_eq!(names("El cliente Máximo Andres pide", Hint::None), ["Máximo Andres"]);
        // A given name that is also a month in Dutch ("augustus").
        assert_eq!(names("Spoke to Augustus Dixon today", Hint::None), ["Augustus Dixon"]);
        assert!(names("Geleverd op 12 augustus 2024.", Hint::None).is_empty());
    }

    #[test]
    fn not_names() {
        assert!(names("Will ship on Monday.", Hint::None).is_empty());
        assert!(names("The order was shipped to Berlin.", Hint::None).is_empty());
        assert!(names("May Day sale", Hint::None).is_empty());
        assert!(names("Premium Wireless Mouse", Hint::None).is_empty());
        assert!(names("Thierry Peron SA renewed", Hint::None).is_empty());
        assert!(names("Ordered from Robert Dupuy S.A. last week", Hint::None).is_empty());
        assert!(names("Philippe Vasseur et Fils", Hint::None).is_empty());
        assert!(names("Maria Garcia & Co", Hint::None).is_empty());
        assert!(names("Peters & Jonker renewed its contract", Hint::None).is_empty());
        assert!(names("Gilberto Silva Maestre S.Coop. renewed", Hint::None).is_empty());
        assert!(names("a frying pan and a pot", Hint::None).is_empty());
        assert!(names("the client portal is down", Hint::None).is_empty());
        assert_eq!(names("Maria Garcia and Hans Müller came", Hint::None), ["Maria Garcia", "Hans Müller"]);
        assert!(!names("Maria Garcia & Hans Müller came", Hint::None).is_empty(), "people, not a firm");
    }
}
