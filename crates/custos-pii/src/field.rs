//! Field-name signals: what a field called `first_name`, `Telefonnummer` or
//! `billing.address.line1` is likely to hold, in the locales custos serves.
//!
//! A field name is split into lowercase words (`customerEmail` → `customer`, `email`;
//! `codice_fiscale` → `codice`, `fiscale`), accents folded (`prénom` → `prenom`,
//! `Straße` → `strasse`). The last segment of a path decides; a generic last segment
//! (`name`, `line1`, `number`, `value`) takes its meaning from its parent (`product.name`
//! is not a person's name, `shipping.name` is).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::lexicon::FxHasher;

/// What a field's name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Hint {
    /// Nothing: free text or an unknown field.
    #[default]
    None,
    /// An email address.
    Email,
    /// A telephone number.
    Phone,
    /// A payment card number.
    Card,
    /// A bank account number.
    Iban,
    /// An IP address.
    Ip,
    /// Some national identifier (or tax id, or passport number).
    NationalId,
    /// A person's name, certainly (`first_name`, `nachname`, `cognome`).
    PersonName,
    /// Perhaps a person's name (`name`, `display_name`, `contact`).
    MaybeName,
    /// A street address.
    Address,
    /// A postcode alone.
    Postcode,
    /// A password.
    Password,
    /// A token, key or other secret.
    Token,
    /// An identifier or number that is not personal (order, invoice, SKU, tracking).
    OrderLike,
    /// A version, build or release.
    Version,
    /// A hash, digest, pseudonym or checksum.
    HashLike,
    /// A time or date.
    TimeLike,
    /// Something named that is not a person (product, company, file, user name).
    NotAPerson,
    /// A bare `name` in an object that describes a product (beside `sku`, `qty`): a
    /// product's name, unless the value reads as a person's beyond doubt.
    NameBesideProduct,
}

type Cache<V> = RefCell<HashMap<Box<str>, V, BuildHasherDefault<FxHasher>>>;

thread_local! {
    /// Hints of keys found in text (`password: …`) on this thread.
    static HINTS: Cache<Hint> = RefCell::new(HashMap::default());
}

const CACHE_LIMIT: usize = 16_384;

fn cached<V: Copy>(cache: &'static std::thread::LocalKey<Cache<V>>, key: &str, make: impl FnOnce() -> V) -> V {
    cache.with(|c| {
        if let Some(v) = c.borrow().get(key) {
            return *v;
        }
        let v = make();
        let mut map = c.borrow_mut();
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(key.into(), v);
        v
    })
}

/// Hints of field paths and product marks of keys, remembered: records of one kind repeat
/// their fields, and reading a field's name costs more than scanning a short value.
#[derive(Default)]
pub(crate) struct HintCache {
    paths: HashMap<Box<str>, Hint, BuildHasherDefault<FxHasher>>,
    products: HashMap<Box<str>, bool, BuildHasherDefault<FxHasher>>,
}

impl HintCache {
    /// [`Hint::of_path`] of `path`.
    pub(crate) fn hint(&mut self, path: &str) -> Hint {
        if let Some(h) = self.paths.get(path) {
            return *h;
        }
        if self.paths.len() >= CACHE_LIMIT {
            self.paths.clear();
        }
        let h = Hint::of_path(Some(path));
        self.paths.insert(path.into(), h);
        h
    }

    /// [`Hint::marks_a_product`] of `key`.
    pub(crate) fn marks_a_product(&mut self, key: &str) -> bool {
        if let Some(m) = self.products.get(key) {
            return *m;
        }
        if self.products.len() >= CACHE_LIMIT {
            self.products.clear();
        }
        let m = Hint::marks_a_product(key);
        self.products.insert(key.into(), m);
        m
    }
}

impl Hint {
    /// [`Hint::of_path`], remembered per thread.
    pub(crate) fn cached(path: &str) -> Hint {
        cached(&HINTS, path, || Hint::of_path(Some(path)))
    }

    /// The hint for a field path such as `user.contact.email` or `items[2].note`.
    pub(crate) fn of_path(path: Option<&str>) -> Hint {
        let Some(path) = path else { return Hint::None };
        let mut segments = path.rsplit(['.', '/']).map(strip_index).filter(|s| !s.is_empty());
        let Some(last) = segments.next() else { return Hint::None };
        let parent = segments.next();
        let words = Words::of(last);
        let hint = classify(&words);
        match hint {
            Generic::Known(hint) => hint,
            Generic::Name => match parent.map(|p| classify_parent(&Words::of(p))) {
                Some(ParentKind::Person) => Hint::PersonName,
                Some(ParentKind::Thing) => Hint::NotAPerson,
                _ => Hint::MaybeName,
            },
            Generic::Part => match parent.map(|p| (Words::of(p), classify(&Words::of(p)))) {
                Some((_, Generic::Known(Hint::Address))) => Hint::Address,
                Some((w, _)) if w.has(ADDRESS_PARENTS) => Hint::Address,
                Some((_, Generic::Known(hint))) => match hint {
                    Hint::Phone | Hint::Card | Hint::Iban | Hint::NationalId | Hint::Token => hint,
                    _ => Hint::None,
                },
                _ => Hint::None,
            },
        }
    }

    /// Whether a field of this name is a bare `name` (in a locale's spelling), whose
    /// meaning its object's other fields decide.
    pub(crate) fn is_bare_name(key: &str) -> bool {
        NAME_WORDS.iter().any(|w| key.eq_ignore_ascii_case(w))
    }

    /// The other half of a name split into bare `first` and `last` fields, if `key` is one
    /// half: beside its other half, each is a part of a person's name.
    pub(crate) fn other_half_of_name(key: &str) -> Option<&'static str> {
        match key {
            "first" => Some("last"),
            "last" => Some("first"),
            "First" => Some("Last"),
            "Last" => Some("First"),
            _ => None,
        }
    }

    /// Whether an object with a field of this name describes a product, so that its
    /// `name` is a product's.
    pub(crate) fn marks_a_product(key: &str) -> bool {
        let w = Words::of(key);
        w.has(PRODUCT_SIBLINGS)
    }

    /// Whether a bare number under this field is an identifier that is not personal.
    pub(crate) fn is_numeric_id(self) -> bool {
        matches!(self, Hint::OrderLike | Hint::Version | Hint::HashLike | Hint::TimeLike)
    }
}

fn strip_index(segment: &str) -> &str {
    match segment.find('[') {
        Some(i) => &segment[..i],
        None => segment,
    }
}

/// The lowercase, accent-folded words of a field name, and their concatenation.
struct Words {
    words: Vec<String>,
    joined: String,
}

impl Words {
    fn of(name: &str) -> Words {
        let mut words: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut prev_lower = false;
        for c in name.chars() {
            if c.is_alphanumeric() {
                if c.is_uppercase() && prev_lower && !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                prev_lower = c.is_lowercase() || c.is_ascii_digit();
                for l in c.to_lowercase() {
                    fold_into(l, &mut current);
                }
            } else {
                prev_lower = false;
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
        let joined = words.concat();
        Words { words, joined }
    }

    fn has(&self, list: &[&str]) -> bool {
        self.words.iter().any(|w| list.contains(&w.as_str())) || list.contains(&self.joined.as_str())
    }

    fn contains(&self, stems: &[&str]) -> bool {
        stems.iter().any(|s| self.joined.contains(s))
    }
}

/// Appends `c` without its accent (`é` → `e`, `ß` → `ss`).
pub(crate) fn fold_into(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' | 'ă' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ł' => 'l',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => {
            out.push_str("ss");
            return;
        }
        other => other,
    };
    out.push(folded);
}

enum Generic {
    Known(Hint),
    /// `name` alone: whose name depends on the parent.
    Name,
    /// `line1`, `number`, `value`: the parent says what.
    Part,
}

enum ParentKind {
    Person,
    Thing,
    Unknown,
}

const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passwort",
    "kennwort",
    "motdepasse",
    "contrasena",
    "wachtwoord",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "bearer",
    "jwt",
    "pat",
    "sessionkey",
    "clientsecret",
    "webhooksecret",
    "dsn",
];
const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passwort",
    "kennwort",
    "motdepasse",
    "contrasena",
    "wachtwoord",
    "pass",
    "pw",
    "haslo",
    "senha",
];
const SECRET_NOT: &[&str] = &[
    "type",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "id",
    "count",
    "length",
    "url",
    "endpoint",
    "hint",
    "reset",
    "policy",
    "required",
    "enabled",
    "is",
    "has",
    "changed",
    "updated",
    "created",
    "at",
    "date",
    "rotated",
    "strength",
    "name",
    "scope",
    "scopes",
    "method",
    "public",
    "last",
    "prefix",
    "version",
    "issuer",
    "audience",
    "page",
    "pagination",
    "cursor",
    "next",
    "limit",
    "usage",
    "budget",
    "price",
    "cost",
];
const EMAIL_WORDS: &[&str] = &["email", "mail", "emailaddress", "courriel", "correo", "correoelectronico", "mailadres"];
const EMAIL_NOT: &[&str] = &[
    "verified", "opt", "optin", "consent", "status", "sent", "count", "template", "subject", "enabled", "bounced",
    "domain", "hash", "type", "body", "format", "id",
];
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "tlf",
    "tfno",
    "mobile",
    "mobil",
    "mob",
    "cell",
    "cellphone",
    "fax",
    "handy",
    "telefon",
    "telefono",
    "telefoon",
    "mobiel",
    "portable",
    "movil",
    "cellulare",
    "msisdn",
    "whatsapp",
    "gsm",
    "phonenumber",
    "telefonnummer",
    "mobilnummer",
    "handynummer",
    "rufnummer",
    "telefoonnummer",
    "contactnumber",
];
const PHONE_STEMS: &[&str] = &["phone", "telef", "mobil", "handy", "cellul", "celular", "komork", "rufnummer"];
const PHONE_NOT: &[&str] = &[
    "verified", "country", "type", "opt", "consent", "model", "brand", "os", "app", "prefix", "carrier", "hash", "id",
];
const CARD_WORDS: &[&str] = &[
    "card",
    "cc",
    "pan",
    "creditcard",
    "cardnumber",
    "kreditkarte",
    "karte",
    "carte",
    "tarjeta",
    "carta",
    "kaart",
    "ccnum",
];
const CARD_NOT: &[&str] = &[
    "last4",
    "last",
    "brand",
    "type",
    "expiry",
    "exp",
    "expires",
    "token",
    "fingerprint",
    "holder",
    "name",
    "bin",
    "id",
    "country",
    "network",
    "issuer",
    "month",
    "year",
    "cvc",
    "cvv",
    "status",
    "funding",
    "wallet",
];
const IBAN_WORDS: &[&str] = &[
    "iban",
    "accountnumber",
    "kontonummer",
    "konto",
    "rib",
    "cuenta",
    "conto",
    "rekening",
    "rekeningnummer",
    "bankaccount",
    "ibannumber",
];
const IP_WORDS: &[&str] = &[
    "ip",
    "ipaddress",
    "ipv4",
    "ipv6",
    "ipaddr",
    "remoteaddr",
    "remoteip",
    "clientip",
    "sourceip",
    "srcip",
    "dstip",
    "xforwardedfor",
    "forwardedfor",
    "peer",
    "ipadresse",
    "adresseip",
    "direccionip",
    "indirizzoip",
];
const NATIONAL_ID_WORDS: &[&str] = &[
    "ssn",
    "socialsecurity",
    "socialsecuritynumber",
    "nino",
    "ninumber",
    "nin",
    "nationalinsurance",
    "nationalinsurancenumber",
    "nationalid",
    "nationalidentifier",
    "nationalidnumber",
    "steuerid",
    "steueridentifikationsnummer",
    "steuernummer",
    "idnr",
    "identifikationsnummer",
    "taxid",
    "tin",
    "taxnumber",
    "nir",
    "insee",
    "numerosecu",
    "securitesociale",
    "numerodesecuritesociale",
    "secu",
    "dni",
    "nie",
    "nif",
    "nifnie",
    "dninie",
    "documento",
    "numerodocumento",
    "codicefiscale",
    "cf",
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "pesel",
    "personnummer",
    "personalid",
    "idnumber",
    "identitynumber",
    "identitycard",
    "idcard",
    "passport",
    "passportnumber",
    "reisepass",
    "nhs",
    "nhsnumber",
    "rrn",
    "rijksregisternummer",
    "numeroidentite",
    "personalausweis",
    "ausweisnummer",
    "cartaidentita",
    "identificacion",
    "nationalnumber",
    "citizenid",
    "citizennumber",
    "citizenship",
    "personalnumber",
    "documentnumber",
    "docnumber",
    "documentno",
    "passportno",
    "idno",
];
const ADDRESS_WORDS: &[&str] = &[
    "address",
    "addr",
    "street",
    "streetaddress",
    "addressline",
    "addressline1",
    "addressline2",
    "adresse",
    "anschrift",
    "strasse",
    "hausnummer",
    "wohnadresse",
    "direccion",
    "domicilio",
    "calle",
    "indirizzo",
    "residenza",
    "adres",
    "straat",
    "huisnummer",
    "woonadres",
    "postaladdress",
    "mailingaddress",
    "shippingaddress",
    "billingaddress",
    "homeaddress",
    "deliveryaddress",
    "shipto",
    "billto",
    "adressepostale",
];
const ADDRESS_STEMS: &[&str] = &["address", "adres", "strasse", "anschrift", "direccion", "indirizzo", "straat"];
const ADDRESS_NOT: &[&str] = &[
    "mac", "wallet", "web", "url", "server", "memory", "contract", "hardware", "bitcoin", "crypto", "eth", "id",
    "type", "verified", "count", "country", "city", "ort", "ville", "ciudad", "citta", "stad", "plaats", "zip",
    "postcode",
];
const POSTCODE_WORDS: &[&str] =
    &["zip", "zipcode", "postcode", "postalcode", "plz", "postleitzahl", "cp", "codepostal", "codigopostal", "cap"];
const PERSON_WORDS: &[&str] = &[
    "firstname",
    "fname",
    "lname",
    "mname",
    // FHIR's HumanName (`name[0].given`, `name[0].family`), and its loose spellings.
    "given",
    "givennames",
    "family",
    "lastname",
    "surname",
    "surnames",
    "familyname",
    "givenname",
    "middlename",
    "fullname",
    "forename",
    "forenames",
    "maidenname",
    "birthname",
    "vorname",
    "nachname",
    "familienname",
    "geburtsname",
    "prenom",
    "prenoms",
    "nom",
    "nomdefamille",
    "nomcomplet",
    "nombre",
    "nombres",
    "apellido",
    "apellidos",
    "nombrecompleto",
    "nome",
    "cognome",
    "nomecompleto",
    "naam",
    "voornaam",
    "achternaam",
    "tussenvoegsel",
    "volledigenaam",
    "cardholder",
    "cardholdername",
    "accountholder",
    "accountholdername",
    "holdername",
    "contactname",
    "contactperson",
    "customername",
    "clientname",
    "recipientname",
    "recipient",
    "addressee",
    "beneficiary",
    "beneficiaryname",
    "patient",
    "patientname",
    "employeename",
    "signatory",
    "authorname",
    "ownername",
    "personname",
    "guestname",
    "passengername",
    "attention",
    "attn",
    "ansprechpartner",
    "destinataire",
    "destinatario",
    "titular",
    "intestatario",
    "tenaamstelling",
    "kontoinhaber",
    "karteninhaber",
    "titulaire",
    "rekeninghouder",
    "contactpersoon",
    "ontvanger",
    "kontaktperson",
    "empfaenger",
    "empfanger",
    "nominativo",
    "interlocuteur",
    "interlocutrice",
    // Polish: imię, nazwisko, imię i nazwisko, odbiorca, właściciel konta.
    "imie",
    "imiona",
    "nazwisko",
    "imieinazwisko",
    "imienazwisko",
    "odbiorca",
    "wlascicielkonta",
];
/// Words that make `x_name` the name of a thing, not of a person.
const THING_WORDS: &[&str] = &[
    "product",
    "font",
    "item",
    "file",
    "filename",
    "user",
    "username",
    "host",
    "hostname",
    "domain",
    "company",
    "org",
    "organization",
    "organisation",
    "business",
    "brand",
    "shop",
    "store",
    "merchant",
    "app",
    "application",
    "service",
    "project",
    "team",
    "group",
    "category",
    "tag",
    "plan",
    "city",
    "country",
    "region",
    "bank",
    "device",
    "event",
    "campaign",
    "screen",
    "browser",
    "os",
    "model",
    "table",
    "column",
    "field",
    "key",
    "template",
    "queue",
    "job",
    "role",
    "department",
    "venue",
    "hotel",
    "airline",
    "vendor",
    "supplier",
    "partner",
    "class",
    "method",
    "function",
    "package",
    "module",
    "repo",
    "repository",
    "branch",
    "image",
    "container",
    "cluster",
    "node",
    "pod",
    "env",
    "environment",
    "zone",
    "metric",
    "label",
    "title",
    "street",
    "site",
    "page",
    "course",
    "account",
    "workspace",
    "channel",
    "network",
    "server",
    "database",
    "schema",
    "variant",
    "color",
    "colour",
    "size",
    "warehouse",
    "carrier",
    "article",
    "artikel",
    "produit",
    "producto",
    "prodotto",
    "firma",
    "entreprise",
    "empresa",
    "azienda",
    "bedrijf",
    "societe",
    "societa",
    "unternehmen",
    "nick",
    "nickname",
    "login",
    "handle",
    "short",
    "legal",
    "trade",
    "pet",
    "ship",
    "vessel",
    "course",
];
const PERSON_PARENTS: &[&str] = &[
    "customer",
    "client",
    "user",
    "person",
    "contact",
    "employee",
    "patient",
    "buyer",
    "recipient",
    "shipping",
    "billing",
    "holder",
    "cardholder",
    "sender",
    "author",
    "owner",
    "guest",
    "passenger",
    "member",
    "applicant",
    "candidate",
    "student",
    "tenant",
    "driver",
    "beneficiary",
    "signer",
    "kunde",
    "mitarbeiter",
    "cliente",
    "klant",
    "persona",
    "personne",
    "utente",
    "gebruiker",
    "emergencycontact",
    "shipto",
    "billto",
    "requester",
    "reporter",
    "assignee",
    "profile",
    "account",
    "subscriber",
];
/// Fields that often hold a person's name: `author`, `created_by`, `assignee`.
const MAYBE_PERSON: &[&str] = &[
    "holder",
    "person",
    "contact",
    "customer",
    "client",
    "recipient",
    "kunde",
    "cliente",
    "klant",
    "klient",
    "author",
    "owner",
    "assignee",
    "reporter",
    "requester",
    "createdby",
    "updatedby",
    "approvedby",
    "signedby",
    "manager",
    "employee",
    "sender",
    "passenger",
    "guest",
    "member",
    "attendee",
    "speaker",
    "driver",
    "agent",
    "applicant",
    "tenant",
    "landlord",
    "doctor",
    "physician",
    "teacher",
    "student",
    "witness",
    "emergencycontact",
    "nextofkin",
    "spouse",
    "beneficiary",
];

/// Fields whose value is an organisation (the head noun, the last word, decides:
/// `company` is one, `company_contact` is a contact).
const ORGANISATION_WORDS: &[&str] = &[
    "company",
    "organization",
    "organisation",
    "org",
    "employer",
    "business",
    "firm",
    "vendor",
    "supplier",
    "merchant",
    "brand",
    "manufacturer",
    "publisher",
    "firma",
    "unternehmen",
    "arbeitgeber",
    "entreprise",
    "societe",
    "employeur",
    "empresa",
    "azienda",
    "societa",
    "bedrijf",
    "werkgever",
];

/// Fields that name a place.
const PLACE_WORDS: &[&str] = &[
    "city",
    "town",
    "locality",
    "village",
    "country",
    "region",
    "state",
    "province",
    "county",
    "district",
    "ort",
    "stadt",
    "wohnort",
    "ville",
    "commune",
    "ciudad",
    "localidad",
    "provincia",
    "citta",
    "comune",
    "plaats",
    "stad",
    "woonplaats",
    "land",
    "pays",
    "pais",
    "paese",
];

/// Objects whose `line1` or `street` is an address line.
const ADDRESS_PARENTS: &[&str] = &[
    "shipping",
    "billing",
    "delivery",
    "home",
    "work",
    "postal",
    "mailing",
    "residence",
    "shipto",
    "billto",
    "location",
    "lieferung",
    "rechnung",
    "livraison",
    "facturation",
    "envio",
    "facturacion",
    "spedizione",
    "fatturazione",
    "levering",
    "bezorging",
    "factuur",
];
/// Fields that say their object is a product, not a person.
const PRODUCT_SIBLINGS: &[&str] = &[
    "sku",
    "ean",
    "upc",
    "gtin",
    "isbn",
    "price",
    "unitprice",
    "stock",
    "inventory",
    "weight",
    "dimensions",
    "brand",
    "category",
    "qty",
    "quantity",
    "msrp",
    "barcode",
    "asin",
    "mpn",
];
const NAME_WORDS: &[&str] = &["name", "names", "naam", "nom", "nombre", "nome"];
const USERNAME_WORDS: &[&str] = &[
    "username",
    "login",
    "handle",
    "nickname",
    "screenname",
    "userid",
    "loginname",
    "alias",
    "gamertag",
    "nomeutente",
    "benutzername",
    "gebruikersnaam",
    "pseudo",
];
const ORDER_WORDS: &[&str] = &[
    "order",
    "orders",
    "ordernumber",
    "orderid",
    "invoice",
    "invoicenumber",
    "sku",
    "ean",
    "upc",
    "gtin",
    "isbn",
    "barcode",
    "tracking",
    "trackingnumber",
    "reference",
    "ref",
    "transaction",
    "txn",
    "shipment",
    "parcel",
    "ticket",
    "case",
    "id",
    "ids",
    "uuid",
    "guid",
    "number",
    "no",
    "nr",
    "num",
    "code",
    "amount",
    "price",
    "total",
    "subtotal",
    "qty",
    "quantity",
    "count",
    "balance",
    "cost",
    "fee",
    "bestellnummer",
    "rechnungsnummer",
    "commande",
    "facture",
    "pedido",
    "factura",
    "ordine",
    "fattura",
    "bestelling",
    "factuur",
    "batch",
    "lot",
    "serial",
    "stock",
    "bytes",
    "size",
    "duration",
    "latency",
    "port",
    "pid",
    "status",
    "score",
    "points",
    "rank",
    "index",
    "seq",
    "sequence",
    "offset",
    "limit",
    "page",
];
const VERSION_WORDS: &[&str] =
    &["version", "ver", "build", "release", "firmware", "sdk", "appversion", "osversion", "semver", "revision", "rev"];
const HASH_WORDS: &[&str] = &[
    "hash",
    "checksum",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "digest",
    "etag",
    "commit",
    "fingerprint",
    "pseudonym",
    "pseudo",
    "anon",
    "anonid",
    "crc",
    "nonce",
    "salt",
    "signature",
    "sig",
];
const TIME_WORDS: &[&str] = &[
    "timestamp",
    "created",
    "updated",
    "deleted",
    "date",
    "time",
    "ts",
    "at",
    "datetime",
    "since",
    "until",
    "expires",
    "birthday",
    "dob",
    "datum",
    "fecha",
    "period",
];
const PART_WORDS: &[&str] =
    &["line1", "line2", "line3", "line", "number", "value", "nr", "num", "no", "e164", "national"];

fn classify(w: &Words) -> Generic {
    let known = |h| Generic::Known(h);
    if w.has(&["ipaddress", "ipaddr", "ip"]) && !w.has(&["hash", "country"]) {
        return known(Hint::Ip);
    }
    if w.has(EMAIL_WORDS) {
        return if w.has(EMAIL_NOT) { known(Hint::None) } else { known(Hint::Email) };
    }
    if w.has(SECRET_WORDS) || (w.has(&["key"]) && w.has(&["api", "access", "secret", "private", "signing", "master"])) {
        if w.has(SECRET_NOT) {
            return known(Hint::None);
        }
        return if w.has(PASSWORD_WORDS) { known(Hint::Password) } else { known(Hint::Token) };
    }
    if w.has(PASSWORD_WORDS) && !w.has(SECRET_NOT) {
        return known(Hint::Password);
    }
    if w.has(USERNAME_WORDS) || w.joined == "user" {
        return known(Hint::NotAPerson);
    }
    if w.has(NATIONAL_ID_WORDS) {
        return known(Hint::NationalId);
    }
    if w.has(PHONE_WORDS) || w.contains(PHONE_STEMS) {
        return if w.has(PHONE_NOT) { known(Hint::None) } else { known(Hint::Phone) };
    }
    if w.has(IBAN_WORDS) {
        return known(Hint::Iban);
    }
    if w.has(CARD_WORDS) {
        if w.has(&["holder"]) {
            return known(Hint::PersonName);
        }
        return if w.has(CARD_NOT) { known(Hint::None) } else { known(Hint::Card) };
    }
    if w.has(IP_WORDS) {
        return known(Hint::Ip);
    }
    if w.has(POSTCODE_WORDS) {
        return known(Hint::Postcode);
    }
    // Places are named after people ("San José", "Charlotte"); a place is not a person.
    if w.has(PLACE_WORDS) && w.words.len() <= 2 && !w.has(ADDRESS_WORDS) {
        return known(Hint::NotAPerson);
    }
    if (w.has(ADDRESS_WORDS) || w.contains(ADDRESS_STEMS)) && !w.has(ADDRESS_NOT) {
        return known(Hint::Address);
    }
    if w.has(PERSON_WORDS) {
        // `account_holder` is a person even though `account` is a thing.
        let compound = PERSON_WORDS.contains(&w.joined.as_str());
        return if !compound && w.has(THING_WORDS) { known(Hint::NotAPerson) } else { known(Hint::PersonName) };
    }
    if w.has(NAME_WORDS) {
        if w.has(THING_WORDS) {
            return known(Hint::NotAPerson);
        }
        if w.words.len() > 1 && w.has(PERSON_PARENTS) {
            return known(Hint::PersonName);
        }
        return Generic::Name;
    }
    // `first` and `last` alone, as some exports split a name: a name only if it reads as one.
    if matches!(w.joined.as_str(), "first" | "last" | "middle") {
        return known(Hint::MaybeName);
    }
    if w.words.last().is_some_and(|head| ORGANISATION_WORDS.contains(&head.as_str())) {
        return known(Hint::NotAPerson);
    }
    if w.has(MAYBE_PERSON) && w.words.len() <= 2 && !w.has(ORDER_WORDS) && !w.has(HASH_WORDS) {
        return known(Hint::MaybeName);
    }
    if w.has(VERSION_WORDS) {
        return known(Hint::Version);
    }
    if w.has(HASH_WORDS) {
        return known(Hint::HashLike);
    }
    if w.has(PART_WORDS) && w.words.len() == 1 {
        return Generic::Part;
    }
    if w.has(ORDER_WORDS) {
        return known(Hint::OrderLike);
    }
    if w.has(TIME_WORDS) {
        return known(Hint::TimeLike);
    }

    known(Hint::None)
}

fn classify_parent(w: &Words) -> ParentKind {
    // `ship_to`, `bill_to`, `cardholder`: a person as a whole.
    if PERSON_PARENTS.contains(&w.joined.as_str()) {
        return ParentKind::Person;
    }
    // The head noun is the last word: `supplier_contact` is a contact, `contact_company` a
    // company.
    if w.words.len() > 1 {
        let head = Words { words: w.words[w.words.len() - 1..].to_vec(), joined: w.words[w.words.len() - 1].clone() };
        if let kind @ (ParentKind::Person | ParentKind::Thing) = classify_parent(&head) {
            return kind;
        }
    }
    // A list of things is named in the plural: `items[2].name`, `products[0].name`.
    let singular = Words {
        words: w.words.iter().map(|x| x.strip_suffix('s').unwrap_or(x).to_owned()).collect(),
        joined: w.joined.strip_suffix('s').unwrap_or(&w.joined).to_owned(),
    };
    let w = if singular.has(THING_WORDS) || singular.has(ORDER_WORDS) || singular.has(PERSON_PARENTS) {
        &singular
    } else {
        w
    };
    if w.has(PERSON_PARENTS) && !w.has(THING_WORDS) {
        ParentKind::Person
    } else if w.has(THING_WORDS) || w.has(ORDER_WORDS) {
        ParentKind::Thing
    } else {
        ParentKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(path: &str) -> Hint {
        Hint::of_path(Some(path))
    }

    #[test]
    fn names_in_many_spellings() {
        for p in
            ["first_name", "lastName", "Vorname", "nachname", "prénom", "apellidos", "cognome", "voornaam", "surname"]
        {
            assert_eq!(h(p), Hint::PersonName, "{p}");
        }
        assert_eq!(h("customer.name"), Hint::PersonName);
        assert_eq!(h("shipTo.name"), Hint::PersonName);
        assert_eq!(h("product.name"), Hint::NotAPerson);
        assert_eq!(h("product_name"), Hint::NotAPerson);
        assert_eq!(h("name"), Hint::MaybeName);
        assert_eq!(h("username"), Hint::NotAPerson);
        assert_eq!(h("card_holder"), Hint::PersonName);
        assert_eq!(h("fname"), Hint::PersonName);
        assert_eq!(h("name[0].family"), Hint::PersonName);
        assert_eq!(h("font_family"), Hint::NotAPerson);
        assert_eq!(h("person"), Hint::MaybeName);
        assert_eq!(h("company"), Hint::NotAPerson);
        assert_eq!(h("employer"), Hint::NotAPerson);
        assert_eq!(h("company_contact"), Hint::MaybeName);
        // Polish, with its letters folded; Dutch, German, French and Italian compounds.
        for p in ["imię", "nazwisko", "imie_i_nazwisko", "odbiorca", "właściciel_konta", "contactpersoon", "ontvanger"]
        {
            assert_eq!(h(p), Hint::PersonName, "{p}");
        }
        for p in ["empfaenger", "nominativo", "interlocuteur"] {
            assert_eq!(h(p), Hint::PersonName, "{p}");
        }
        assert_eq!(h("klient"), Hint::MaybeName);
        assert_eq!(h("first"), Hint::MaybeName);
        assert_eq!(h("last"), Hint::MaybeName);
        assert_eq!(h("komórka"), Hint::Phone);
        assert_eq!(h("celular"), Hint::Phone);
        assert_eq!(h("afleveradres"), Hint::Address);
    }

    #[test]
    fn other_kinds() {
        assert_eq!(h("user.contact.email"), Hint::Email);
        assert_eq!(h("emailAddress"), Hint::Email);
        assert_eq!(h("email_verified"), Hint::None);
        assert_eq!(h("Telefonnummer"), Hint::Phone);
        assert_eq!(h("mobile_phone"), Hint::Phone);
        assert_eq!(h("phone.number"), Hint::Phone);
        assert_eq!(h("ip_address"), Hint::Ip);
        assert_eq!(h("billing_address.line1"), Hint::Address);
        assert_eq!(h("Straße"), Hint::Address);
        assert_eq!(h("zip"), Hint::Postcode);
        assert_eq!(h("api_key"), Hint::Token);
        assert_eq!(h("password"), Hint::Password);
        assert_eq!(h("token_type"), Hint::None);
        assert_eq!(h("codice_fiscale"), Hint::NationalId);
        assert_eq!(h("passport_number"), Hint::NationalId);
        assert_eq!(h("order_id"), Hint::OrderLike);
        assert_eq!(h("items[2].sku"), Hint::OrderLike);
        assert_eq!(h("app_version"), Hint::Version);
        assert_eq!(h("sha256"), Hint::HashLike);
        assert_eq!(h("created_at"), Hint::TimeLike);
        assert_eq!(h("iban"), Hint::Iban);
        assert_eq!(h("card_number"), Hint::Card);
        assert_eq!(h("card_last4"), Hint::None);
        assert_eq!(h("hotel"), Hint::None);
        assert_eq!(h("created_by"), Hint::MaybeName);
        assert_eq!(h("author"), Hint::MaybeName);
        assert_eq!(h("customer_id"), Hint::OrderLike);
    }
}
