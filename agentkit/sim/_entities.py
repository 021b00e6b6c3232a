"""Who and what a message is about: people, companies, topics, dates and amounts.

Pure and stdlib only. What an extraction schema asks for (`name`, `company`, `topics`,
`budget`, `meeting_date`) is told apart here by how messages say it:

- a person introduces themselves ("my name is", "I'm", "this is", "X here"), signs off
  ("Best regards,\\nMaria Garcia"), stands next to their email ("Bob Smith, bob@acme.io",
  "Anna Müller <anna@...>"), or shares their first name with the email's local part;
- a company follows "works at", "works for", "at", "from", "with", "company is", a job
  title ("CTO at"), carries a legal or trade suffix ("Corp", "GmbH", "Systems"), or is the
  name of the email's domain ("Acme" and acme.io); a place after "in" is neither;
- topics follow "wants", "would like to discuss", "interested in", "about", "regarding", and
  are split where the message lists them ("pricing and onboarding");
- dates are ISO or written out ("12 March 2025", "March 12"), amounts carry a currency
  ("$5,000", "€200", "5k USD", "2.5 million dollars").

Each finder returns spans of the message, best first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._evidence import Span
from ._words import STOPWORDS, stem

if TYPE_CHECKING:
    from ._evidence import Evidence

__all__ = [
    "amounts",
    "depicted",
    "iso_date",
    "natural_dates",
    "organizations",
    "people",
    "reasons",
    "topics",
]

_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
_PARTICLE = r"(?:de|da|del|der|di|du|van|von|la|le|bin|al|ten|ter|dos|das)"
_PERSON = rf"{_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_WORD}){{0,3}}"
# Cue words in any case; the names after them capitalised, as names are written.
_INTRODUCTIONS = re.compile(
    r"(?i:\bmy name is|\bmy name's|\bname is|\bi am|\bi'm|\bim|\bthis is|\bit's|\bcall me|"
    r"\bnamed|\bcalled|\bspeak(?:ing)? with|\bcontact(?: person)? is|\bask for)\s+"
    rf"(?P<name>{_PERSON})"
)
# "this is ken watanabe from sony": said in lower case, a name is two or three words after
# an introduction that only names people ("I'm" is also "I'm interested").
_LOWER_INTRODUCTION = re.compile(
    r"(?i:\bmy name is|\bmy name's|\bthis is|\bname is)\s+"
    r"(?P<name>[a-zà-öø-ÿ][\w'’-]+\s+[a-zà-öø-ÿ][\w'’-]+(?:\s+[a-zà-öø-ÿ][\w'’-]+)?)"
)
_HERE = re.compile(rf"(?P<name>{_PERSON})\s+here\b")
_SIGN_OFF = re.compile(
    r"(?m)^\s*(?i:best(?: regards| wishes)?|kind regards|regards|thanks|thank you|cheers|"
    r"sincerely|yours(?: truly| sincerely)?|warmly|all the best)[,.!]?\s*\n\s*"
    rf"(?P<name>{_PERSON})\s*$"
)
_BESIDE_EMAIL = re.compile(rf"(?P<name>{_PERSON})\s*(?:[,(<\[]|-|–|—)\s*[\w.+-]+@")
_COMPANY_SUFFIXES = (
    "inc", "inc.", "incorporated", "corp", "corp.", "corporation", "co", "co.", "company",
    "ltd", "ltd.", "limited", "llc", "llp", "plc", "gmbh", "ag", "sa", "s.a.", "sas", "srl",
    "bv", "nv", "oy", "ab", "as", "kk", "pty", "group", "holdings", "systems", "technologies",
    "technology", "labs", "lab", "solutions", "software", "industries", "enterprises",
    "partners", "ventures", "consulting", "traders", "trading", "bank", "capital", "media",
    "studios", "studio", "networks", "foods", "motors", "airlines", "pharma", "energy",
    "analytics", "logistics", "university", "institute", "foundation", "agency", "s.p.a",
    "s.p.a.", "spa", "sarl", "kg", "pte", "bhd", "sl", "oyj", "asa", "nv.", "bv.",
)
_ORG_CUES = re.compile(
    r"(?i:\bworks?\s+(?:at|for|with)|\bworking\s+(?:at|for|with)|\bemployed\s+(?:at|by)|"
    r"\bcompany\s+(?:is|called|named)|\bon behalf of|\bi'm with|\bi am with|\bwe at|\bhere at|"
    r"\bteam at|\b(?:ceo|cto|cfo|coo|founder|co-founder|vp|head|director|manager|engineer|"
    r"lead|owner|president|partner|developer|designer|consultant|analyst)"
    r"(?:\s+of\s+[a-z]+(?:\s+[a-z]+)?)?\s+(?:of|at)|"
    r"\brepresent(?:ing)?)"
    rf"\s+(?:the\s+)?(?P<name>{_WORD}(?:\s+(?:&\s+)?{_WORD}){{0,3}})"
)
_LOWER_ORG = re.compile(r"\b(?:at|from|with|for)\s+(?P<name>[a-z][\w-]+)\b")
_AT_FROM = re.compile(rf"\b(?:at|from|with|for)\s+(?P<name>{_WORD}(?:\s+(?:&\s+)?{_WORD}){{0,3}})")
_NOT_NAMES = frozenset(
    """
    hi hello hey dear thanks thank regards best cheers sincerely yes no ok okay please sure
    the a an i i'm i'd i've we you he she they it my our your their his her its this that
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december email phone tel mobile call
    company name topics topic subject re fwd fw dr mr mrs ms prof sir madam team support
    sales ceo cto cfo coo vp hr it api sso crm demo pricing
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
_TITLES = frozenset({"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "prof", "prof.", "sir"})
_TOPIC_VERBS = (
    r"(?:discuss|talk\s+about|know\s+about|learn\s+about|hear\s+about|see|get|set\s+up|book|"
    r"schedule|arrange|explore|review)"
)
_TOPIC_CUES = re.compile(
    rf"(?:\bwants?(?:\s+to\s+{_TOPIC_VERBS}|(?!\s+to\b))|"
    rf"\bwould\s+like(?:\s+to\s+{_TOPIC_VERBS}|(?!\s+to\b))|"
    rf"\b(?:i'd|we'd|i\s+would|we\s+would)\s+(?:like|love)(?:\s+to\s+{_TOPIC_VERBS}|(?!\s+to\b))|"
    r"\binterested\s+in|\bquestions?\s+(?:about|on|regarding)|\babout|\bregarding|"
    r"\bconcerning|\bre:|\bto\s+discuss|\bdiscuss(?:ing)?|\btalk\s+about|\basking\s+about|"
    r"\blooking\s+(?:for|into)|\bhelp\s+with|\bneeds?|\binquir(?:y|ing)\s+about|"
    r"\benquir(?:y|ing)\s+about|\btopics?\s*[:=-])\s+(?P<topic>[^.?!;\n]+)",
    re.IGNORECASE,
)
_TOPIC_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+&\s+|\s+as well as\s+|\s+plus\s+)\s*", re.I)
_TOPIC_LEADING = re.compile(
    r"^(?:a|an|the|some|our|your|their|his|her|my|more|about|on|to|any|possible|potential|"
    r"quick|short|brief|call\s+about|meeting\s+about|chat\s+about|call|meeting|chat|"
    r"help\s+(?:with|on)|assistance\s+with|support\s+(?:with|for)|advice\s+on)\s+",
    re.I,
)
_TOPIC_TRAILING = re.compile(
    r"\s+(?:please|soon|asap|next week|this week|tomorrow|today|with (?:us|you|me|them)|"
    r"for (?:us|our team)|if possible)$",
    re.I,
)
# Words a topic phrase stops before: they start a new clause or say something else.
_TOPIC_STOP = re.compile(
    r"\s+(?:(?:and\s+)?(?:can|could|would|will|should|please|so|but|because|if|when|since|"
    r"reach|call|email|contact|phone|tel|thanks|my|i'm|i\s+am|we're)\b|\s*[(<]).*$",
    re.I,
)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]  # fmt: skip
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_NATURAL_DATE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?)\b"
    rf"|\b(?:next|this|on)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    rf"|\b(?:tomorrow|today|next week|next month)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?P<pre>[$€£¥])\s?(?P<n1>\d[\d,]*(?:\.\d+)?)\s*(?P<s1>k|m|bn|million|billion|thousand)?\b"
    r"|\b(?P<n2>\d[\d,]*(?:\.\d+)?)\s*(?P<s2>k|m|bn|million|billion|thousand)?\s*"
    r"(?P<cur>usd|eur|gbp|jpy|dollars?|euros?|bucks)\b",
    re.IGNORECASE,
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


def people(ev: Evidence) -> tuple[Span, ...]:
    """People's names in the message, best first; read once per message."""
    return ev.memo("people", lambda: tuple(_people(ev)))  # type: ignore[no-any-return]


def organizations(ev: Evidence) -> tuple[Span, ...]:
    """Company names in the message, best first; read once per message."""
    return ev.memo("organizations", lambda: tuple(_organizations(ev)))  # type: ignore[no-any-return]


def topics(ev: Evidence) -> tuple[str, ...]:
    """What the sender wants to talk about, in the message's order; read once per message."""
    return ev.memo("topics", lambda: tuple(_topics(ev)))  # type: ignore[no-any-return]


def natural_dates(ev: Evidence) -> tuple[Span, ...]:
    """Dates as written, ISO ones first; read once per message."""
    return ev.memo("dates", lambda: tuple(_natural_dates(ev)))  # type: ignore[no-any-return]


def amounts(ev: Evidence) -> tuple[tuple[Span, float], ...]:
    """Amounts of money, as written and as numbers; read once per message."""
    return ev.memo("amounts", lambda: tuple(_amounts(ev)))  # type: ignore[no-any-return]


def _spans(ev: Evidence, pattern: re.Pattern[str], group: str) -> list[Span]:
    out = []
    for match in pattern.finditer(ev.text):
        value = match.group(group)
        if value:
            out.append(Span(value, match.start(group), match.end(group)))
    return out


def _trim_name(span: Span) -> Span | None:
    """A name without the words that follow it but are not part of it ("Bob Smith Works")."""
    words = span.value.split()
    while words and words[0].lower().strip(".,") in _TITLES:
        words = words[1:]
    kept: list[str] = []
    for word in words:
        bare = word.strip(".,;:'’")
        if bare.lower() in _NOT_NAMES or not bare:
            break
        kept.append(bare)
    if not kept:
        return None
    value = " ".join(kept).rstrip(".'’-")
    start = span.start + span.value.find(kept[0])
    return Span(value, start, start + len(value))


def _is_company(value: str) -> bool:
    parts = value.lower().split()
    return len(parts) >= 2 and parts[-1] in _COMPANY_SUFFIXES


def _domains(ev: Evidence) -> set[str]:
    """The names of the emails' domains ("acme" for bob@mail.acme.io); free mail hosts too."""
    found = set()
    for email in ev.emails:
        host = email.value.rsplit("@", 1)[-1].lower().split(".")
        # sony.co.jp is Sony's: a second-level "co" or "com" names no one.
        if len(host) >= 3 and host[-2] in ("co", "com", "ac", "org", "net", "gov", "edu", "ne"):
            found.add(host[-3])
        elif len(host) >= 2:
            found.add(host[-2])
    return found


def _local_parts(ev: Evidence) -> set[str]:
    return {re.split(r"[._+-]", e.value.split("@", 1)[0].lower())[0] for e in ev.emails}


def _organizations(ev: Evidence) -> list[Span]:
    """Company names in the message, best first."""
    found: list[Span] = []
    for span in _spans(ev, _ORG_CUES, "name"):
        trimmed = _trim_org(span)
        if trimmed is not None:
            found.append(trimmed)
    domains = _domains(ev)
    places = {s.value for s, prep, _ in ev.names if prep == "in"}
    for span, _, _ in ev.names:
        if _is_company(span.value) or span.value.split()[0].lower() in domains:
            found.append(span)
    for match in _LOWER_ORG.finditer(ev.text):
        if match.group("name").lower() in domains:
            found.append(Span(match.group("name"), match.start("name"), match.end("name")))
    for span in _spans(ev, _AT_FROM, "name"):
        trimmed = _trim_org(span)
        if trimmed is not None and (_is_company(trimmed.value) or trimmed.value.split()[0].lower() in domains):
            found.append(trimmed)
    key = ev.key_values.get("company") or ev.key_values.get("organization") or ev.key_values.get("employer")
    if key:
        start = ev.text.find(key)
        found.insert(0, Span(key.strip().rstrip("."), max(start, 0), max(start, 0) + len(key)))
    people_names = {p.value for p in _introduced(ev)}
    out: list[Span] = []
    for span in found:
        if span.value in places or span.value in people_names:
            continue
        if all(span.value != s.value for s in out):
            out.append(span)
    return out


def _trim_org(span: Span) -> Span | None:
    words = span.value.split()
    kept = []
    for word in words:
        bare = word.strip(",;:")
        if bare.lower() in _NOT_NAMES - {"company"} and bare != "&":
            break
        kept.append(bare)
        if word.endswith((",", ";", ":")):
            break
    while kept and kept[-1] == "&":
        kept.pop()
    if not kept:
        return None
    value = " ".join(kept).rstrip(".'’")
    start = span.start + span.value.find(kept[0])
    return Span(value, start, start + len(value))


def _introduced(ev: Evidence) -> list[Span]:
    found = []
    for pattern in (_INTRODUCTIONS, _SIGN_OFF, _HERE, _BESIDE_EMAIL):
        for span in _spans(ev, pattern, "name"):
            trimmed = _trim_name(span)
            if trimmed is not None:
                found.append(trimmed)
    for span in _spans(ev, _LOWER_INTRODUCTION, "name"):
        words = []
        for word in span.value.split():
            if word.lower() in STOPWORDS or word.lower() in _NOT_NAMES:
                break
            words.append(word)
        if len(words) >= 2:
            value = " ".join(words)
            found.append(Span(value, span.start, span.start + len(value)))
    key = ev.key_values.get("name") or ev.key_values.get("fullname") or ev.key_values.get("contact")
    if key and not any(ch.isdigit() for ch in key):
        start = max(ev.text.find(key), 0)
        found.insert(0, Span(key.strip(), start, start + len(key.strip())))
    return found


def _people(ev: Evidence) -> list[Span]:
    """People's names in the message, best first: the ones introduced as such, then the ones
    sharing a first name with an email, then capitalised names that are no company or place."""
    companies = {s.value.lower() for s in organizations(ev)}
    locals_ = _local_parts(ev)
    found = [s for s in _introduced(ev) if s.value.lower() not in companies]
    named = []
    for span, preposition, initial in ev.names:
        trimmed = _trim_name(span)
        if trimmed is None or trimmed.value.lower() in companies or _is_company(trimmed.value):
            continue
        if preposition in ("in", "at", "near", "to", "from", "for", "with", "about", "of", "into"):
            continue
        first = trimmed.value.split()[0].lower()
        if first in locals_:
            found.append(trimmed)
        elif (len(trimmed.value.split()) >= 2 and not trimmed.value.isupper()) or (not initial and first not in _NOT_NAMES and not trimmed.value.isupper()):
            named.append(trimmed)
    out: list[Span] = []
    for span in [*found, *named]:
        if all(span.value != s.value for s in out):
            out.append(span)
    return out


def _topics(ev: Evidence) -> list[str]:
    """What the sender wants to talk about, a few words each, in the message's order."""
    listed = ev.key_values.get("topics") or ev.key_values.get("topic") or ev.key_values.get("subject")
    phrases: list[str] = []
    if listed:
        phrases.extend(p for p in _TOPIC_SPLIT.split(listed.rstrip(".")) if p)
    for match in _TOPIC_CUES.finditer(ev.text):
        phrase = _TOPIC_STOP.sub("", match.group("topic")).strip(" ,")
        for part in _TOPIC_SPLIT.split(phrase):
            part = _clean_topic(part)
            if part:
                phrases.append(part)
    out: list[str] = []
    for phrase in phrases:
        phrase = _clean_topic(phrase)
        if phrase and phrase.lower() not in (p.lower() for p in out) and not _is_contact(ev, phrase):
            out.append(phrase)
    return out


def _clean_topic(phrase: str) -> str:
    phrase = phrase.strip(" ,.:;\"'“”")
    for _ in range(3):
        phrase = _TOPIC_LEADING.sub("", phrase)
        phrase = _TOPIC_TRAILING.sub("", phrase)
    words = phrase.split()
    if not words or len(words) > 6:
        return " ".join(words[:6]) if words else ""
    return phrase


def _is_contact(ev: Evidence, phrase: str) -> bool:
    """Whether a phrase is a way to reach someone, not a topic ("me at bob@acme.io")."""
    lowered = phrase.lower()
    if "@" in phrase or "://" in phrase or lowered in ("me", "us", "you", "them", "it", "this", "that"):
        return True
    if any(s.value.lower() in lowered for s in ev.emails + ev.phones + ev.urls):
        return True
    return any(p.value.lower() == lowered for p in _introduced(ev)) or any(
        s.value == phrase and len(phrase.split()) >= 2 and phrase.istitle() for s, _, _ in ev.names
    )


def _natural_dates(ev: Evidence) -> list[Span]:
    """Dates as written: ISO ones first, then "12 March 2025", "March 12", "next Tuesday"."""
    found = [Span(s.value, s.start, s.end) for s in ev.dates]
    found += [Span(m.group(), m.start(), m.end()) for m in _NATURAL_DATE.finditer(ev.text)]
    return found


def iso_date(text: str) -> str | None:
    """ "12 March 2025" or "March 12, 2025" as "2025-03-12"; None without a year or a month."""
    match = _NATURAL_DATE.fullmatch(text.strip())
    if match is None:
        iso = re.match(r"\d{4}-\d{2}-\d{2}", text.strip())
        return iso.group() if iso else None
    day = match.group("d1") or match.group("d2")
    month = match.group("m1") or match.group("m2")
    year = match.group("y1") or match.group("y2")
    if not (day and month and year):
        return None
    number = next((i + 1 for i, m in enumerate(_MONTHS) if m.startswith(month.lower()[:3])), None)
    if number is None or not 1 <= int(day) <= 31:
        return None
    return f"{year}-{number:02d}-{int(day):02d}"


def _amounts(ev: Evidence) -> list[tuple[Span, float]]:
    """Amounts of money, as written and as numbers ("5k USD" -> 5000)."""
    out = []
    for match in _AMOUNT.finditer(ev.text):
        raw = match.group("n1") or match.group("n2")
        scale = (match.group("s1") or match.group("s2") or "").lower()
        try:
            value = float(raw.replace(",", "")) * _SCALE.get(scale, 1.0)
        except ValueError:
            continue
        out.append((Span(match.group().strip(), match.start(), match.end()), value))
    return out


_DEPICTION = re.compile(
    r"\b(?:image|picture|photo|photograph|drawing|painting|illustration|sketch|rendering|"
    r"render|poster|logo|icon|wallpaper|portrait)s?\s+(?:of|showing|with|depicting)\s+"
    r"(?P<a>[^.?!\n]+)"
    r"|\b(?:draw|paint|sketch|illustrate|render|depict)\s+(?:me\s+|us\s+)?(?P<b>[^.?!\n]+)",
    re.IGNORECASE,
)


def depicted(ev: Evidence) -> list[str]:
    """What a picture asked for should show: "a mountain lake at dawn" in "Make me a picture
    of a mountain lake at dawn", "a cat wearing a hat" in "Draw a cat wearing a hat"."""
    out = []
    for match in _DEPICTION.finditer(ev.text):
        subject = (match.group("a") or match.group("b") or "").strip(" ,\"'“”")
        subject = re.sub(r"\s+(?:please|for me|for us)$", "", subject, flags=re.I)
        if subject and len(subject.split()) >= 2:
            out.append(subject)
    return out


_BECAUSE = re.compile(r"\b(?:because|since|as|due to|reason:?)\s+(?P<why>[^.?!;\n]{3,})", re.I)
_CLAUSE = re.compile(r"[^,.;!?\n]+")
_WORD_RUN = re.compile(r"[^\W\d_][\w'’-]*")


def reasons(ev: Evidence, asked: frozenset[str]) -> list[str]:
    """Why something is asked for, best first: after "because", else the words of a clause
    that are not the request itself ("arrived damaged" in "Order 1043 arrived damaged, I want
    my money back", whose request words `asked` are "refund" and "order")."""
    found = [m.group("why").strip() for m in _BECAUSE.finditer(ev.text)]
    runs: list[str] = []
    for clause in _CLAUSE.findall(ev.text):
        run: list[str] = []
        best: list[str] = []
        for word in _WORD_RUN.findall(clause):
            lower = word.lower()
            if lower in STOPWORDS or stem(lower) in asked or lower in ("please", "want", "i'd"):
                run = []
                continue
            run.append(word)
            if len(run) > len(best):
                best = list(run)
        if len(best) >= 2:
            runs.append(" ".join(best))
    runs.sort(key=lambda r: -len(r.split()))
    return found + runs
