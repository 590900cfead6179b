//! A labelled corpus of realistic records, generated from a seed: customer profiles,
//! orders, payments, access logs, HR records, support tickets, deploy configurations,
//! analytics events, products and chat messages in seven locales (en-US, en-GB, de-DE,
//! fr-FR, es-ES, it-IT, nl-NL), with field names in several spellings and languages.
//!
//! About half the records hold PII; the rest hold hard negatives: sixteen-digit numbers
//! that fail Luhn, dotted versions, ten-digit order numbers, hex hashes, UUIDs, ISO
//! timestamps, amounts, SKUs, EAN barcodes, product and company names. Every PII value is
//! valid by its real rule (Luhn, mod-97, check letters, libphonenumber ranges), and each
//! field is labelled with the kinds of PII it holds.
//!
//! The generator uses a hand-written splitmix64, so one seed gives the same corpus on every
//! machine, and its own word lists (`corpus/data.rs`), apart from the detector's.

mod data;
mod values;

use serde_json::{Map, Value, json};

use self::data::{COMPANIES, DEPARTMENTS, LOCALES, Locale, PRODUCTS, SUBJECTS};
use crate::PiiType;

/// A small deterministic random generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One record and what it holds.
#[derive(Debug, Clone)]
pub struct LabelledRecord {
    /// The record: a JSON object of field → value, perhaps nested.
    pub record: Value,
    /// The fields that hold PII, by path as [`crate::Detector::scan_record`] names them,
    /// with the kind each holds (a field of free text may hold several).
    pub labels: Vec<(String, PiiType)>,
    /// The locale the record was written in, such as `de-DE`.
    pub locale: &'static str,
    /// The kind of record, such as `customer` or `ticket`.
    pub template: &'static str,
}

impl LabelledRecord {
    /// Whether any field holds PII.
    pub fn is_positive(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// `count` records generated from `seed`.
pub fn generate(seed: u64, count: usize) -> Vec<LabelledRecord> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| record(&mut rng)).collect()
}

/// Labelled records read from newline-delimited JSON, one object per line:
/// `{"record": {...}, "labels": [["field.path", "kind"], ...]}` (other keys are ignored),
/// as `tests/data/faker.ndjson` holds them. Their locale and template read `file`.
pub fn from_ndjson(text: &str) -> Result<Vec<LabelledRecord>, String> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |what: &str| format!("line {}: {what}", i + 1);
        let entry: Value = serde_json::from_str(line).map_err(|e| at(&e.to_string()))?;
        let labels = entry["labels"].as_array().ok_or_else(|| at("no `labels` array"))?;
        let labels = labels
            .iter()
            .map(|l| match (l[0].as_str(), l[1].as_str().and_then(PiiType::from_name)) {
                (Some(field), Some(kind)) => Ok((field.to_owned(), kind)),
                _ => Err(at(&format!("a label is not [field, kind]: {l}"))),
            })
            .collect::<Result<_, _>>()?;
        records.push(LabelledRecord { record: entry["record"].clone(), labels, locale: "file", template: "file" });
    }
    Ok(records)
}

/// How a record spells its keys.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    Snake,
    Camel,
    Pascal,
}

/// A record being built.
struct Rec {
    map: Map<String, Value>,
    labels: Vec<(String, PiiType)>,
    style: Style,
    local_keys: bool,
    locale: &'static Locale,
}

impl Rec {
    fn key(&self, snake: &str) -> String {
        let snake = if self.local_keys { localise(snake, self.locale.tag) } else { snake };
        match self.style {
            Style::Snake => snake.to_owned(),
            Style::Camel | Style::Pascal => {
                let mut out = String::new();
                for (i, part) in snake.split('_').enumerate() {
                    let mut chars = part.chars();
                    if let Some(first) = chars.next() {
                        if i == 0 && self.style == Style::Camel {
                            out.push(first);
                        } else {
                            out.extend(first.to_uppercase());
                        }
                        out.push_str(chars.as_str());
                    }
                }
                out
            }
        }
    }

    fn put(&mut self, key: &str, value: impl Into<Value>) {
        let k = self.key(key);
        self.map.insert(k, value.into());
    }

    fn pii(&mut self, key: &str, value: impl Into<Value>, kinds: &[PiiType]) {
        let k = self.key(key);
        for &kind in kinds {
            self.labels.push((k.clone(), kind));
        }
        self.map.insert(k, value.into());
    }

    fn child(&self) -> Rec {
        Rec { map: Map::new(), labels: Vec::new(), style: self.style, local_keys: self.local_keys, locale: self.locale }
    }

    fn nest(&mut self, key: &str, child: Rec) {
        let k = self.key(key);
        for (path, kind) in child.labels {
            self.labels.push((format!("{k}.{path}"), kind));
        }
        self.map.insert(k, Value::Object(child.map));
    }

    fn nest_array(&mut self, key: &str, children: Vec<Rec>) {
        let k = self.key(key);
        let mut items = Vec::new();
        for (i, child) in children.into_iter().enumerate() {
            for (path, kind) in child.labels {
                self.labels.push((format!("{k}[{i}].{path}"), kind));
            }
            items.push(Value::Object(child.map));
        }
        self.map.insert(k, Value::Array(items));
    }
}

/// The locale's own word for a field, where it has one.
fn localise<'a>(snake: &'a str, tag: &str) -> &'a str {
    let table: &[(&str, [&str; 5])] = &[
        ("first_name", ["vorname", "prenom", "nombre", "nome", "voornaam"]),
        ("last_name", ["nachname", "nom", "apellidos", "cognome", "achternaam"]),
        ("phone", ["telefon", "telephone", "telefono", "telefono", "telefoon"]),
        ("mobile", ["handynummer", "portable", "movil", "cellulare", "mobiel"]),
        ("address", ["adresse", "adresse", "direccion", "indirizzo", "adres"]),
        ("street", ["strasse", "rue", "calle", "via", "straat"]),
        ("city", ["ort", "ville", "ciudad", "citta", "plaats"]),
        ("postcode", ["plz", "code_postal", "codigo_postal", "cap", "postcode"]),
        ("email", ["email", "courriel", "correo", "email", "email"]),
        ("notes", ["notizen", "remarques", "notas", "note", "opmerkingen"]),
        ("order_number", ["bestellnummer", "numero_commande", "numero_pedido", "numero_ordine", "bestelnummer"]),
        ("amount", ["betrag", "montant", "importe", "importo", "bedrag"]),
    ];
    let column = match tag {
        "de-DE" => 0,
        "fr-FR" => 1,
        "es-ES" => 2,
        "it-IT" => 3,
        "nl-NL" => 4,
        _ => return snake,
    };
    table.iter().find(|(k, _)| *k == snake).map_or(snake, |(_, local)| local[column])
}

/// A person of a locale.
struct Person {
    given: &'static str,
    surname: &'static str,
}

impl Person {
    fn new(rng: &mut Rng, locale: &Locale) -> Person {
        Person { given: rng.pick(locale.given), surname: rng.pick(locale.surnames) }
    }

    fn full(&self) -> String {
        format!("{} {}", self.given, self.surname)
    }

    fn email(&self, rng: &mut Rng, locale: &Locale) -> String {
        let ascii = |s: &str| -> String {
            let mut out = String::new();
            for c in s.to_lowercase().chars() {
                crate::field::fold_into(c, &mut out);
            }
            out.chars().filter(char::is_ascii_alphanumeric).collect()
        };
        let (g, s) = (ascii(self.given), ascii(self.surname));
        let local = match rng.below(5) {
            0 => format!("{g}.{s}"),
            1 => format!("{}{s}{}", &g[..1], rng.below(100)),
            2 => format!("{s}.{g}"),
            3 => format!("{g}_{s}{}", 1960 + rng.below(45)),
            _ => format!("{g}{}", rng.below(1000)),
        };
        let domain = if rng.chance(0.2) {
            format!(
                "{}.{}",
                ascii(rng.pick(&["acme", "globex", "initech", "nordwind", "hooli"])),
                rng.pick(&["com", "io", "de", "fr", "eu"])
            )
        } else {
            (rng.pick(locale.domains)).to_owned()
        };
        format!("{local}@{domain}")
    }
}

/// "1015 CJ Amsterdam" → ("1015 CJ", "Amsterdam"); "Austin, TX 78701" → ("TX 78701",
/// "Austin"); "London SW1A 2AA" → ("SW1A 2AA", "London").
fn split_city(city: &'static str) -> (&'static str, &'static str) {
    if let Some((town, postcode)) = city.split_once(", ") {
        return (postcode, town);
    }
    let first_digit = city.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    if first_digit == 0 {
        // The postcode comes first: "10115 Berlin", "1015 CJ Amsterdam".
        let words: Vec<&str> = city.split(' ').collect();
        let n = if words.len() > 2 && words[1].len() == 2 && words[1].chars().all(|c| c.is_ascii_uppercase()) {
            2
        } else {
            1
        };
        let cut = words[..n].iter().map(|w| w.len() + 1).sum::<usize>() - 1;
        (&city[..cut], city[cut..].trim_start())
    } else {
        // The postcode comes last: "London SW1A 2AA".
        let cut = city[..first_digit].rfind(' ').unwrap_or(0);
        (city[cut..].trim_start(), &city[..cut])
    }
}

/// A street line of the locale: house number and street in its order.
fn street(rng: &mut Rng, locale: &Locale) -> String {
    let name = rng.pick(locale.streets);
    let max = if rng.chance(0.8) { 120 } else { 2500 };
    let n = 1 + rng.below(max);
    match locale.tag {
        "en-US" => {
            format!("{n} {name} {}", rng.pick(&["St", "Street", "Ave", "Avenue", "Blvd", "Rd", "Drive", "Lane"]))
        }
        "en-GB" => {
            let letter = if rng.chance(0.1) { "A" } else { "" };
            format!("{n}{letter} {name} {}", rng.pick(&["Road", "Street", "Lane", "Close", "Avenue", "Way"]))
        }
        "de-DE" => {
            let kind = rng.pick(&["straße", "str.", "weg", "allee", "platz", "gasse"]);
            if rng.chance(0.15) { format!("Berliner Straße {n}") } else { format!("{name}{kind} {n}") }
        }
        "fr-FR" => {
            let comma = if rng.chance(0.2) { "," } else { "" };
            format!("{n}{comma} {} {name}", rng.pick(&["rue", "avenue", "boulevard", "place", "allée"]))
        }
        "es-ES" => {
            let kind = rng.pick(&["Calle", "Avenida", "Plaza", "Paseo", "C/"]);
            let floor = if rng.chance(0.3) {
                format!(", {}º {}", 1 + rng.below(8), rng.pick(&["A", "B", "Izq."]))
            } else {
                String::new()
            };
            let comma = if rng.chance(0.5) { "," } else { "" };
            format!("{kind} {name}{comma} {n}{floor}")
        }
        "it-IT" => format!("{} {name}, {n}", rng.pick(&["Via", "Viale", "Piazza", "Corso"])),
        _ => {
            if name.ends_with("laan") || name.ends_with("straat") {
                format!("{name} {n}")
            } else {
                format!("{name}{} {n}", rng.pick(&["straat", "laan", "weg", "gracht", "plein", "kade"]))
            }
        }
    }
}

fn full_address(rng: &mut Rng, locale: &Locale) -> String {
    let line = street(rng, locale);
    let city = rng.pick(locale.cities);
    format!("{line}, {city}")
}

/// Free text in the locale's language; `pii` says which kinds to weave in.
fn text(rng: &mut Rng, locale: &Locale, pii: &[PiiType]) -> String {
    let lang = &locale.tag[..2];
    let mut parts: Vec<String> = Vec::new();
    // An innocent opening with hard negatives.
    let order = values::order_number(rng);
    let opening = match lang {
        "de" => format!("Bestellung {order} vom {} über {}.", values::date(rng), values::amount(rng)),
        "fr" => format!("Commande {order} du {} pour {}.", values::date(rng), values::amount(rng)),
        "es" => format!("Pedido {order} del {} por {}.", values::date(rng), values::amount(rng)),
        "it" => format!("Ordine {order} del {} per {}.", values::date(rng), values::amount(rng)),
        "nl" => format!("Bestelling {order} van {} voor {}.", values::date(rng), values::amount(rng)),
        _ => match rng.below(3) {
            0 => format!("Order #{order} placed on {} for {}.", values::timestamp(rng), values::amount(rng)),
            1 => format!("The app (version {}) crashed after the update.", values::version(rng)),
            _ => format!("Item {} arrived damaged, tracking {}.", values::sku(rng), values::not_a_card(rng)),
        },
    };
    parts.push(opening);
    if rng.chance(0.3) {
        parts.push(format!("{}.", values::reference(rng)));
    }
    let person = Person::new(rng, locale);
    for kind in pii {
        let sentence = match (kind, lang) {
            (PiiType::PersonName, "de") => rng
                .pick(&[
                    "Mein Name ist {full}.",
                    "Herr {surname} hat angerufen.",
                    "Frau {surname} bittet um Rückruf.",
                    "Rücksendung für {full}.",
                ])
                .to_string(),
            (PiiType::PersonName, "fr") => rng
                .pick(&[
                    "Je m'appelle {full}.",
                    "Mme {surname} a appelé ce matin.",
                    "M. {surname} demande un remboursement.",
                    "Colis pour {full}.",
                ])
                .to_string(),
            (PiiType::PersonName, "es") => rng
                .pick(&["Me llamo {full}.", "La Sra. {surname} llamó ayer.", "Saludos, {full}", "Paquete para {full}."])
                .to_string(),
            (PiiType::PersonName, "it") => rng
                .pick(&[
                    "Mi chiamo {full}.",
                    "Il Sig. {surname} ha chiamato.",
                    "Cordiali saluti, {full}",
                    "Pacco per {full}.",
                ])
                .to_string(),
            (PiiType::PersonName, "nl") => rng
                .pick(&[
                    "Mijn naam is {full}.",
                    "Mevrouw {surname} belde vanochtend.",
                    "Met vriendelijke groet, {full}",
                    "Pakket voor {full}.",
                ])
                .to_string(),
            (PiiType::PersonName, _) => rng
                .pick(&[
                    "My name is {full}.",
                    "Hi, this is {full}.",
                    "Mrs {surname} called about it.",
                    "Regards, {full}",
                    "Please contact {full} tomorrow.",
                    "Dr. {surname} asked for a callback.",
                ])
                .to_string(),
            (PiiType::Phone, "de") => format!("Erreichbar unter {}.", values::phone(rng, locale)),
            (PiiType::Phone, "fr") => format!("Vous pouvez me joindre au {}.", values::phone(rng, locale)),
            (PiiType::Phone, "es") => format!("Mi teléfono es {}.", values::phone(rng, locale)),
            (PiiType::Phone, "it") => format!("Il mio numero di cellulare: {}.", values::phone(rng, locale)),
            (PiiType::Phone, "nl") => format!("Bel me op {}.", values::phone(rng, locale)),
            (PiiType::Phone, _) => format!("You can reach me at {}.", values::phone(rng, locale)),
            (PiiType::Email, _) => format!(
                "{} {}",
                rng.pick(&["Email:", "E-Mail:", "Courriel :", "Correo:", "Mail:"]),
                person.email(rng, locale)
            ),
            (PiiType::PostalAddress, "de") => format!("Bitte an {} liefern.", full_address(rng, locale)),
            (PiiType::PostalAddress, "fr") => format!("Livrer au {}.", full_address(rng, locale)),
            (PiiType::PostalAddress, "es") => format!("Enviar a {}.", full_address(rng, locale)),
            (PiiType::PostalAddress, "it") => format!("Spedire a {}.", full_address(rng, locale)),
            (PiiType::PostalAddress, "nl") => format!("Graag leveren op {}.", full_address(rng, locale)),
            (PiiType::PostalAddress, _) => format!("Please ship to {}.", full_address(rng, locale)),
            (PiiType::Iban, _) => format!("IBAN: {}", values::iban(rng, locale)),
            (PiiType::PaymentCard, _) => format!("Card {} was declined.", values::card(rng)),
            (PiiType::IpAddress, _) => format!("Login from {} failed.", values::ip(rng)),
            (PiiType::Secret, _) => format!("token={}", values::secret(rng)),
            (PiiType::NationalId, _) => {
                let (id, label) = values::national_id(rng, locale);
                format!("{}: {id}", label.to_uppercase().replace('_', " "))
            }
        };
        parts.push(sentence.replace("{full}", &person.full()).replace("{surname}", person.surname));
    }
    let closing = match lang {
        "de" => "Vielen Dank!",
        "fr" => "Merci d'avance.",
        "es" => "Gracias.",
        "it" => "Grazie mille.",
        "nl" => "Alvast bedankt.",
        _ => rng.pick(&["Thanks in advance.", "Any update would be appreciated.", "Thank you!"]),
    };
    if rng.chance(0.7) {
        parts.push(closing.to_owned());
    }
    parts.join(" ")
}

fn record(rng: &mut Rng) -> LabelledRecord {
    let locale = &LOCALES[rng.below(LOCALES.len() as u64) as usize];
    let style = match rng.below(10) {
        0..=5 => Style::Snake,
        6..=8 => Style::Camel,
        _ => Style::Pascal,
    };
    let local_keys = locale.tag != "en-US" && locale.tag != "en-GB" && rng.chance(0.3);
    let mut rec = Rec { map: Map::new(), labels: Vec::new(), style, local_keys, locale };
    let positive = rng.chance(0.5);
    let template = match rng.below(10) {
        0 => customer(rng, &mut rec, positive),
        1 => order(rng, &mut rec, positive),
        2 => payment(rng, &mut rec, positive),
        3 => access_log(rng, &mut rec, positive),
        4 => employee(rng, &mut rec, positive),
        5 => ticket(rng, &mut rec, positive),
        6 => deploy(rng, &mut rec, positive),
        7 => event(rng, &mut rec, positive),
        8 => product(rng, &mut rec, positive),
        _ => message(rng, &mut rec, positive),
    };
    LabelledRecord { record: Value::Object(rec.map), labels: rec.labels, locale: locale.tag, template }
}

fn customer(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    let loc = r.locale;
    r.put("id", values::uuid(rng));
    r.put("created_at", values::timestamp(rng));
    r.put("locale", loc.tag);
    r.put("loyalty_points", rng.below(5000));
    r.put("marketing_opt_in", rng.chance(0.5));
    if !positive {
        r.put("user_hash", values::hash(rng));
        r.put("plan", rng.pick(&["free", "pro", "business"]));
        r.put("country", loc.country);
        r.put("seats", 1 + rng.below(50));
        r.put("mrr", values::amount(rng));
        r.put("company", rng.pick(COMPANIES));
        return "account";
    }
    let p = Person::new(rng, loc);
    let mut any = false;
    if rng.chance(0.7) {
        r.pii("first_name", p.given, &[PiiType::PersonName]);
        r.pii("last_name", p.surname, &[PiiType::PersonName]);
        any = true;
    } else if rng.chance(0.6) {
        r.pii(rng.pick(&["full_name", "name", "customer_name", "display_name"]), p.full(), &[PiiType::PersonName]);
        any = true;
    }
    if rng.chance(0.8) || !any {
        r.pii("email", p.email(rng, loc), &[PiiType::Email]);
    }
    if rng.chance(0.7) {
        let key = rng.pick(&["phone", "mobile", "phone_number"]);
        r.pii(key, values::phone(rng, loc), &[PiiType::Phone]);
    }
    if rng.chance(0.6) {
        if rng.chance(0.5) {
            let mut a = r.child();
            a.pii("street", street(rng, loc), &[PiiType::PostalAddress]);
            let (postcode, town) = split_city(rng.pick(loc.cities));
            a.put("city", town);
            a.put("postcode", postcode);
            a.put("country", loc.country);
            r.nest("address", a);
        } else {
            r.pii("address", full_address(rng, loc), &[PiiType::PostalAddress]);
        }
    }
    if rng.chance(0.2) {
        r.put("birth_date", values::date(rng));
    }
    "customer"
}

fn order(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    let loc = r.locale;
    let order = values::order_number(rng);
    if rng.chance(0.5) {
        r.put("order_number", order.parse::<u64>().unwrap_or(0));
    } else {
        r.put("order_id", order);
    }
    r.put("created_at", values::timestamp(rng));
    r.put("status", rng.pick(&["paid", "shipped", "delivered", "cancelled", "refunded"]));
    r.put("currency", rng.pick(&["EUR", "USD", "GBP"]));
    r.put("amount", values::amount(rng));
    r.put("customer_ref", values::hash(rng));
    r.put("tracking_number", values::not_a_card(rng));
    let n = 1 + rng.below(3);
    let items = (0..n)
        .map(|_| {
            let mut item = r.child();
            item.put("sku", values::sku(rng));
            item.put("name", rng.pick(PRODUCTS));
            item.put("qty", 1 + rng.below(4));
            item.put("unit_price", (rng.below(20000) as f64) / 100.0);
            item
        })
        .collect();
    r.nest_array("items", items);
    if positive {
        if rng.chance(0.6) {
            let p = Person::new(rng, loc);
            let mut s = r.child();
            s.pii("name", p.full(), &[PiiType::PersonName]);
            s.pii("line1", street(rng, loc), &[PiiType::PostalAddress]);
            let city = rng.pick(loc.cities);
            s.put("city", city);
            s.put("country", loc.country);
            r.nest("shipping", s);
        } else {
            let kind = rng.pick(&[PiiType::Phone, PiiType::PersonName, PiiType::PostalAddress, PiiType::Email]);
            r.pii("notes", text(rng, loc, &[kind]), &[kind]);
        }
    } else if rng.chance(0.5) {
        r.put("notes", text(rng, loc, &[]));
    }
    "order"
}

fn payment(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    let loc = r.locale;
    r.put("payment_id", values::uuid(rng));
    r.put("amount", values::amount(rng));
    r.put("currency", rng.pick(&["EUR", "USD", "GBP"]));
    r.put("status", rng.pick(&["succeeded", "failed", "pending"]));
    r.put("processed_at", values::timestamp(rng));
    r.put("reference", format!("INV-{}-{:06}", 2020 + rng.below(6), rng.below(1_000_000)));
    if positive {
        if rng.chance(0.5) {
            r.pii("card_number", values::card(rng), &[PiiType::PaymentCard]);
            if rng.chance(0.5) {
                r.pii("card_holder", Person::new(rng, loc).full(), &[PiiType::PersonName]);
            }
        } else {
            r.pii("iban", values::iban(rng, loc), &[PiiType::Iban]);
            if rng.chance(0.5) {
                r.pii("account_holder", Person::new(rng, loc).full(), &[PiiType::PersonName]);
            }
        }
    } else {
        r.put("card_last4", format!("{:04}", rng.below(10000)));
        r.put("card_brand", rng.pick(&["visa", "mastercard", "amex"]));
        r.put("card_fingerprint", values::hash(rng));
        r.put("gift_card", values::not_a_card(rng));
        r.put("exp", format!("{:02}/{}", 1 + rng.below(12), 26 + rng.below(6)));
    }
    "payment"
}

fn access_log(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    r.put("ts", values::timestamp(rng));
    r.put("method", rng.pick(&["GET", "POST", "PUT", "DELETE"]));
    r.put("path", format!("/api/v{}/orders/{}", 1 + rng.below(3), values::order_number(rng)));
    r.put("status", rng.pick(&[200u64, 201, 204, 301, 400, 401, 404, 500]));
    r.put("bytes", rng.below(200_000));
    r.put("duration_ms", (rng.below(100_000) as f64) / 100.0);
    r.put("request_id", values::uuid(rng));
    r.put(
        "user_agent",
        format!(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.{}.{} Safari/537.36",
            100 + rng.below(30),
            5000 + rng.below(2000),
            rng.below(200)
        ),
    );
    if positive {
        if rng.chance(0.7) {
            r.pii(rng.pick(&["ip", "client_ip", "remote_addr", "ip_address"]), values::ip(rng), &[PiiType::IpAddress]);
        } else {
            let p = Person::new(rng, r.locale);
            let msg = format!("login failed for {} from {}", p.email(rng, r.locale), values::ip(rng));
            r.pii("message", msg, &[PiiType::Email, PiiType::IpAddress]);
        }
    } else {
        r.put("ip_hash", values::hash(rng));
        r.put("country", r.locale.country);
        r.put("app_version", values::version(rng));
    }
    "access_log"
}

fn employee(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    let loc = r.locale;
    r.put("employee_id", format!("E-{}", 10_000 + rng.below(90_000)));
    r.put("department", rng.pick(DEPARTMENTS));
    r.put("hired_on", values::date(rng));
    r.put("salary", values::amount(rng));
    r.put("cost_center", format!("CC-{}", rng.digits(4)));
    if !positive {
        r.put("headcount", 1 + rng.below(40));
        r.put("band", format!("L{}", 1 + rng.below(8)));
        r.put("manager_ref", values::uuid(rng));
        return "position";
    }
    let p = Person::new(rng, loc);
    r.pii("name", p.full(), &[PiiType::PersonName]);
    let (id, key) = values::national_id(rng, loc);
    let key = if rng.chance(0.3) { "national_id" } else { key };
    r.pii(key, id, &[PiiType::NationalId]);
    if rng.chance(0.15) {
        r.pii("pesel", values::pesel(rng), &[PiiType::NationalId]);
    }
    if rng.chance(0.5) && loc.country != "US" {
        r.pii("iban", values::iban(rng, loc), &[PiiType::Iban]);
    }
    "employee"
}

fn ticket(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    let loc = r.locale;
    r.put("ticket_id", rng.below(1_000_000));
    r.put("subject", rng.pick(SUBJECTS));
    r.put("priority", rng.pick(&["low", "normal", "high"]));
    r.put("product", rng.pick(PRODUCTS));
    r.put("app_version", values::version(rng));
    r.put("created_at", values::timestamp(rng));
    r.put("channel", rng.pick(&["email", "chat", "phone", "web"]));
    let kinds: Vec<PiiType> = if positive {
        let all = [
            PiiType::PersonName,
            PiiType::Phone,
            PiiType::Email,
            PiiType::PostalAddress,
            PiiType::Iban,
            PiiType::NationalId,
        ];
        let first = rng.pick(&all);
        let mut kinds = vec![first];
        if rng.chance(0.4) {
            let second = rng.pick(&all);
            if second != first {
                kinds.push(second);
            }
        }
        kinds
    } else {
        Vec::new()
    };
    let body = text(rng, loc, &kinds);
    r.pii("body", body, &kinds);
    "ticket"
}

fn deploy(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    r.put("service", rng.pick(&["checkout", "billing", "search", "auth", "notifications"]));
    r.put("version", values::version(rng));
    r.put("commit", values::hash(rng));
    r.put("image", format!("registry.example.com/app@sha256:{}", rng.hex(64)));
    r.put("region", rng.pick(&["eu-west-1", "eu-central-1", "us-east-1"]));
    r.put("replicas", 1 + rng.below(12));
    r.put("built_at", values::timestamp(rng));
    if positive {
        match rng.below(5) {
            4 => r.pii("database_url", values::database_url(rng), &[PiiType::Secret]),
            0 => r.pii(
                rng.pick(&["api_key", "access_token", "client_secret"]),
                values::raw_secret(rng, false),
                &[PiiType::Secret],
            ),
            1 => r.pii("db_password", values::raw_secret(rng, true), &[PiiType::Secret]),
            2 => r.pii("config", values::secret(rng), &[PiiType::Secret]),
            _ => r.pii("authorization", format!("Bearer {}", values::secret(rng)), &[PiiType::Secret]),
        }
    } else {
        r.put("checksum", values::hash(rng));
        r.put("token_ttl", 3600);
        r.put("feature_flags", json!(["new-checkout", "dark-mode"]));
    }
    "deploy"
}

fn event(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    r.put("event", rng.pick(&["page_view", "add_to_cart", "checkout_started", "signup"]));
    r.put("session_id", values::hash(rng));
    r.put("anonymous_id", values::uuid(rng));
    r.put("page", format!("/products/{}", values::sku(rng).to_lowercase()));
    r.put("referrer", rng.pick(&["https://www.google.com/", "https://duckduckgo.com/", "direct"]));
    r.put("duration_ms", rng.below(60_000));
    r.put("screen", rng.pick(&["1920x1080", "1440x900", "390x844"]));
    r.put("country", r.locale.country);
    r.put("app_version", values::version(rng));
    r.put("ts", rng.below(100_000_000) + 1_700_000_000);
    if positive {
        let mut props = r.child();
        let p = Person::new(rng, r.locale);
        props.pii("email", p.email(rng, r.locale), &[PiiType::Email]);
        props.put("plan", "pro");
        r.nest("properties", props);
    }
    "event"
}

fn product(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    r.put("sku", values::sku(rng));
    r.put("name", rng.pick(PRODUCTS));
    r.put("ean", values::ean(rng));
    r.put("price", values::amount(rng));
    r.put("stock", rng.below(500));
    r.put("weight_kg", format!("{}.{}", rng.below(20), rng.below(100)));
    r.put("dimensions", format!("{}x{}x{} cm", 5 + rng.below(60), 5 + rng.below(60), 1 + rng.below(30)));
    r.put("supplier", rng.pick(COMPANIES));
    r.put("updated_at", values::timestamp(rng));
    if positive {
        let p = Person::new(rng, r.locale);
        let mut c = r.child();
        c.pii("name", p.full(), &[PiiType::PersonName]);
        c.pii("email", p.email(rng, r.locale), &[PiiType::Email]);
        r.nest("supplier_contact", c);
    }
    "product"
}

fn message(rng: &mut Rng, r: &mut Rec, positive: bool) -> &'static str {
    r.put("author_id", values::uuid(rng));
    r.put("channel", rng.pick(&["support", "sales", "general"]));
    r.put("sent_at", values::timestamp(rng));
    let kinds: Vec<PiiType> = if positive {
        vec![rng.pick(&[
            PiiType::PersonName,
            PiiType::Phone,
            PiiType::Email,
            PiiType::PostalAddress,
            PiiType::PaymentCard,
            PiiType::IpAddress,
            PiiType::Secret,
        ])]
    } else {
        Vec::new()
    };
    let body = text(rng, r.locale, &kinds);
    r.pii("text", body, &kinds);
    "message"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let a = generate(7, 50);
        let b = generate(7, 50);
        assert_eq!(
            a.iter().map(|r| r.record.to_string()).collect::<Vec<_>>(),
            b.iter().map(|r| r.record.to_string()).collect::<Vec<_>>()
        );
        let positives = generate(7, 1000).iter().filter(|r| r.is_positive()).count();
        assert!((400..600).contains(&positives), "{positives}");
    }

    #[test]
    fn generated_phones_are_valid_by_libphonenumber() {
        let mut rng = Rng::new(11);
        for locale in LOCALES {
            let region: phonenumber::country::Id = locale.country.parse().expect("region");
            for _ in 0..200 {
                let phone = values::phone(&mut rng, locale);
                let parsed = phonenumber::parse(Some(region), &phone).expect(&phone);
                assert!(phonenumber::is_valid(&parsed), "{phone} in {}", locale.tag);
            }
        }
    }

    #[test]
    fn generated_ids_pass_their_checks() {
        let mut rng = Rng::new(12);
        for _ in 0..200 {
            let card: String = values::card(&mut rng).chars().filter(char::is_ascii_digit).collect();
            assert!(crate::card::luhn(card.as_bytes()) && crate::card::issuer(card.as_bytes()).is_some(), "{card}");
            let not: String = values::not_a_card(&mut rng).chars().filter(char::is_ascii_digit).collect();
            assert!(!crate::card::luhn(not.as_bytes()), "{not}");
            for locale in LOCALES {
                let iban: String = values::iban(&mut rng, locale).chars().filter(|c| !c.is_whitespace()).collect();
                assert!(crate::iban::is_valid(iban.as_bytes()), "{iban}");
            }
        }
    }
}
