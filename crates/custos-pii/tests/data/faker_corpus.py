"""A labelled corpus made with Faker, a generator the detector was not built against.

custos-pii's own generator (src/corpus) shares its authors' habits with the detector: the
same word lists, the same record shapes, the same field names. This corpus comes from the
Faker package instead (its names, addresses, phone formats and identifiers per locale),
in record shapes and field names written here, so that `tests/other_generators.rs` measures how the
detector does on data it has not seen.

Regenerate (the committed file is what the test reads; nothing at test time needs Python):

    python3 -m venv /tmp/faker && /tmp/faker/bin/pip install 'faker==40.*'
    /tmp/faker/bin/python crates/custos-pii/tests/data/faker_corpus.py SEED COUNT > OUT.ndjson

Each line: {"record": {...}, "labels": [[field path, kind], ...], "locale": ..., "shape": ...}.
Field paths are as `Detector::scan_record` names them (`a.b`, `items[2].note`). Kinds are
`PiiType` names. Every value is invented by Faker: no real person is in this file.
"""

import json
import random
import sys

import faker

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "pl_PL"]


def national_id(f, loc):
    """An identifier of the locale's own scheme, where Faker has one."""
    if loc == "en_US":
        return f.ssn()
    if loc == "en_GB":
        return f.ssn()  # a NINO
    if loc == "nl_NL":
        return f.ssn()  # a BSN
    if loc == "fr_FR":
        return f.ssn()  # a NIR
    if loc == "it_IT":
        return f.ssn()  # a codice fiscale
    if loc == "pl_PL":
        return f.pesel()
    if loc == "es_ES":
        return random.choice([f.nif(), f.nie()])
    if loc == "de_DE":
        return None
    return None


def phone(f):
    return f.phone_number()


def address(f, one_line):
    a = f.address()
    return a.replace("\n", ", ") if one_line else a


# Field names for each kind, as systems other than ours name them.
NAME_FIELDS = ["full_name", "customerName", "contact", "holder", "recipient_name", "Name", "person", "owner"]
FIRST_LAST = [("first_name", "last_name"), ("firstName", "lastName"), ("given", "family"), ("fname", "lname")]
EMAIL_FIELDS = ["email", "e_mail", "contactEmail", "mail", "emailAddress", "login"]
PHONE_FIELDS = ["phone", "phone_number", "tel", "mobile", "contact_phone", "msisdn", "cell"]
ADDRESS_FIELDS = ["address", "shipping_address", "billingAddress", "addr", "delivery", "home_address"]
IBAN_FIELDS = ["iban", "bank_account", "payout_account", "account_iban"]
CARD_FIELDS = ["card_number", "cc", "pan", "creditCard"]
IP_FIELDS = ["ip", "client_ip", "remote_addr", "source_ip"]
ID_FIELDS = ["ssn", "national_id", "tax_id", "id_number", "citizen_id"]

# Fields that hold no personal data, with values that look like some that do.
def filler(f):
    choice = random.randrange(14)
    if choice == 0:
        return "order_id", f"ORD-{random.randrange(10**7, 10**8)}"
    if choice == 1:
        return "amount", f"{random.randrange(1, 5000)}.{random.randrange(100):02d}"
    if choice == 2:
        return "created_at", f.iso8601()
    if choice == 3:
        return "sku", f.bothify("??-####-??").upper()
    if choice == 4:
        return "uuid", f.uuid4()
    if choice == 5:
        return "status", random.choice(["paid", "pending", "refunded", "shipped"])
    if choice == 6:
        return "quantity", random.randrange(1, 40)
    if choice == 7:
        return "company", f.company()
    if choice == 8:
        return "product", f.catch_phrase()
    if choice == 9:
        return "checksum", f.sha1()
    if choice == 10:
        return "version", f"{random.randrange(1, 9)}.{random.randrange(30)}.{random.randrange(100)}"
    if choice == 11:
        return "city", f.city()
    if choice == 12:
        return "job", f.job()
    return "currency", f.currency_code()


def structured(f, loc):
    """A record of a partner's system: some personal fields, some not."""
    record, labels = {}, []
    kinds = random.sample(["name", "email", "phone", "address", "iban", "card", "ip", "id"], random.randrange(1, 5))
    for kind in kinds:
        if kind == "name":
            if random.random() < 0.3:
                first, last = random.choice(FIRST_LAST)
                record[first], record[last] = f.first_name(), f.last_name()
                labels += [[first, "person_name"], [last, "person_name"]]
            else:
                field = random.choice(NAME_FIELDS)
                record[field] = f.name()
                labels.append([field, "person_name"])
        elif kind == "email":
            field = random.choice(EMAIL_FIELDS)
            record[field] = f.email()
            labels.append([field, "email"])
        elif kind == "phone":
            field = random.choice(PHONE_FIELDS)
            record[field] = phone(f)
            labels.append([field, "phone"])
        elif kind == "address":
            field = random.choice(ADDRESS_FIELDS)
            record[field] = address(f, random.random() < 0.6)
            labels.append([field, "postal_address"])
        elif kind == "iban":
            field = random.choice(IBAN_FIELDS)
            record[field] = f.iban()
            labels.append([field, "iban"])
        elif kind == "card":
            field = random.choice(CARD_FIELDS)
            record[field] = f.credit_card_number()
            labels.append([field, "payment_card"])
        elif kind == "ip":
            field = random.choice(IP_FIELDS)
            record[field] = f.ipv4_public() if random.random() < 0.7 else f.ipv6()
            labels.append([field, "ip_address"])
        elif kind == "id":
            value = national_id(f, loc)
            if value is None:
                continue
            field = random.choice(ID_FIELDS)
            record[field] = value
            labels.append([field, "national_id"])
    for _ in range(random.randrange(1, 4)):
        field, value = filler(f)
        if field not in record:
            record[field] = value
    return record, labels


# Free-text templates in English: support tickets and notes as people write them.
TEXT = [
    ("Please call {name} back on {phone} about the refund.", ["person_name", "phone"]),
    ("Customer {name} asked us to update the delivery address to {address_line}.", ["person_name", "postal_address"]),
    ("Reply to {email} once the parcel has shipped.", ["email"]),
    ("My card {card} was charged twice, please refund one payment.", ["payment_card"]),
    ("Send the payout to {iban} (account holder: {name}).", ["iban", "person_name"]),
    ("Login from {ip} was blocked after five failed attempts.", ["ip_address"]),
    ("Hi, this is {name}. You can reach me at {email} or {phone}.", ["person_name", "email", "phone"]),
    ("The invoice went to {address_line} but nobody was home.", ["postal_address"]),
    ("Order {order} was delivered on time and the customer was happy.", []),
    ("The package weighed {weight} kg and cost {amount} EUR to ship.", []),
    ("Version {version} fixed the crash reported in ticket #{ticket}.", []),
    ("{company} renewed its contract for another {months} months.", []),
    ("Meeting moved to {date} at {time}; agenda unchanged.", []),
    ("Build {sha} passed all {count} checks.", []),
]


def free_text(f, loc):
    template, kinds = random.choice(TEXT)
    values = {
        "name": f.name(),
        "phone": phone(f),
        "address_line": address(f, True),
        "email": f.email(),
        "card": f.credit_card_number(),
        "iban": f.iban(),
        "ip": f.ipv4_public(),
        "order": f"#{random.randrange(10**5, 10**6)}",
        "weight": f"{random.randrange(1, 40)}.{random.randrange(10)}",
        "amount": f"{random.randrange(5, 900)}.{random.randrange(100):02d}",
        "version": f"{random.randrange(1, 9)}.{random.randrange(30)}.{random.randrange(100)}",
        "ticket": random.randrange(1000, 99999),
        "company": f.company(),
        "months": random.randrange(6, 36),
        "date": f.date(),
        "time": f.time(pattern="%H:%M"),
        "sha": f.sha1()[:12],
        "count": random.randrange(10, 900),
    }
    field = random.choice(["note", "message", "comment", "body", "description"])
    record = {field: template.format(**values), "ticket_id": f"T-{random.randrange(10**4, 10**5)}"}
    return record, [[field, kind] for kind in kinds]


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    random.seed(seed)
    fakers = {}
    for loc in LOCALES:
        fakers[loc] = faker.Faker(loc)
        fakers[loc].seed_instance(seed)
    for _ in range(count):
        loc = random.choice(LOCALES)
        f = fakers[loc]
        roll = random.random()
        if roll < 0.15:
            # Nothing personal: the fields that sit beside personal ones.
            record = dict(filler(f) for _ in range(random.randrange(2, 7)))
            labels, shape = [], "negative"
        elif roll < 0.4:
            # Free text is in English: the templates are.
            record, labels = free_text(fakers["en_US"] if random.random() < 0.5 else f, loc)
            shape = "text"
        else:
            record, labels = structured(f, loc)
            shape = "structured"
        line = {"record": record, "labels": labels, "locale": loc, "shape": shape}
        print(json.dumps(line, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
