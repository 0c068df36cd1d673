"""Rules for personal data in datasets (MW600-629), declared on import.

One rule per family of personal data, so that a policy can accept one family in one place
(e-mail addresses in a contact table) without hiding the others. Severity follows how much
harm the value does once leaked or memorised by a model:

- high: values that open accounts or commit money, or identify a person for life and for
  every administration (payment cards, IBANs, national ids, passports, credentials);
- medium: values that reach or name a person directly (e-mail, phone, name, postal address,
  birth date, precise position);
- low: identifiers of a device or a wallet, personal only when joined with other data
  (IP and MAC addresses, crypto wallets).

A finding whose matches were not confirmed by a validator (checksum, issuer range, calendar,
dictionary) and score low is reported one level lower. Evidence never holds a raw value: only
masked examples.
"""

from mlwarden.findings import Severity
from mlwarden.rules import define

# Personal data in training sets is what model inversion and membership inference recover.
_OWASP = ("ML03", "ML04")
# Exfiltration through the inference API (training data membership, inversion) and LLM data
# leakage: a model trained on personal data can be made to give it back.
_ATLAS = ("AML.T0024", "AML.T0057")
_CWE = (359,)
_GDPR_PERSONAL_DATA = "https://gdpr-info.eu/art-4-gdpr/"
_NIST_PII = "https://csrc.nist.gov/pubs/sp/800/122/final"
_HIPAA_IDENTIFIERS = "https://www.hhs.gov/hipaa/for-professionals/privacy/special-topics/de-identification/index.html"
_EXTRACTION = "https://arxiv.org/abs/2012.07805"
_EVIDENCE = """

    The evidence says which `entity`, in which `column` (and `sheet` for a workbook, or the
    `line` for a text file), how many values (`count`), their `share` of the column's non-empty
    cells, the `first_row` (0-based, header excluded), whether the column's values were judged
    as a whole (`detection: column`) or each cell of a free-text column was searched
    (`detection: cells`), and up to three masked `examples`.

    Datasets are CSV/TSV, Parquet, JSON Lines and Excel files, inside archives too; plain-text
    files are searched only when they are corpora (`.txt` files under a directory such as
    `data/`, `corpus/` or `train/`), not documentation. Severity follows what the value lets
    others do: high for values that open accounts, commit money or identify a person for life,
    medium for values that reach or name a person, low for device and wallet identifiers. A
    finding whose values scored low (mean confidence under 0.5) is reported one level lower.
"""
_REMOVE = """
    Decide whether the model needs this column at all; if not, drop it before training
    (`mlwarden redact INPUT --output OUTPUT --method drop --columns COLUMN`). If it is a join
    key, replace it with a keyed pseudonym that keeps joins working (`--method hash`); if
    people must be able to read it back, encrypt it (`--method encrypt`). Keep the original
    dataset under access control, and record the legal basis for processing it.
"""


def _personal(
    rule_id: str,
    name: str,
    title: str,
    severity: Severity,
    description: str,
    *references: str,
    remediation: str = _REMOVE,
    cwe: tuple[int, ...] = _CWE,
) -> None:
    define(
        rule_id,
        name,
        title,
        severity,
        "data",
        description + _EVIDENCE,
        remediation,
        cwe=cwe,
        owasp_ml=_OWASP,
        atlas=_ATLAS,
        references=(*references, _GDPR_PERSONAL_DATA, _NIST_PII, _EXTRACTION),
    )


_personal(
    "MW600",
    "payment-card-number",
    "Payment card numbers in a dataset",
    Severity.HIGH,
    """
    Primary account numbers of payment cards (entity `CREDIT_CARD`): 12 to 19 digits that pass
    the Luhn check and fall in an issuer's range (Visa, Mastercard 2- and 5-series, American
    Express, Discover, JCB, Maestro, UnionPay...). Storing them in clear outside a PCI DSS
    cardholder-data environment is itself a breach of the standard, and a model trained on
    them can repeat them.
    """,
    "https://www.pcisecuritystandards.org/standards/pci-dss/",
)
_personal(
    "MW601",
    "bank-account-number",
    "Bank account numbers (IBAN) in a dataset",
    Severity.HIGH,
    """
    International bank account numbers (entity `IBAN`) with a valid ISO 7064 mod-97 check and
    the length registered for their country. An IBAN with a name is enough to set up direct
    debits in many countries.
    """,
    "https://www.iso.org/standard/81090.html",
)
_personal(
    "MW602",
    "national-identifier",
    "National identification numbers in a dataset",
    Severity.HIGH,
    """
    National identification numbers (entities `US_SSN`, `UK_NINO`, `FR_NIR`, `ES_NIF`,
    `ES_NIE`, `IT_FISCAL_CODE`, `NL_BSN`, `DE_TAX_ID`, `IN_AADHAAR`, `BR_CPF`, `PL_PESEL` and
    other country schemes), with their checksum where the scheme has one. They identify a
    person for life across every administration, are used to open credit and are the key to
    identity theft; the GDPR lets each state set specific conditions for processing them
    (Article 87).
    """,
    "https://gdpr-info.eu/art-87-gdpr/",
)
_personal(
    "MW603",
    "passport-number",
    "Passport numbers in a dataset",
    Severity.HIGH,
    """
    Passport or travel-document numbers (entity `PASSPORT`), recognised where a column name or
    nearby words say so (the formats themselves are too plain to tell apart otherwise), and
    machine-readable zone lines, whose check digits are verified.
    """,
    "https://www.icao.int/publications/pages/publication.aspx?docnum=9303",
)
_personal(
    "MW604",
    "credentials-in-data",
    "Credentials in a dataset",
    Severity.HIGH,
    """
    Passwords or access tokens stored as data (entities `URL_CREDENTIALS`, a URL with a
    `user:password@` part, and `SECRET`, a token recognised by the secret detectors). Anyone
    with the dataset, or a model that memorised it, can log in with them.
    """,
    "https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1",
    remediation="""
    Revoke the credentials with their issuer and issue new ones: treat them as known to anyone
    who had the dataset. Then remove them from the data (`mlwarden redact INPUT --output
    OUTPUT --method drop --columns COLUMN`, or `--method mask` for free text).
    """,
    cwe=(359, 798),
)
_personal(
    "MW605",
    "email-address",
    "E-mail addresses in a dataset",
    Severity.MEDIUM,
    """
    E-mail addresses (entity `EMAIL`). An address reaches a person directly, is usually unique
    to them, and links records across datasets and services.
    """,
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW606",
    "phone-number",
    "Phone numbers in a dataset",
    Severity.MEDIUM,
    """
    Telephone numbers (entity `PHONE`) valid for their country's numbering plan, national or
    international format. A number reaches a person directly and links their accounts.
    """,
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW607",
    "person-name",
    "Person names in a dataset",
    Severity.MEDIUM,
    """
    Names of people (entity `PERSON`): given and family names of many locales, recognised from
    name dictionaries, capitalisation and context. A name is the most direct identifier; in
    free text it ties everything around it to a person.
    """,
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW608",
    "postal-address",
    "Postal addresses in a dataset",
    Severity.MEDIUM,
    """
    Street addresses (entity `ADDRESS`, or `LOCATION`): a house number with a street, and
    postcode where present. An address locates a person's home, and a few of them with a
    birth date identify almost anyone.
    """,
    _HIPAA_IDENTIFIERS,
    "https://dataprivacylab.org/projects/identifiability/paper1.pdf",
)
_personal(
    "MW609",
    "date-of-birth",
    "Dates of birth in a dataset",
    Severity.MEDIUM,
    """
    Birth dates (entity `DATE_OF_BIRTH`): valid calendar dates in a plausible range, reported
    where a column name or nearby words say they are birth dates, so that ordinary timestamps
    and event dates are not. A birth date with a postcode and a sex identifies most people.
    """,
    "https://dataprivacylab.org/projects/identifiability/paper1.pdf",
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW610",
    "precise-location",
    "Precise positions in a dataset",
    Severity.MEDIUM,
    """
    Latitude and longitude pairs (entity `GEO_COORDINATES`) precise enough to point at a
    building. A handful of positions of one person single them out, and reveal where they
    live and work.
    """,
    "https://www.nature.com/articles/srep01376",
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW611",
    "ip-address",
    "IP addresses in a dataset",
    Severity.LOW,
    """
    IPv4 and IPv6 addresses (entity `IP_ADDRESS`), only where they are not version strings or
    other dotted numbers. An IP address is personal data when it can be tied to a subscriber,
    as the EU Court of Justice held for dynamic addresses; alone it rarely names anyone.
    """,
    "https://curia.europa.eu/juris/liste.jsf?num=C-582/14",
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW612",
    "device-identifier",
    "Device hardware addresses in a dataset",
    Severity.LOW,
    """
    MAC addresses (entity `MAC_ADDRESS`): a network card's hardware address follows one
    device, and so one person, across networks and over years.
    """,
    _HIPAA_IDENTIFIERS,
)
_personal(
    "MW613",
    "crypto-wallet-address",
    "Cryptocurrency wallet addresses in a dataset",
    Severity.LOW,
    """
    Cryptocurrency addresses (entity `CRYPTO_WALLET`) with a valid checksum (Base58Check,
    Bech32, EIP-55). A public ledger shows every payment to and from the address, so tying it
    to a person in a dataset exposes their transaction history.
    """,
    "https://en.bitcoin.it/wiki/Privacy",
)
_personal(
    "MW619",
    "personal-data",
    "Other personal data in a dataset",
    Severity.MEDIUM,
    """
    Personal data of a kind without a rule of its own (the `entity` says which).
    """,
)

define(
    "MW628",
    "dataset-sampled",
    "Only the first rows of a dataset were scanned",
    Severity.INFO,
    "data",
    """
    The scan was asked to look at the first rows of each dataset only (`--sample N`), and this
    file has more. Personal data further down was not looked for: a clean result says nothing
    about the rest of the file.
    """,
    "Scan again without `--sample` before relying on the result.",
)
define(
    "MW629",
    "dataset-rows-skipped",
    "Rows of a dataset could not be read",
    Severity.LOW,
    "data",
    """
    Some rows or lines of the dataset could not be read and were skipped (a CSV row with the
    wrong number of fields, a JSON Lines line that is not a JSON object, a line over the size
    limit), or columns past the column limit were not scanned. The rest of the file was
    scanned; what was skipped was not. The evidence counts the rows (`skipped`) and columns
    (`skipped_columns`) and says why, without quoting them.
    """,
    """
    Fix the malformed rows (or the delimiter and quoting of the file) and scan again; a
    consumer of the dataset probably skips or misreads them too.
    """,
    cwe=(20,),
)

#: The rule for each entity; entities without one are reported under MW619.
RULE_FOR_ENTITY = {
    "CREDIT_CARD": "MW600",
    "IBAN": "MW601",
    "PASSPORT": "MW603",
    "URL_CREDENTIALS": "MW604",
    "SECRET": "MW604",
    "PASSWORD": "MW604",
    "EMAIL": "MW605",
    "PHONE": "MW606",
    "PERSON": "MW607",
    "ADDRESS": "MW608",
    "LOCATION": "MW608",
    "DATE_OF_BIRTH": "MW609",
    "GEO_COORDINATES": "MW610",
    "IP_ADDRESS": "MW611",
    "MAC_ADDRESS": "MW612",
    "CRYPTO_WALLET": "MW613",
}
#: National-id entities are named after their country (``US_SSN``, ``FR_NIR``).
NATIONAL_ID_RULE = "MW602"
OTHER_RULE = "MW619"


def rule_for_entity(entity: str, national_ids: frozenset[str] = frozenset()) -> str:
    """The rule a finding of ``entity`` is reported under."""
    if entity in RULE_FOR_ENTITY:
        return RULE_FOR_ENTITY[entity]
    if entity in national_ids or (len(entity) > 3 and entity[2] == "_" and entity[:2].isalpha()):
        return NATIONAL_ID_RULE
    return OTHER_RULE
