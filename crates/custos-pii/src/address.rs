//! Postal addresses: a street type with a house number, in each locale's order
//! (`221B Baker Street`, `12 rue de la Paix`, `Calle Mayor 5`, `Via Roma 10`,
//! `Hauptstraße 12`, `Keizersgracht 123`), post-office boxes, and whatever the field's name
//! says is an address. A match runs on over a following postcode and town.

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::lexicon::{STREET_SUFFIXES, flag};
use crate::words::{Shape, Token, Tokens};

/// Finds the addresses in `value`.
pub(crate) fn scan(value: &str, hint: Hint, words: &Tokens, out: &mut Vec<Finding>) {
    let tokens = &words.list[..];
    match hint {
        Hint::Address => {
            let has_word = tokens.iter().any(|t| t.shape == Shape::Word);
            let has_number = tokens.iter().any(|t| t.shape == Shape::Number);
            if has_word {
                let start = tokens[0].start;
                let end = tokens[tokens.len() - 1].end;
                let mut found = Vec::new();
                free_text(value, words, &mut found);
                let confidence = if has_number || !found.is_empty() { 0.9 } else { 0.6 };
                out.push(Finding::new(PiiType::PostalAddress, start, end, confidence));
            }
        }
        Hint::Postcode
            if !tokens.is_empty() && tokens.len() <= 3 && tokens.iter().any(|t| t.shape == Shape::Number) =>
        {
            let start = tokens[0].start;
            let end = tokens[tokens.len() - 1].end;
            out.push(Finding::new(PiiType::PostalAddress, start, end, 0.45));
        }
        // A product's, a company's or a file's name is not an address.
        Hint::None | Hint::MaybeName | Hint::PersonName => free_text(value, words, out),
        _ => {}
    }
}

/// A house number: `12`, `221B`, `5a`.
fn house_number(value: &str, t: &Token) -> bool {
    if t.shape != Shape::Number {
        return false;
    }
    let s = &value.as_bytes()[t.start..t.end];
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=5).contains(&digits) && s.len() - digits <= 2 && s[digits..].iter().all(u8::is_ascii_alphabetic)
}

struct Scan<'a> {
    value: &'a str,
    words: &'a Tokens,
    tokens: &'a [Token],
}

impl Scan<'_> {
    fn key(&self, i: usize) -> &str {
        self.words.key(i)
    }

    fn word(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.shape == Shape::Word)
    }

    fn capital(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| t.shape == Shape::Word && t.capital)
    }

    fn number(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| house_number(self.value, t))
    }

    /// Whether a street type at `j` can end a street: a weak one ("Drive", "Green") only
    /// before a break, a number or the end ("Hard Drive 2TB" and "Green Tea" are not
    /// streets).
    fn ends_a_street(&self, j: usize) -> bool {
        if !self.words.has(j, flag::WEAK_STREET) {
            return true;
        }
        match self.tokens.get(j + 1) {
            None => true,
            Some(next) => {
                next.break_before
                    || next.shape == Shape::Number
                    || next.all_caps && next.end - next.start <= 2
                    || matches!(
                        self.key(j + 1),
                        "apt" | "apartment" | "suite" | "ste" | "unit" | "flat" | "fl" | "floor" | "room" | "bldg"
                    )
            }
        }
    }

    /// A word that can be part of a street's name: not a unit or code such as `TB`, `USB`.
    fn name_word(&self, i: usize) -> bool {
        self.capital(i) && !self.tokens[i].all_caps || self.ordinal(i)
    }

    /// An ordinal street name: `5th` in "350 5th Avenue".
    fn ordinal(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| {
            let s = &self.value.as_bytes()[t.start..t.end];
            t.shape == Shape::Number
                && s.len() >= 3
                && s.len() <= 6
                && [&b"st"[..], b"nd", b"rd", b"th"].iter().any(|suffix| s.to_ascii_lowercase().ends_with(suffix))
        })
    }

    fn after_type(&self, i: usize) -> bool {
        // "CIR-28885" is a code, not a circle.
        let t = self.tokens.get(i);
        if t.is_some_and(|t| t.all_caps && t.end - t.start <= 4 && !t.dot_after) {
            return false;
        }
        self.words.has(i, flag::STREET_AFTER)
    }

    fn before_type(&self, i: usize) -> bool {
        if !self.word(i) {
            return false;
        }
        if self.key(i) == "c" {
            // "C/ Mayor", "C. Mayor": only with the slash or the capital and dot.
            return self.value.as_bytes().get(self.tokens[i].end) == Some(&b'/')
                || self.capital(i) && self.tokens[i].dot_after;
        }
        self.words.has(i, flag::STREET_BEFORE)
    }

    fn particle(&self, i: usize) -> bool {
        self.words.has(i, flag::PARTICLE)
    }

    /// A one-word street name: a capitalised word ending in a street type (`Hauptstraße`,
    /// `Bahnhofstr.`, `Keizersgracht`).
    fn compound(&self, i: usize) -> bool {
        if !self.capital(i) {
            return false;
        }
        let dot = self.tokens[i].dot_after;
        let k = self.key(i);
        // English words that end like a Danish street: "Renegade 2" is a game.
        if matches!(k, "brigade" | "renegade") {
            return false;
        }
        STREET_SUFFIXES.iter().any(|s| {
            let folded = if *s == "straße" { "strasse" } else { s };
            k.len() >= folded.len() + 3 && k.ends_with(folded) && (folded != "str" || dot)
        })
    }

    /// Whether no comma or sentence end stands between tokens `a` and `b` (a < b); the dot
    /// of an abbreviation (`Str.`, `St.`) does not count.
    fn joined(&self, a: usize, b: usize) -> bool {
        (a + 1..=b).all(|k| !self.tokens[k].break_before || self.abbreviation_gap(k))
    }

    /// Whether only the dot of an abbreviation and spaces stand before token `k`.
    fn abbreviation_gap(&self, k: usize) -> bool {
        k > 0 && {
            let gap = &self.value[self.tokens[k - 1].end..self.tokens[k].start];
            gap.starts_with('.') && gap[1..].trim().is_empty()
        }
    }

    /// Extends a match ending at token `end` (exclusive) over an apartment, a postcode and a
    /// town: returns the new end and whether a postcode was seen.
    fn tail(&self, mut end: usize) -> (usize, bool) {
        let mut postcode = false;
        let mut taken = 0;
        let mut breaks = 0;
        while end < self.tokens.len() && taken < 8 {
            let t = self.tokens[end];
            // A sentence ends here, unless the dot was an abbreviation's ("Apt. 194").
            let abbreviation = self.abbreviation_gap(end) && {
                let prev = self.tokens[end - 1];
                prev.shape == Shape::Word && prev.end - prev.start <= 4
            };
            if t.sentence_before && (!t.break_before || self.value[..t.start].ends_with(". ")) && !abbreviation {
                break;
            }
            if t.break_before {
                breaks += 1;
                if breaks > 3 {
                    break;
                }
            }
            if t.shape == Shape::Number {
                postcode |= t.end - t.start >= 4;
            } else if !(t.capital || t.all_caps) {
                break;
            }
            end += 1;
            taken += 1;
        }
        (end, postcode)
    }
}

fn free_text(value: &str, words: &Tokens, out: &mut Vec<Finding>) {
    let tokens = &words.list[..];
    let mut s = Scan { value, words, tokens };
    let n = tokens.len();
    military(&s, out);
    let mut i = 0;
    while i < n {
        if let Some((from, to)) = street_at(&mut s, i) {
            let (end, postcode) = s.tail(to);
            let start = tokens[from].start;
            out.push(Finding::new(
                PiiType::PostalAddress,
                start,
                tokens[end - 1].end,
                if postcode { 0.92 } else { 0.9 },
            ));
            i = end;
            continue;
        }
        i += 1;
    }
    unknown_streets(&s, out);
}

/// US military mail: `PSC 9868, Box 4010, APO AE 11744`, `Unit 7016 Box 8773, DPO AE
/// 29834`, `USNS Snyder, FPO AA 10648`: the post office (APO, FPO, DPO), the armed forces'
/// "state" (AA, AE, AP) and a ZIP code, with the unit or ship before them.
fn military(s: &Scan<'_>, out: &mut Vec<Finding>) {
    let n = s.tokens.len();
    for i in 0..n.saturating_sub(2) {
        let zip = s.tokens[i + 2];
        if !(matches!(s.key(i), "apo" | "fpo" | "dpo")
            && s.tokens[i].all_caps
            && matches!(s.key(i + 1), "aa" | "ae" | "ap")
            && s.tokens[i + 1].all_caps
            && zip.shape == Shape::Number
            && zip.end - zip.start == 5)
        {
            continue;
        }
        let first = (i.saturating_sub(6)..i)
            .find(|&k| s.tokens[k].all_caps && matches!(s.key(k), "psc" | "cmr" | "usns" | "uss") || s.key(k) == "unit")
            .unwrap_or(i);
        out.push(Finding::new(PiiType::PostalAddress, s.tokens[first].start, zip.end, 0.92));
    }
}

/// A street with its house number around token `i`: (first token, end token exclusive).
fn street_at(s: &mut Scan<'_>, i: usize) -> Option<(usize, usize)> {
    let n = s.tokens.len();
    // "Flat 10, Grace Views", "Studio 2\nSmith Expressway": a flat's number, then the street
    // (its name words and type), the house not numbered.
    if s.capital(i)
        && matches!(s.key(i), "flat" | "studio" | "apartment" | "apt" | "suite" | "maisonette")
        && s.number(i + 1)
        && s.name_word(i + 2)
    {
        let mut j = i + 2;
        let mut last_type = None;
        while j < n && j - i <= 6 && (s.name_word(j) || j > i + 2 && s.after_type(j)) && s.joined(i + 2, j) {
            if j > i + 2 && s.after_type(j) {
                last_type = Some(j);
            }
            j += 1;
        }
        if let Some(j) = last_type.filter(|&j| s.ends_a_street(j)) {
            return Some((i, j + 1));
        }
    }
    // "221B Baker Street", "1600 Pennsylvania Avenue NW": number, 1-4 capitalised words, type.
    if s.number(i) {
        // The last street type after at least one capitalised word: "81 Park Drive".
        let mut j = i + 1;
        let mut last_type = None;
        while j < n && j - i <= 5 && (s.name_word(j) || j > i + 1 && s.after_type(j)) && s.joined(i, j) {
            if j > i + 1 && s.after_type(j) {
                last_type = Some(j);
            }
            j += 1;
        }
        if let Some(j) = last_type.filter(|&j| s.ends_a_street(j)) {
            let mut end = j + 1;
            // A direction after the type: NW, SE.
            if end < n && s.tokens[end].all_caps && s.tokens[end].end - s.tokens[end].start <= 2 && s.joined(j, end) {
                end += 1;
            }
            return Some((i, end));
        }
        // "12 rue de la Paix", "5 avenue Foch", "12, rue de Rivoli".
        let comma_only = |s: &Scan<'_>| s.value[s.tokens[i].end..s.tokens[i + 1].start].trim() == ",";
        if i + 2 < n && s.before_type(i + 1) && (s.joined(i, i + 2) || comma_only(s) && s.joined(i + 1, i + 2)) {
            let mut j = i + 2;
            let mut named = false;
            while j < n && j - i <= 7 && !s.tokens[j].break_before && s.word(j) {
                if s.capital(j) {
                    named = true;
                } else if !s.particle(j) && !matches!(s.key(j), "bis" | "ter") {
                    break;
                }
                j += 1;
            }
            if named {
                return Some((i, j));
            }
        }
        return None;
    }
    // "Calle Mayor 5", "Via dei Mille, 24", "C/ Mayor 5"; "Berliner Straße 12" (the number
    // right after a type written after the name, and not a weak one: "Green Tea, 50").
    let after_named = s.capital(i) && s.after_type(i + 1) && !s.words.has(i + 1, flag::WEAK_STREET);
    if s.word(i) && (s.before_type(i) && (s.capital(i) || s.capital(i + 1)) || after_named) {
        let mut j = i + 1;
        let mut named = false;
        while j < n && j - i <= 6 && s.word(j) && s.joined(j - 1, j) {
            if s.capital(j) {
                named = true;
            } else if !s.particle(j) {
                break;
            }
            j += 1;
        }
        let next_to =
            |s: &Scan<'_>| s.tokens[j].start - s.tokens[j - 1].end <= 3 && (!after_named || s.joined(j - 1, j));
        if named && j < n && s.number(j) && (j - i <= 6) && next_to(s) {
            return Some((i, j + 1));
        }
    }
    // "Hauptstraße 12", "Keizersgracht 123".
    if s.number(i + 1) && s.joined(i, i + 1) && s.compound(i) {
        return Some((i, i + 2));
    }
    // "PO Box 123", "Postfach 12 34", "Apartado 45".
    if s.capital(i) && s.tokens.get(i + 1).is_some_and(|t| t.shape == Shape::Number) {
        let k = s.key(i);
        if s.words.has(i, flag::PO_BOX) && k != "box" {
            return Some((i, i + 2));
        }
        if k == "box" && i > 0 && matches!(s.key(i - 1), "po" | "o") {
            let first = if i > 1 && s.key(i - 1) == "o" && s.key(i - 2) == "p" { i - 2 } else { i - 1 };
            return Some((first, i + 2));
        }
    }
    None
}

/// Words that head a numbered thing, not a street: "Order 12, 10115 Berlin" is no address.
const NOT_STREETS: &[&str] = &[
    "order", "invoice", "ticket", "version", "build", "room", "page", "item", "items", "step", "chapter", "table",
    "case", "ref", "no", "nr", "number", "total", "qty", "quantity", "size", "line", "level", "gate", "seat",
    "platform", "flight", "bus", "route", "week", "day", "year", "vol", "part", "section", "article", "art",
];

/// Streets of no type we know, told by what follows them: a house number, a comma, a
/// postcode of a common shape and a town ("Balingerbrink 664, 1428 XI De Haal",
/// "Alt-Biesdorf 680, 65734 Marktbreit", "Recanto do Forno, 51, 06976 Costa Blanca", "921
/// Greenmill Bend, 2275 Mesa"). Read back from each postcode, so that a value without one
/// costs a look at its numbers.
fn unknown_streets(s: &Scan<'_>, out: &mut Vec<Finding>) {
    let n = s.tokens.len();
    let comma_before = |k: usize| s.value[s.tokens[k - 1].end..s.tokens[k].start].trim() == ",";
    // The first token of the street's name words ending at `last` (inclusive), if they are
    // 1-5 capitalised words (particles inside) naming no numbered thing ("Order", "Room").
    let named_back = |last: usize| -> Option<usize> {
        let mut first = last + 1;
        while first > 0 && last + 1 - first < 5 {
            let j = first - 1;
            let word = s.name_word(j) && !NOT_STREETS.contains(&s.key(j)) || j < last && s.particle(j);
            if !word || j < last && s.tokens[j + 1].break_before {
                break;
            }
            first = j;
        }
        while first <= last && s.particle(first) && !s.capital(first) {
            first += 1;
        }
        let blocked = first > 0 && s.name_word(first - 1) && NOT_STREETS.contains(&s.key(first - 1));
        (first <= last && s.name_word(first) && !blocked).then_some(first)
    };
    let town = |k: usize| s.capital(k) && !s.tokens[k].all_caps && !s.words.has(k, flag::COMMON);
    for k in 2..n {
        let Some(code_end) = postcode_at(s, k) else { continue };
        let at = s.tokens[k].start;
        if out.iter().any(|f| f.kind == PiiType::PostalAddress && f.start <= at && at < f.end) {
            continue;
        }
        if !comma_before(k)
            || !(code_end < n && (town(code_end) || s.capital(code_end) && s.particle(code_end) && town(code_end + 1)))
        {
            continue;
        }
        let start = if s.number(k - 1) {
            // "Oeverzwaluw 1163, 1478 FL …", "Recanto do Forno, 51, 06976 …".
            let gap_ok = !s.tokens[k - 1].break_before || comma_before(k - 1);
            if !gap_ok {
                continue;
            }
            named_back(k - 2)
        } else {
            // "921 Greenmill Bend, 2275 Mesa".
            named_back(k - 1)
                .filter(|&first| first > 0 && s.number(first - 1) && !s.tokens[first].break_before)
                .map(|f| f - 1)
        };
        let Some(start) = start else { continue };
        let (end, _) = s.tail(code_end);
        out.push(Finding::new(PiiType::PostalAddress, s.tokens[start].start, s.tokens[end - 1].end, 0.9));
    }
}

/// The end of a postcode of a common shape starting at token `k`: five digits (DE, FR, ES,
/// IT, US), four digits and two capitals (NL), two and three digits (PL), or four digits
/// (AT, BE, CH, DK, AU, and others).
fn postcode_at(s: &Scan<'_>, k: usize) -> Option<usize> {
    let t = s.tokens.get(k)?;
    let text = &s.value[t.start..t.end];
    if t.shape != Shape::Number || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.len() {
        5 => Some(k + 1),
        4 => {
            let next = s.tokens.get(k + 1);
            let letters = next.is_some_and(|x| x.all_caps && x.end - x.start == 2 && !x.break_before);
            Some(if letters { k + 2 } else { k + 1 })
        }
        2 => {
            let next = s.tokens.get(k + 1)?;
            let dash = &s.value[t.end..next.start] == "-";
            (dash && next.shape == Shape::Number && next.end - next.start == 3).then_some(k + 2)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokenize;

    fn addresses(value: &str) -> Vec<&str> {
        let lex = crate::lexicon::Lexicon::new();
        let tokens = tokenize(value, &lex);
        let mut out = Vec::new();
        scan(value, Hint::None, &tokens, &mut out);
        out.iter().filter(|f| f.confidence >= 0.5).map(|f| &value[f.start..f.end]).collect()
    }

    #[test]
    fn streets_in_each_locale() {
        assert_eq!(
            addresses("Ship to 221B Baker Street, London NW1 6XE please"),
            ["221B Baker Street, London NW1 6XE"]
        );
        assert_eq!(
            addresses("1600 Pennsylvania Avenue NW, Washington, DC 20500"),
            ["1600 Pennsylvania Avenue NW, Washington, DC 20500"]
        );
        assert_eq!(addresses("Lieferung an Hauptstraße 12, 10115 Berlin."), ["Hauptstraße 12, 10115 Berlin"]);
        assert_eq!(addresses("au 12 rue de la Paix, 75002 Paris"), ["12 rue de la Paix, 75002 Paris"]);
        assert_eq!(addresses("vivo en Calle Mayor 5, 28013 Madrid"), ["Calle Mayor 5, 28013 Madrid"]);
        assert_eq!(addresses("Via dei Mille, 24"), ["Via dei Mille, 24"]);
        assert_eq!(addresses("Keizersgracht 123, 1015 CJ Amsterdam"), ["Keizersgracht 123, 1015 CJ Amsterdam"]);
        assert_eq!(addresses("PO Box 4521"), ["PO Box 4521"]);
        assert_eq!(addresses("350 5th Ave, New York"), ["350 5th Ave, New York"]);
        assert_eq!(
            addresses("Flat 10\nGrace Views\nNorth Christine\nG7K 0EZ"),
            ["Flat 10\nGrace Views\nNorth Christine\nG7K 0EZ"]
        );
        assert_eq!(addresses("to PSC 9868, Box 4010, APO AE 11744."), ["PSC 9868, Box 4010, APO AE 11744"]);
        assert_eq!(addresses("USNS Snyder, FPO AA 10648"), ["USNS Snyder, FPO AA 10648"]);
        assert_eq!(addresses("al. Bursztynowa 40, 34-727 Oświęcim"), ["al. Bursztynowa 40, 34-727 Oświęcim"]);
        assert_eq!(addresses("C. Leonel Carballo 567, Toledo, 30419"), ["C. Leonel Carballo 567, Toledo, 30419"]);
        // Streets of no type we know, told by the postcode and town after them.
        assert_eq!(
            addresses("Graag het pakket naar Balingerbrink 664, 1428 XI De Haal sturen."),
            ["Balingerbrink 664, 1428 XI De Haal"]
        );
        assert_eq!(
            addresses("Bitte an Alt-Biesdorf 680, 65734 Marktbreit schicken."),
            ["Alt-Biesdorf 680, 65734 Marktbreit"]
        );
        assert_eq!(
            addresses("Enviar a Recanto do Forno, 51, 06976 Costa Blanca, por favor."),
            ["Recanto do Forno, 51, 06976 Costa Blanca"]
        );
        assert_eq!(addresses("sent to 921 Greenmill Bend, 2275 Mesa instead"), ["921 Greenmill Bend, 2275 Mesa"]);
        assert_eq!(addresses("na adres Lipowa 7, 34-727 Oświęcim"), ["Lipowa 7, 34-727 Oświęcim"]);
        // Nordic one-word streets, Portuguese and Québec street types.
        assert_eq!(addresses("Rosenvængetsgade 40\n5468 Slangerup"), ["Rosenvængetsgade 40\n5468 Slangerup"]);
        assert_eq!(addresses("bor på Storgatan 12, 111 22 Stockholm"), ["Storgatan 12, 111 22 Stockholm"]);
        assert_eq!(
            addresses("Praça Diana Nogueira, 119, 1506-178 Albufeira"),
            ["Praça Diana Nogueira, 119, 1506-178 Albufeira"]
        );
        assert_eq!(addresses("au 123 montée Larocque, Saint-Sauveur"), ["123 montée Larocque, Saint-Sauveur"]);
    }

    #[test]
    fn not_addresses() {
        assert!(addresses("sent via email 3 times").is_empty());
        assert!(addresses("Order 4829301756 shipped").is_empty());
        assert!(addresses("by the way, 12 items").is_empty());
        assert!(addresses("Room 12 Park Hotel").is_empty());
        assert!(addresses("2 TB Portable Drive").is_empty());
        assert!(addresses("Pack of 2 Organic Green Tea").is_empty());
        assert!(addresses("18 Karat Gold Ring").is_empty());
        assert!(addresses("Order 12, 10115 Berlin").is_empty());
        assert!(addresses("Renegade 2 ships in May").is_empty());
        assert!(addresses("Ticket 4521, 2024 Review").is_empty());
        assert!(addresses("Windows 10, 2004 Update").is_empty());
        assert!(addresses("Nike Air Max 90, 12345 Sold").is_empty());
        assert_eq!(addresses("Unit 4, 12 Mill Lane"), ["12 Mill Lane"]);
        assert_eq!(
            addresses("Ship to 4759 William Haven Apt. 194, West Corey, CA 90152"),
            ["4759 William Haven Apt. 194, West Corey, CA 90152"]
        );
        assert_eq!(addresses("54, rue de Martin"), ["54, rue de Martin"]);
    }
}
