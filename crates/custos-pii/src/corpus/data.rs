//! The generator's own word lists, per locale. They are written apart from the detector's
//! lexicons (`lexicon/*.txt`) and hold names those lists do not, so that the evaluation
//! measures what the detector does on names it has never seen.

/// One locale's material.
pub(super) struct Locale {
    pub(super) tag: &'static str,
    pub(super) given: &'static [&'static str],
    pub(super) surnames: &'static [&'static str],
    pub(super) streets: &'static [&'static str],
    pub(super) cities: &'static [&'static str],
    pub(super) domains: &'static [&'static str],
    pub(super) country: &'static str,
}

pub(super) const LOCALES: &[Locale] = &[
    Locale {
        tag: "en-US",
        given: &[
            "James", "Mary", "Robert", "Patricia", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "Tyrone",
            "Keisha", "DeShawn", "Brianna", "Cody", "Brittany", "Travis", "Kaylee", "Dakota", "Latoya", "Marcus",
            "Jasmine", "Trevor", "Savannah", "Colton", "Destiny", "Emily", "Noah", "Ava", "Ethan", "Madison",
        ],
        surnames: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
            "Whitfield", "Cavanaugh", "Okafor", "Delacroix", "Hendricks", "Pruitt", "Stroud", "Kowalczyk", "Nguyen",
            "Fitzgerald", "Abernathy", "Castellanos", "McAllister", "Washburn", "Lindqvist", "Harrington", "Boateng",
        ],
        streets: &[
            "Maple", "Oak", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hillside", "Sunset", "Park", "Highland",
            "Jefferson", "Madison", "Franklin", "Willow", "Meadowbrook",
        ],
        cities: &[
            "Springfield, IL 62704", "Austin, TX 78701", "Portland, OR 97205", "Denver, CO 80202",
            "Columbus, OH 43215", "Raleigh, NC 27601", "Tampa, FL 33602", "Madison, WI 53703",
        ],
        domains: &["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net", "example.com"],
        country: "US",
    },
    Locale {
        tag: "en-GB",
        given: &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Poppy", "Jack", "Freya", "Alfie", "Imogen", "Rhys", "Ffion",
            "Callum", "Niamh", "Angus", "Morag", "Declan", "Siobhan", "Tobias", "Harriet", "Euan", "Cerys", "Rory",
            "Eilidh", "Hamish", "Bethan", "Jamie", "Sophie",
        ],
        surnames: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker",
            "Featherstone", "Ashworth", "Pennington", "Blackwood", "Llewellyn", "Macintyre", "Cartwright",
            "Thistlethwaite", "Ogilvy", "Prendergast", "Rowbotham", "Fairbairn", "Higginbottom", "Winterbourne",
        ],
        streets: &[
            "High", "Station", "Church", "Victoria", "Green", "Manor", "Kings", "Queens", "Mill", "Chapel", "Albert",
            "Grange", "Windsor", "York",
        ],
        cities: &[
            "London SW1A 2AA", "Manchester M1 4BT", "Leeds LS1 4AP", "Bristol BS1 5TR", "Glasgow G2 8LU",
            "Cardiff CF10 1EP", "York YO1 7HH", "Oxford OX1 2JD",
        ],
        domains: &["gmail.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk", "outlook.com", "sky.com"],
        country: "GB",
    },
    Locale {
        tag: "de-DE",
        given: &[
            "Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Maximilian", "Sophie", "Jürgen", "Ursula", "Dieter",
            "Gudrun", "Wolfgang", "Hannelore", "Torben", "Wiebke", "Jannik", "Merle", "Friedhelm", "Roswitha", "Kai",
            "Ilka", "Detlef", "Anke", "Henning", "Silke", "Leon", "Marie",
        ],
        surnames: &[
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz",
            "Brinkhoff", "Oberländer", "Kötter", "Wiesenthal", "Hausmann", "Lindemann", "Kleinschmidt", "Rademacher",
            "Eichhorn", "Bierbaum", "Stuckenbrock", "Vogelsang", "Pfannkuch", "Zimmermann",
        ],
        streets: &[
            "Haupt", "Bahnhof", "Schul", "Garten", "Linden", "Berg", "Kirch", "Wald", "Ring", "Goethe", "Schiller",
            "Mozart", "Birken", "Rosen", "Eichen", "Mühlen",
        ],
        cities: &[
            "10115 Berlin", "20095 Hamburg", "80331 München", "50667 Köln", "60311 Frankfurt am Main",
            "70173 Stuttgart", "04109 Leipzig", "28195 Bremen",
        ],
        domains: &["web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de", "freenet.de"],
        country: "DE",
    },
    Locale {
        tag: "fr-FR",
        given: &[
            "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Jules", "Inès", "Théo", "Margaux",
            "Baptiste", "Solène", "Maël", "Anaïs", "Gaëtan", "Ségolène", "Aurélien", "Clémence", "Thibault", "Maëlys",
            "Enzo", "Océane", "Killian", "Élise", "Armand",
        ],
        surnames: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Lefèvre", "Fontaine", "Chevalier", "Beaumont", "Delaunay", "Marchand", "Rousseau", "Lemaire", "Vasseur",
            "Courtois", "Duval", "Toussaint", "Carpentier", "Jourdain", "Lacombe",
        ],
        streets: &[
            "de la Paix", "Victor Hugo", "de la République", "Jean Jaurès", "des Lilas", "du Moulin",
            "de la Gare", "Pasteur", "Gambetta", "Voltaire", "des Écoles", "du Général Leclerc",
        ],
        cities: &[
            "75002 Paris", "69001 Lyon", "13001 Marseille", "31000 Toulouse", "33000 Bordeaux", "44000 Nantes",
            "67000 Strasbourg", "59000 Lille",
        ],
        domains: &["orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr", "wanadoo.fr"],
        country: "FR",
    },
    Locale {
        tag: "es-ES",
        given: &[
            "Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Paula", "Daniel", "Alba", "Pablo", "Carmen",
            "Alejandro", "Nerea", "Iker", "Rocío", "Álvaro", "Ainhoa", "Gonzalo", "Maite", "Joaquín", "Begoña",
            "Xabier", "Montserrat", "Íñigo", "Ximena",
        ],
        surnames: &[
            "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
            "Martín", "Etxeberria", "Villanueva", "Quintana", "Arrieta", "Echeverría", "Barrientos", "Zubizarreta",
            "Salcedo", "Olmedo", "Cifuentes", "Montoya", "Bustamante", "Urquijo",
        ],
        streets: &[
            "Mayor", "de Alcalá", "Gran Vía", "del Prado", "de la Constitución", "Real", "San Vicente",
            "de Colón", "del Carmen", "de Serrano", "Castellana", "de Goya",
        ],
        cities: &[
            "28013 Madrid", "08002 Barcelona", "46002 Valencia", "41001 Sevilla", "48001 Bilbao", "29001 Málaga",
            "50001 Zaragoza", "15001 A Coruña",
        ],
        domains: &["gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"],
        country: "ES",
    },
    Locale {
        tag: "it-IT",
        given: &[
            "Leonardo", "Sofia", "Francesco", "Giulia", "Alessandro", "Aurora", "Lorenzo", "Ginevra", "Mattia",
            "Beatrice", "Gianluca", "Ornella", "Salvatore", "Carmela", "Pierluigi", "Annalisa", "Domenico",
            "Rosalba", "Ignazio", "Benedetta", "Vittorio", "Ludovica", "Tommaso", "Chiara",
        ],
        surnames: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
            "Bergamaschi", "Mastroianni", "Lombardo", "Cavalieri", "Santangelo", "Pellegrini", "Brambilla",
            "Scognamiglio", "Quaranta", "Tedeschi", "Fumagalli", "Zanetti", "Locatelli",
        ],
        streets: &[
            "Roma", "Garibaldi", "Mazzini", "Cavour", "Dante", "Vittorio Emanuele II", "dei Mille", "Verdi",
            "XX Settembre", "Marconi", "della Repubblica", "San Francesco",
        ],
        cities: &[
            "00184 Roma", "20121 Milano", "80133 Napoli", "10121 Torino", "50123 Firenze", "40121 Bologna",
            "16121 Genova", "90133 Palermo",
        ],
        domains: &["libero.it", "virgilio.it", "gmail.com", "alice.it", "tiscali.it", "hotmail.it"],
        country: "IT",
    },
    Locale {
        tag: "nl-NL",
        given: &[
            "Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Levi", "Sophie", "Bram", "Fenna", "Joris", "Marloes",
            "Wouter", "Annelies", "Gijs", "Femke", "Pieter", "Ilse", "Thijs", "Roos", "Jelle", "Lieke", "Maarten",
            "Saskia", "Sjoerd",
        ],
        surnames: &[
            "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
            "de Boer", "Mulder", "van der Linden", "Hoekstra", "Dijkstra", "Kuipers", "Brouwer", "Verhoeven",
            "van Leeuwen", "Schouten", "Wijnands", "Zwart", "Postma", "Veldkamp",
        ],
        streets: &[
            "Kerk", "Dorps", "Molen", "School", "Stations", "Nieuwe", "Heren", "Keizers", "Prinsen", "Beukenlaan",
            "Julianastraat", "Wilhelmina",
        ],
        cities: &[
            "1015 CJ Amsterdam", "3011 AD Rotterdam", "2511 CV Den Haag", "3511 LX Utrecht", "5611 EM Eindhoven",
            "9711 LM Groningen", "6811 AA Arnhem",
        ],
        domains: &["ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl", "planet.nl", "xs4all.nl"],
        country: "NL",
    },
];

/// Product names, company names and other capitalised things that are not people.
pub(super) const PRODUCTS: &[&str] = &[
    "Wireless Mouse",
    "Ergonomic Office Chair",
    "USB-C Charging Cable",
    "Stainless Steel Water Bottle",
    "Noise Cancelling Headphones",
    "Organic Green Tea",
    "Leather Wallet",
    "Running Shoes",
    "Yoga Mat",
    "Espresso Machine",
    "Bluetooth Speaker",
    "LED Desk Lamp",
    "Merino Wool Sweater",
    "Cast Iron Skillet",
    "Mechanical Keyboard",
    "Kaffeebecher Keramik",
    "Sac à dos urbain",
    "Zapatillas de running",
    "Borsa in pelle",
    "Fietsbel Classic",
];

pub(super) const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Globex GmbH",
    "Initech Ltd",
    "Umbrella SA",
    "Stark Industries",
    "Hooli Inc",
    "Nordwind Logistik GmbH",
    "Boulangerie du Coin SARL",
    "Transportes Ibéricos S.L.",
    "Pasticceria Milano Srl",
    "Van Gogh Fietsen B.V.",
];

pub(super) const DEPARTMENTS: &[&str] =
    &["Engineering", "Finance", "Sales", "Marketing", "Customer Success", "Operations", "Legal", "Human Resources"];

pub(super) const SUBJECTS: &[&str] = &[
    "Delivery delayed",
    "Wrong size received",
    "Refund request",
    "Cannot log in",
    "Invoice question",
    "App crashes on start",
    "Change of address",
    "Damaged item",
    "Lieferung verspätet",
    "Problème de facturation",
    "Pedido incompleto",
    "Rimborso",
    "Bestelling niet ontvangen",
];
