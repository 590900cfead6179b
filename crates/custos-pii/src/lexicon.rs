//! The word lists the name and address detectors look words up in, embedded at build time
//! from `lexicon/*.txt` (written for custos, not downloaded). Keys are lower-case with
//! accents folded (`Müller` and `Muller` are one key).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::words::key;

/// A small, fast hash for short keys (FxHash's mixing step).
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Particles inside names: `Ludwig van Beethoven`, `María de la Cruz`, `Leonardo da Vinci`.
pub(crate) const PARTICLES: &[&str] = &[
    "van", "der", "den", "de", "la", "le", "del", "della", "di", "da", "dos", "das", "du", "von", "zu", "ter", "ten",
    "te", "y", "i", "e", "mac", "st", "'t", "des", "dei", "degli", "do",
];

/// Courtesy titles that come before a name.
pub(crate) const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "sir",
    "dame",
    "lady",
    "lord",
    "herr",
    "frau",
    "fräulein",
    "m",
    "mme",
    "mlle",
    "monsieur",
    "madame",
    "mademoiselle",
    "sr",
    "sra",
    "srta",
    "señor",
    "senor",
    "señora",
    "senora",
    "senorita",
    "don",
    "doña",
    "dona",
    "sig",
    "sigra",
    "signor",
    "signora",
    "signore",
    "signorina",
    "dott",
    "dottssa",
    "avv",
    "ing",
    "dhr",
    "mevr",
    "mevrouw",
    "meneer",
    "heer",
    "pan",
    "pani",
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
    (&["holder"], true),
    (&["account", "holder"], true),
    (&["cardholder"], true),
    // Dutch "ten name van": the holder of an account.
    (&["t", "n", "v"], true),
    (&["tnv"], true),
    (&["ten", "name", "van"], true),
    (&["ask", "for"], true),
    (&["beneficiary"], true),
    (&["recipient"], false),
    (&["kontoinhaber"], true),
    (&["titulaire"], true),
    (&["titular"], true),
    (&["intestatario"], true),
    (&["attn"], true),
    (&["c", "o"], true),
    (&["customer"], false),
    (&["cliente"], false),
    (&["client"], false),
    (&["kunde"], false),
    (&["klant"], false),
    (&["klient"], false),
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
    (&["call"], false),
    (&["ask"], false),
    (&["tell"], false),
    (&["email"], false),
    (&["meet"], false),
    (&["met"], false),
    (&["visit"], false),
    (&["visited"], false),
    (&["thank"], false),
    (&["notify"], false),
    (&["remind"], false),
    (&["cc"], false),
    (&["appeler"], false),
    (&["contacter"], false),
    (&["llamar", "a"], false),
    (&["contactar", "a"], false),
    (&["chiamare"], false),
    (&["contattare"], false),
    (&["bel"], false),
    (&["bellen"], false),
    (&["kontakt"], false),
    (&["ansprechpartner"], true),
    (&["interlocuteur"], true),
    (&["referente"], true),
    (&["contactpersoon"], true),
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
    "rue",
    "avenue",
    "av",
    "ave",
    "boulevard",
    "bd",
    "bld",
    "blvd",
    "chemin",
    "allée",
    "allee",
    "impasse",
    "place",
    "pl",
    "quai",
    "route",
    "rte",
    "cours",
    "square",
    "calle",
    "c",
    "avenida",
    "avda",
    "plaza",
    "pza",
    "paseo",
    "camino",
    "carretera",
    "ctra",
    "ronda",
    "travesía",
    "travesia",
    "glorieta",
    "via",
    "viale",
    "piazza",
    "piazzale",
    "corso",
    "vicolo",
    "largo",
    "strada",
    "contrada",
    "lungomare",
    "rua",
    "ul",
    "ulica",
    "aleja",
    "al",
    "aleje",
    "os",
    "osiedle",
    "plac",
    "straße",
    "strasse",
    "weg",
    "platz",
    "laan",
    "plein",
    "callejon",
    "callejón",
    "pasaje",
    "alameda",
    "cuesta",
    "urbanizacion",
    "urbanización",
    "acceso",
    "canada",
    "cañada",
    "rambla",
    "borgo",
    "rotonda",
    "incrocio",
    "canale",
    "stretto",
    "sentier",
    "passage",
    "cite",
    "cité",
    "traverse",
    "ruelle",
    "lungotevere",
    "salita",
    "vico",
    // Portuguese, and Québec's rural roads.
    "praça",
    "praca",
    "travessa",
    "estrada",
    "montée",
    "montee",
    "rang",
];

/// Street types written after the street's name: `Baker Street`, `Berliner Straße`. The
/// ones that are also everyday words are in [`WEAK_STREET_AFTER`] and count as these too.
pub(crate) const STREET_AFTER: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "av",
    "lane",
    "ln",
    "dr",
    "boulevard",
    "blvd",
    "ct",
    "pl",
    "crescent",
    "cres",
    "tce",
    "sq",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
    "cir",
    "trl",
    "gdns",
    "straße",
    "strasse",
    "str",
    "weg",
    "allee",
    "platz",
    "gasse",
    "damm",
    "ufer",
    "chaussee",
    "steig",
    "pfad",
    "straat",
    "laan",
    "plein",
    "gracht",
    "kade",
    "singel",
    "dijk",
    "dreef",
    "steeg",
    "expressway",
    "freeway",
    "motorway",
    "turnpike",
];

/// Street types that are also everyday words ("Hard Drive", "Green Tea", "Town Square"):
/// an address needs a break, a number or nothing after them.
pub(crate) const WEAK_STREET_AFTER: &[&str] = &[
    "drive",
    "court",
    "place",
    "way",
    "close",
    "square",
    "circle",
    "trail",
    "row",
    "mews",
    "grove",
    "gardens",
    "walk",
    "parade",
    "hill",
    "park",
    "green",
    "vale",
    "rise",
    "wharf",
    "end",
    "markt",
    "hof",
    "pad",
    "terrace",
    "alley",
    "branch",
    "brook",
    "brooks",
    "burg",
    "bypass",
    "camp",
    "canyon",
    "cape",
    "causeway",
    "cliff",
    "club",
    "common",
    "corner",
    "cove",
    "creek",
    "crest",
    "crossing",
    "curve",
    "dale",
    "estate",
    "estates",
    "extension",
    "falls",
    "ferry",
    "field",
    "fields",
    "ford",
    "forest",
    "forge",
    "fork",
    "fort",
    "glen",
    "harbor",
    "harbour",
    "haven",
    "heights",
    "highlands",
    "hollow",
    "inlet",
    "island",
    "isle",
    "junction",
    "knoll",
    "lakes",
    "landing",
    "lodge",
    "loop",
    "manor",
    "meadow",
    "meadows",
    "mill",
    "mills",
    "mission",
    "mount",
    "neck",
    "orchard",
    "oval",
    "overpass",
    "pass",
    "passage",
    "path",
    "pike",
    "pines",
    "plains",
    "plaza",
    "point",
    "points",
    "prairie",
    "ranch",
    "ridge",
    "route",
    "shore",
    "shores",
    "skyway",
    "springs",
    "spur",
    "stream",
    "summit",
    "trace",
    "track",
    "underpass",
    "valley",
    "viaduct",
    "view",
    "villas",
    "vista",
    "wells",
    "chase",
    "approach",
    // The rest of the USPS street suffixes (Publication 28, appendix C1), which generators
    // of test addresses draw from too.
    "rue",
    "bridge",
    "burgs",
    "center",
    "centers",
    "circles",
    "cliffs",
    "commons",
    "corners",
    "course",
    "courts",
    "coves",
    "crossroad",
    "crossroads",
    "dam",
    "divide",
    "drives",
    "extensions",
    "fall",
    "flat",
    "flats",
    "fords",
    "forges",
    "forks",
    "garden",
    "gateway",
    "glens",
    "greens",
    "groves",
    "harbors",
    "hills",
    "islands",
    "junctions",
    "key",
    "keys",
    "knolls",
    "lake",
    "land",
    "light",
    "lights",
    "loaf",
    "lock",
    "locks",
    "mall",
    "manors",
    "mountain",
    "mountains",
    "parks",
    "parkways",
    "pine",
    "plain",
    "port",
    "ports",
    "radial",
    "ramp",
    "rapid",
    "rapids",
    "rest",
    "ridges",
    "river",
    "roads",
    "run",
    "shoal",
    "shoals",
    "spring",
    "spurs",
    "squares",
    "station",
    "stravenue",
    "streets",
    "throughway",
    "trafficway",
    "trailer",
    "tunnel",
    "union",
    "unions",
    "valleys",
    "views",
    "village",
    "villages",
    "ville",
    "walks",
    "wall",
    "ways",
    "well",
];

/// Endings of one-word street names: `Hauptstraße`, `Lindenweg`, `Keizersgracht`.
pub(crate) const STREET_SUFFIXES: &[&str] = &[
    "straße", "strasse", "str", "weg", "allee", "platz", "gasse", "damm", "ufer", "chaussee", "ring", "steig",
    "straat", "laan", "gracht", "plein", "kade", "singel", "dijk", "dreef", "steeg", "markt", "hof", "wal", "baan",
    "park",
    // Danish, Swedish, Norwegian and Finnish streets are one word too: Rosenvængetsgade,
    // Storgatan, Kirkeveien, Mannerheiminkatu.
    "vej", "gade", "gatan", "gata", "vagen", "vag", "veien", "vei", "katu",
];

/// Words that start a post-office box: `PO Box 12`, `Postfach 12 34`.
pub(crate) const PO_BOX: &[&str] = &["box", "postfach", "postbus", "apartado", "bp", "casella"];

/// Membership of a word in the lists, as bits.
pub(crate) mod flag {
    /// A given name.
    pub(crate) const GIVEN: u16 = 1;
    /// A given name that is also a common word.
    pub(crate) const AMBIGUOUS: u16 = 1 << 1;
    /// A surname.
    pub(crate) const SURNAME: u16 = 1 << 2;
    /// A common word that is not a name.
    pub(crate) const COMMON: u16 = 1 << 3;
    /// A particle inside names.
    pub(crate) const PARTICLE: u16 = 1 << 4;
    /// A courtesy title.
    pub(crate) const TITLE: u16 = 1 << 5;
    /// A street type written before the name.
    pub(crate) const STREET_BEFORE: u16 = 1 << 6;
    /// A street type written after the name.
    pub(crate) const STREET_AFTER: u16 = 1 << 7;
    /// The last word of an introduction phrase.
    pub(crate) const INTRO_END: u16 = 1 << 8;
    /// A word that starts a post-office box.
    pub(crate) const PO_BOX: u16 = 1 << 9;
    /// A street type that is also an everyday word.
    pub(crate) const WEAK_STREET: u16 = 1 << 10;
}

/// Every word list, as one map from key to membership bits.
pub(crate) struct Lexicon {
    flags: HashMap<Box<str>, u16, BuildHasherDefault<FxHasher>>,
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).flat_map(str::split_whitespace)
}

impl Lexicon {
    pub(crate) fn new() -> Lexicon {
        let mut lex = Lexicon { flags: HashMap::default() };
        let given_text = include_str!("../lexicon/given_names.txt");
        let surname_text = include_str!("../lexicon/surnames.txt");
        let common_text = include_str!("../lexicon/common_words.txt");
        lex.add(words(common_text), flag::COMMON);
        lex.add(words(given_text).map(|w| w.trim_end_matches('*')), flag::GIVEN);
        lex.add(words(given_text).filter(|w| w.ends_with('*')).map(|w| w.trim_end_matches('*')), flag::AMBIGUOUS);
        for bits in lex.flags.values_mut() {
            if *bits & (flag::GIVEN | flag::COMMON) == flag::GIVEN | flag::COMMON {
                *bits |= flag::AMBIGUOUS;
            }
        }
        lex.add(words(surname_text).filter(|w| !PARTICLES.contains(w)), flag::SURNAME);
        lex.add(PARTICLES.iter().copied(), flag::PARTICLE);
        lex.add(TITLES.iter().copied(), flag::TITLE);
        lex.add(STREET_BEFORE.iter().copied(), flag::STREET_BEFORE);
        lex.add(STREET_AFTER.iter().copied(), flag::STREET_AFTER);
        lex.add(INTRODUCTIONS.iter().filter_map(|(phrase, _)| phrase.last().copied()), flag::INTRO_END);
        lex.add(PO_BOX.iter().copied(), flag::PO_BOX);
        lex.add(WEAK_STREET_AFTER.iter().copied(), flag::STREET_AFTER | flag::WEAK_STREET);
        lex
    }

    fn add<'a>(&mut self, items: impl Iterator<Item = &'a str>, bits: u16) {
        let mut buf = String::new();
        for w in items {
            *self.flags.entry(Box::from(key(w, &mut buf))).or_insert(0) |= bits;
        }
    }

    /// The membership bits of a key (0 for an unknown word).
    pub(crate) fn flags(&self, key: &str) -> u16 {
        self.flags.get(key).copied().unwrap_or(0)
    }
}
