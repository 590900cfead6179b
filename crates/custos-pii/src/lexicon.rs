//! The word lists the name and address detectors look words up in, embedded at build time
//! from `lexicon/*.txt` (written for custos, not downloaded). Keys are lower-case with
//! accents folded (`Müller` and `Muller` are one key).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::words::key;

/// A small, fast hash for short keys (FxHash's mixing step).
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of lower-case keys.
pub(crate) type KeySet = HashSet<Box<str>, BuildHasherDefault<FxHasher>>;

/// Particles inside names: `Ludwig van Beethoven`, `María de la Cruz`, `Leonardo da Vinci`.
pub(crate) const PARTICLES: &[&str] = &[
    "van", "der", "den", "de", "la", "le", "del", "della", "di", "da", "dos", "das", "du", "von", "zu", "ter", "ten", "te",
    "y", "i", "e", "mac", "st", "'t", "des", "dei", "degli", "do",
];

/// Courtesy titles that come before a name.
pub(crate) const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lady", "lord", "herr", "frau", "fräulein", "m",
    "mme", "mlle", "monsieur", "madame", "mademoiselle", "sr", "sra", "srta", "señor", "senor", "señora", "senora",
    "don", "doña", "dona", "sig", "sigra", "signor", "signora", "signore", "signorina", "dott", "dottssa", "avv", "ing",
    "dhr", "mevr", "mevrouw", "meneer", "heer", "pan", "pani",
];

/// Phrases after which a name follows, as folded keys: (words, strong). A weak phrase ("I am", "ich bin")
/// needs a known given name or two capitalised words after it.
pub(crate) const INTRODUCTIONS: &[(&[&str], bool)] = &[
    (&["my", "name", "is"], true),
    (&["name", "is"], true),
    (&["name"], true),
    (&["names"], true),
    (&["i", "am"], false),
    (&["i'm"], false),
    (&["this", "is"], false),
    (&["je", "m'appelle"], true),
    (&["m'appelle"], true),
    (&["je", "suis"], false),
    (&["mon", "nom", "est"], true),
    (&["ich", "heisse"], true),
    (&["ich", "heisse"], true),
    (&["mein", "name", "ist"], true),
    (&["ich", "bin"], false),
    (&["me", "llamo"], true),
    (&["mi", "nombre", "es"], true),
    (&["soy"], false),
    (&["mi", "chiamo"], true),
    (&["il", "mio", "nome", "e"], true),
    (&["sono"], false),
    (&["mijn", "naam", "is"], true),
    (&["ik", "heet"], true),
    (&["ik", "ben"], false),
    (&["regards"], true),
    (&["cheers"], false),
    (&["thanks"], false),
    (&["sincerely"], true),
    (&["signed"], true),
    (&["grusse"], true),
    (&["grusse"], true),
    (&["gruss"], true),
    (&["cordialement"], true),
    (&["saludos"], true),
    (&["atentamente"], true),
    (&["saluti"], true),
    (&["groet"], true),
    (&["groeten"], true),
    (&["contact"], false),
    (&["attn"], true),
    (&["c", "o"], true),
    (&["customer"], false),
    (&["patient"], true),
    (&["employee"], false),
    (&["signed", "by"], true),
    (&["from"], false),
    (&["to"], false),
    (&["dear"], true),
    (&["hello"], false),
    (&["hi"], false),
    (&["hallo"], false),
    (&["bonjour"], false),
    (&["hola"], false),
    (&["ciao"], false),
    (&["liebe"], true),
    (&["lieber"], true),
    (&["cher"], true),
    (&["chere"], true),
    (&["estimado"], true),
    (&["estimada"], true),
    (&["gentile"], true),
    (&["caro"], true),
    (&["cara"], true),
    (&["beste"], false),
    (&["geachte"], true),
    (&["for"], false),
    (&["by"], false),
    (&["with"], false),
    (&["spoke", "with"], true),
    (&["spoke", "to"], true),
    (&["called"], false),
    (&["fur"], false),
    (&["an"], false),
    (&["pour"], false),
    (&["para"], false),
    (&["per"], false),
    (&["voor"], false),
    (&["ask", "for"], true),
    (&["asked", "for"], true),
];

/// Street types written before the street's name: `rue de la Paix`, `Calle Mayor`, `Via Roma`.
pub(crate) const STREET_BEFORE: &[&str] = &[
    "rue", "avenue", "av", "ave", "boulevard", "bd", "bld", "blvd", "chemin", "allée", "allee", "impasse", "place", "pl",
    "quai", "route", "rte", "cours", "square", "calle", "c", "avenida", "avda", "plaza", "pza", "paseo", "camino",
    "carretera", "ctra", "ronda", "travesía", "travesia", "glorieta", "via", "viale", "piazza", "piazzale", "corso",
    "vicolo", "largo", "strada", "contrada", "lungomare", "rua", "ul", "ulica", "aleja", "plac", "straße", "strasse",
    "weg", "platz", "laan", "plein",
];

/// Street types written after the street's name: `Baker Street`, `Berliner Straße`.
pub(crate) const STREET_AFTER: &[&str] = &[
    "street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "drive", "dr", "boulevard", "blvd", "court", "ct",
    "place", "pl", "way", "close", "crescent", "cres", "terrace", "tce", "square", "sq", "highway", "hwy", "parkway",
    "pkwy", "circle", "cir", "trail", "trl", "row", "mews", "grove", "gardens", "gdns", "walk", "parade", "hill",
    "park", "green", "vale", "rise", "wharf", "end", "straße", "strasse", "str", "weg", "allee", "platz", "gasse",
    "damm", "ring", "ufer", "chaussee", "steig", "pfad", "markt", "straat", "laan", "plein", "gracht", "kade",
    "singel", "dijk", "dreef", "steeg", "pad", "hof",
];

/// Endings of one-word street names: `Hauptstraße`, `Lindenweg`, `Keizersgracht`.
pub(crate) const STREET_SUFFIXES: &[&str] = &[
    "straße", "strasse", "str", "weg", "allee", "platz", "gasse", "damm", "ufer", "chaussee", "ring", "steig",
    "straat", "laan", "gracht", "plein", "kade", "singel", "dijk", "dreef", "steeg", "markt",
];

/// Words that start a post-office box: `PO Box 12`, `Postfach 12 34`.
pub(crate) const PO_BOX: &[&str] = &["box", "postfach", "postbus", "apartado", "bp", "casella"];

/// Every word list.
pub(crate) struct Lexicon {
    /// Given names.
    pub(crate) given: KeySet,
    /// Given names that are also common words (`will`, `may`, `rose`).
    pub(crate) ambiguous: KeySet,
    /// Surnames.
    pub(crate) surnames: KeySet,
    /// Common words that are not names.
    pub(crate) common: KeySet,
    /// Particles, titles, street types as sets.
    pub(crate) particles: KeySet,
    pub(crate) titles: KeySet,
    pub(crate) street_before: KeySet,
    pub(crate) street_after: KeySet,
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).flat_map(str::split_whitespace)
}

fn set<'a>(items: impl Iterator<Item = &'a str>) -> KeySet {
    let mut buf = String::new();
    items.map(|w| Box::from(key(w, &mut buf))).collect()
}

impl Lexicon {
    pub(crate) fn new() -> Lexicon {
        let given_text = include_str!("../lexicon/given_names.txt");
        let surname_text = include_str!("../lexicon/surnames.txt");
        let common_text = include_str!("../lexicon/common_words.txt");
        let common = set(words(common_text));
        let given = set(words(given_text).map(|w| w.trim_end_matches('*')));
        let mut ambiguous = set(words(given_text).filter(|w| w.ends_with('*')).map(|w| w.trim_end_matches('*')));
        ambiguous.extend(given.iter().filter(|g| common.contains(*g)).cloned());
        let particles = set(PARTICLES.iter().copied());
        let surnames = set(words(surname_text).filter(|w| !PARTICLES.contains(w)));
        Lexicon {
            given,
            ambiguous,
            surnames,
            common,
            particles,
            titles: set(TITLES.iter().copied()),
            street_before: set(STREET_BEFORE.iter().copied()),
            street_after: set(STREET_AFTER.iter().copied()),
        }
    }
}
