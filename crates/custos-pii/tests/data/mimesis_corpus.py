"""A labelled corpus made with Mimesis, a second generator the detector was not built against.

The Faker corpus (faker_corpus.py) writes its field names and free text in English. Partners
in other countries do not: their exports say `nachname`, `telefono` or `adresse`, and their
support notes are written in German, French, Spanish, Italian, Dutch or Polish. This corpus
takes its values from Mimesis (its own name lists, phone shapes and street patterns per
locale, different from Faker's) and writes records with the field names and sentences of the
locale, so that `tests/other_generators.rs` measures the detector on data shaped unlike anything it
was built with.

Regenerate (the committed file is what the test reads; nothing at test time needs Python):

    python3 -m venv /tmp/mimesis && /tmp/mimesis/bin/pip install 'mimesis==19.*'
    /tmp/mimesis/bin/python crates/custos-pii/tests/data/mimesis_corpus.py SEED COUNT > OUT.ndjson

Each line: {"record": {...}, "labels": [[field path, kind], ...], "locale": ..., "shape": ...},
as in the Faker corpus. Every value is invented by Mimesis: no real person is in this file.
"""

import json
import random
import sys

from mimesis import Address, Datetime, Finance, Internet, Locale, Payment, Person

# Locale -> the words its systems use for fields, and the sentences its people write.
FIELDS = {
    "en": {
        "name": ["customer", "fullName", "contact_person", "client_name", "Name"],
        "first": ["first", "forename", "given_name"],
        "last": ["surname", "family_name", "last"],
        "email": ["email", "emailAddr", "contact_email"],
        "phone": ["phone", "telephone", "mobile_number", "tel_no"],
        "address": ["address", "postal_address", "street_address", "mailing_address"],
        "iban": ["iban", "bank_iban"],
        "card": ["card", "card_no", "payment_card"],
        "ip": ["ip_address", "clientIp", "last_login_ip"],
    },
    "de": {
        "name": ["name", "kunde", "ansprechpartner", "kontoinhaber", "empfaenger"],
        "first": ["vorname"],
        "last": ["nachname", "familienname"],
        "email": ["email", "e_mail_adresse", "mail"],
        "phone": ["telefon", "telefonnummer", "handy", "mobil"],
        "address": ["anschrift", "adresse", "lieferadresse", "rechnungsadresse"],
        "iban": ["iban", "bankverbindung"],
        "card": ["kreditkarte", "kartennummer"],
        "ip": ["ip_adresse", "ip"],
    },
    "fr": {
        "name": ["nom_complet", "client", "titulaire", "destinataire", "interlocuteur"],
        "first": ["prenom", "prénom"],
        "last": ["nom", "nom_de_famille"],
        "email": ["courriel", "email", "adresse_email"],
        "phone": ["telephone", "téléphone", "portable", "tel"],
        "address": ["adresse", "adresse_postale", "adresse_livraison"],
        "iban": ["iban", "rib"],
        "card": ["carte_bancaire", "numero_carte"],
        "ip": ["adresse_ip", "ip"],
    },
    "es": {
        "name": ["nombre_completo", "cliente", "titular", "destinatario"],
        "first": ["nombre"],
        "last": ["apellidos", "apellido"],
        "email": ["correo", "correo_electronico", "email"],
        "phone": ["telefono", "teléfono", "movil", "celular"],
        "address": ["direccion", "dirección", "domicilio", "direccion_envio"],
        "iban": ["iban", "cuenta_bancaria"],
        "card": ["tarjeta", "numero_tarjeta"],
        "ip": ["direccion_ip", "ip"],
    },
    "it": {
        "name": ["nominativo", "cliente", "intestatario", "destinatario"],
        "first": ["nome"],
        "last": ["cognome"],
        "email": ["email", "posta_elettronica"],
        "phone": ["telefono", "cellulare", "recapito_telefonico"],
        "address": ["indirizzo", "indirizzo_spedizione", "residenza"],
        "iban": ["iban", "conto_corrente"],
        "card": ["carta_di_credito", "numero_carta"],
        "ip": ["indirizzo_ip", "ip"],
    },
    "nl": {
        "name": ["naam", "klant", "contactpersoon", "rekeninghouder", "ontvanger"],
        "first": ["voornaam"],
        "last": ["achternaam"],
        "email": ["email", "e_mailadres"],
        "phone": ["telefoon", "telefoonnummer", "mobiel"],
        "address": ["adres", "afleveradres", "woonadres"],
        "iban": ["iban", "rekeningnummer"],
        "card": ["creditcard", "kaartnummer"],
        "ip": ["ip_adres", "ip"],
    },
    "pl": {
        "name": ["imie_i_nazwisko", "klient", "odbiorca", "wlasciciel_konta"],
        "first": ["imie", "imię"],
        "last": ["nazwisko"],
        "email": ["email", "adres_email"],
        "phone": ["telefon", "numer_telefonu", "komorka"],
        "address": ["adres", "adres_dostawy", "adres_zamieszkania"],
        "iban": ["iban", "numer_konta"],
        "card": ["karta", "numer_karty"],
        "ip": ["adres_ip", "ip"],
    },
}

# Sentences as people write them in support notes, each with the kinds it holds.
TEXT = {
    "en": [
        ("Spoke to {name} today, she wants the parcel sent to {address} instead.", ["person_name", "postal_address"]),
        ("Callback requested: {phone}. Ask for {name}.", ["phone", "person_name"]),
        ("Customer's new mail is {email}, old one bounced.", ["email"]),
        ("Refund to card ending {card} approved by finance.", ["payment_card"]),
        ("Ticket escalated to tier 2 after 3 failed attempts.", []),
        ("Shipment {order} left the warehouse on {date}.", []),
    ],
    "de": [
        ("Herr {name} bittet um Rückruf unter {phone}.", ["person_name", "phone"]),
        ("Bitte die Rechnung an {address} schicken.", ["postal_address"]),
        ("Die neue E-Mail-Adresse lautet {email}.", ["email"]),
        ("Erstattung auf das Konto {iban} von {name}.", ["iban", "person_name"]),
        ("Lieferung {order} ist am {date} eingegangen, alles in Ordnung.", []),
        ("Version {version} behebt den Fehler aus Ticket {ticket}.", []),
    ],
    "fr": [
        ("Mme {name} souhaite être rappelée au {phone}.", ["person_name", "phone"]),
        ("Merci d'envoyer le colis à {address}.", ["postal_address"]),
        ("Son adresse électronique est {email}.", ["email"]),
        ("Remboursement sur l'IBAN {iban}, titulaire {name}.", ["iban", "person_name"]),
        ("La commande {order} a été livrée le {date}.", []),
        ("Le montant de {amount} EUR a été facturé deux fois.", []),
    ],
    "es": [
        ("El cliente {name} pide que le llamen al {phone}.", ["person_name", "phone"]),
        ("Enviar la factura a {address}, por favor.", ["postal_address"]),
        ("Su correo es {email}.", ["email"]),
        ("Pago con la tarjeta {card} rechazado.", ["payment_card"]),
        ("El pedido {order} salió del almacén el {date}.", []),
        ("Se actualizó a la versión {version} sin incidencias.", []),
    ],
    "it": [
        ("Il signor {name} chiede di essere richiamato al {phone}.", ["person_name", "phone"]),
        ("Spedire il pacco a {address}.", ["postal_address"]),
        ("Nuovo indirizzo email: {email}.", ["email"]),
        ("Accesso bloccato dall'indirizzo {ip}.", ["ip_address"]),
        ("L'ordine {order} è stato consegnato il {date}.", []),
        ("Importo di {amount} EUR rimborsato.", []),
    ],
    "nl": [
        ("Mevrouw {name} wil teruggebeld worden op {phone}.", ["person_name", "phone"]),
        ("Graag het pakket naar {address} sturen.", ["postal_address"]),
        ("Het nieuwe e-mailadres is {email}.", ["email"]),
        ("Terugbetaling naar {iban} t.n.v. {name}.", ["iban", "person_name"]),
        ("Bestelling {order} is op {date} bezorgd.", []),
        ("Versie {version} lost het probleem op.", []),
    ],
    "pl": [
        ("Pan {name} prosi o kontakt pod numerem {phone}.", ["person_name", "phone"]),
        ("Proszę wysłać paczkę na adres {address}.", ["postal_address"]),
        ("Nowy adres e-mail: {email}.", ["email"]),
        ("Zwrot na konto {iban}.", ["iban"]),
        ("Zamówienie {order} dostarczono {date}.", []),
        ("Kwota {amount} PLN została zwrócona.", []),
    ],
}

LOCALES = {
    "en": [Locale.EN, Locale.EN_GB, Locale.EN_AU, Locale.EN_CA],
    "de": [Locale.DE, Locale.DE_AT, Locale.DE_CH],
    "fr": [Locale.FR],
    "es": [Locale.ES],
    "it": [Locale.IT],
    "nl": [Locale.NL],
    "pl": [Locale.PL],
}


def filler(lang, dt, fin):
    """A field that holds nothing personal, with a value that looks like some that do."""
    choice = random.randrange(10)
    if choice == 0:
        return "order_no", f"{random.randrange(10**9, 10**10)}"
    if choice == 1:
        return "total", f"{random.randrange(1, 5000)},{random.randrange(100):02d}"
    if choice == 2:
        return "updated", dt.datetime().isoformat()
    if choice == 3:
        return "article", f"{random.choice('ABCDEFGH')}{random.randrange(10**5, 10**6)}"
    if choice == 4:
        return "ref", "%032x" % random.getrandbits(128)
    if choice == 5:
        return "qty", random.randrange(1, 40)
    if choice == 6:
        return "firma", fin.company()
    if choice == 7:
        return "build", f"{random.randrange(1, 9)}.{random.randrange(30)}.{random.randrange(100)}"
    if choice == 8:
        # a 16-digit number that fails Luhn: not a card
        digits = [random.randrange(10) for _ in range(15)]
        total = sum(luhn_digit(d, i) for i, d in enumerate(reversed(digits)))
        bad = (10 - (total % 10) + 1 + random.randrange(9)) % 10
        return "tracking", "".join(map(str, digits)) + str(bad)
    return "stock", fin.stock_ticker()


def luhn_digit(d, i):
    # i counts from the check digit's left neighbour, which is doubled
    if i % 2 == 0:
        d *= 2
        return d - 9 if d > 9 else d
    return d


def structured(lang, p, a, fin, net, pay, dt):
    fields = FIELDS[lang]
    record, labels = {}, []
    kinds = random.sample(["name", "email", "phone", "address", "iban", "card", "ip"], random.randrange(1, 5))
    for kind in kinds:
        if kind == "name":
            if random.random() < 0.4:
                first, last = random.choice(fields["first"]), random.choice(fields["last"])
                record[first], record[last] = p.first_name(), p.last_name()
                labels += [[first, "person_name"], [last, "person_name"]]
            else:
                field = random.choice(fields["name"])
                record[field] = p.full_name()
                labels.append([field, "person_name"])
        elif kind == "email":
            field = random.choice(fields["email"])
            record[field] = p.email()
            labels.append([field, "email"])
        elif kind == "phone":
            field = random.choice(fields["phone"])
            record[field] = p.phone_number()
            labels.append([field, "phone"])
        elif kind == "address":
            field = random.choice(fields["address"])
            record[field] = f"{a.address()}, {a.postal_code()} {a.city()}"
            labels.append([field, "postal_address"])
        elif kind == "iban":
            field = random.choice(fields["iban"])
            record[field] = iban(lang)
            labels.append([field, "iban"])
        elif kind == "card":
            field = random.choice(fields["card"])
            record[field] = pay.credit_card_number()
            labels.append([field, "payment_card"])
        elif kind == "ip":
            field = random.choice(fields["ip"])
            record[field] = net.ip_v4() if random.random() < 0.7 else net.ip_v6()
            labels.append([field, "ip_address"])
    for _ in range(random.randrange(1, 4)):
        field, value = filler(lang, dt, fin)
        if field not in record:
            record[field] = value
    return record, labels


# IBANs are made here (Mimesis has none): the country's length, valid check digits.
IBAN_SHAPE = {"en": ("GB", 22), "de": ("DE", 22), "fr": ("FR", 27), "es": ("ES", 24), "it": ("IT", 27), "nl": ("NL", 18), "pl": ("PL", 28)}


def iban(lang):
    country, length = IBAN_SHAPE[lang]
    if country == "GB":
        bban = "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(str(random.randrange(10)) for _ in range(14))
    elif country == "NL":
        bban = "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(str(random.randrange(10)) for _ in range(10))
    elif country == "IT":
        bban = random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "".join(str(random.randrange(10)) for _ in range(22))
    else:
        bban = "".join(str(random.randrange(10)) for _ in range(length - 4))
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - number % 97
    value = f"{country}{check:02d}{bban}"
    if random.random() < 0.4:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def free_text(lang, p, a, fin, net, pay, dt):
    template, kinds = random.choice(TEXT[lang])
    values = {
        "name": p.full_name(),
        "phone": p.phone_number(),
        "address": f"{a.address()}, {a.postal_code()} {a.city()}",
        "email": p.email(),
        "card": pay.credit_card_number(),
        "iban": iban(lang),
        "ip": net.ip_v4(),
        "order": f"{random.randrange(10**7, 10**8)}",
        "date": dt.date().strftime(random.choice(["%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d"])),
        "version": f"{random.randrange(1, 9)}.{random.randrange(30)}.{random.randrange(100)}",
        "ticket": f"#{random.randrange(1000, 99999)}",
        "amount": f"{random.randrange(5, 900)},{random.randrange(100):02d}",
    }
    field = random.choice(["notiz", "note", "commentaire", "comentario", "nota", "opmerking", "uwagi", "message"])
    record = {field: template.format(**values), "id": random.randrange(10**5, 10**6)}
    return record, [[field, kind] for kind in kinds]


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    random.seed(seed)
    providers = {}
    for lang, locales in LOCALES.items():
        for loc in locales:
            s = random.randrange(2**32)
            providers[loc] = (
                Person(loc, seed=s),
                Address(loc, seed=s + 1),
                Finance(loc, seed=s + 2),
                Internet(seed=s + 3),
                Payment(seed=s + 4),
                Datetime(loc, seed=s + 5),
            )
    for _ in range(count):
        lang = random.choice(list(LOCALES))
        loc = random.choice(LOCALES[lang])
        p, a, fin, net, pay, dt = providers[loc]
        roll = random.random()
        if roll < 0.15:
            record = dict(filler(lang, dt, fin) for _ in range(random.randrange(2, 7)))
            labels, shape = [], "negative"
        elif roll < 0.45:
            record, labels = free_text(lang, p, a, fin, net, pay, dt)
            shape = "text"
        else:
            record, labels = structured(lang, p, a, fin, net, pay, dt)
            shape = "structured"
        line = {"record": record, "labels": labels, "locale": loc.value, "shape": shape}
        print(json.dumps(line, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
