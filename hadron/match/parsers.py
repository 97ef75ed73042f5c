"""Family parsers: read what a market is about from its ticker, slug and title.

Each parser turns a record into a :class:`Parsed` whose ``block`` is a canonical key: two markets
can only be the same contract when their blocks are equal, and the family-specific fields then say
whether (and with which polarity) they agree. Families:

* ``game``: a team game. Kalshi ``KXNBAGAME-26JAN06ORLWAS[-WAS]`` (league, date, team codes, the
  side YES pays on); Polymarket slug ``nba-orl-was-2026-01-06`` (league, team codes, date; outcomes
  are the teams in slug order). The date is part of the block, so the same two teams on another day
  never meet.
* ``updown``: a crypto/commodity up-or-down interval (Kalshi ``KXBTC15M``; Polymarket
  ``btc-updown-15m-<start epoch s>``); block = asset and interval end (UTC).
* ``threshold``: a price above/below a strike at a date; block = asset, date and strike; direction
  (``above``/``below``) and inclusivity (``≥`` vs ``>``) kept apart so they are compared, not assumed.
* ``fed``: a central-bank rate decision; block = bank and meeting month; outcome ``hold``,
  ``cut:25``, ``cut:50+``, ``hike:25``, ``hike:50+``.
* ``person``: an election or award outcome named by a person; block = normalised last name; the full
  name (with suffixes such as "Jr.") is compared by :func:`same_person`, so "Trump" ≠ "Trump Jr.".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import msgspec

from hadron.model.catalog import KalshiMarketInfo, PolymarketMarketInfo

MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
MONTH_NAMES = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
ASSETS = {
    "btc": "BTC", "bitcoin": "BTC", "eth": "ETH", "ethereum": "ETH", "sol": "SOL", "solana": "SOL",
    "xrp": "XRP", "doge": "DOGE", "dogecoin": "DOGE", "gold": "GOLD", "xau": "GOLD", "silver": "SILVER",
    "bnb": "BNB", "hype": "HYPE",
}  # fmt: skip
SYNONYMS = {
    "pro basketball": "nba", "pro football": "nfl", "pro hockey": "nhl", "pro baseball": "mlb",
    "college football": "ncaaf", "college basketball": "ncaab", "most valuable player": "mvp",
    "democratic": "democrat", "republican": "gop", "presidential": "president",
}  # fmt: skip
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})

_K_GAME = re.compile(
    r"^KX(?P<league>[A-Z0-9]+?)GAME-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?:\d{4})?(?P<teams>[A-Z]+)$"
)
_P_GAME = re.compile(
    r"^(?:[a-z]+-)??(?P<league>[a-z0-9]+)-(?P<a>[a-z0-9]+)-(?P<b>[a-z0-9]+)-(?P<date>\d{4}-\d{2}-\d{2})$"
)
_K_DATE = re.compile(r"-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})?")
_K_UPDOWN = re.compile(r"^KX(?P<asset>[A-Z]+?)(?P<minutes>\d+)M$")
_P_UPDOWN = re.compile(r"^(?P<asset>[a-z]+)-updown-(?P<n>\d+)(?P<unit>[mh])-(?P<start>\d{9,11})$")
_K_FED = re.compile(r"^KX(?:FEDDECISION|FED)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})-(?P<dir>[HC])(?P<bps>\d+)$")
_P_FED_MONTH = re.compile(r"\b(?P<month>" + "|".join(MONTH_NAMES) + r")\b\s*(?P<year>20\d\d)?")
_P_BPS = re.compile(r"(?P<bps>\d+)\s*(?P<plus>\+)?\s*(?:bps|basis points)")
_NUMBER = re.compile(r"\$?\s?(?P<n>\d[\d,]*(?:\.\d+)?)\s?(?P<mult>[kmb]\b|thousand|million|billion)?", re.IGNORECASE)
_ABOVE = (
    "above", "over", "greater than", "higher than", "more than", "exceed", "at least", "or more", "or higher",
    "or above", "≥", ">",
)  # fmt: skip
_BELOW = ("below", "under", "less than", "lower than", "at most", "or less", "or lower", "or below", "≤", "<")
_INCLUSIVE = ("at least", "or more", "or higher", "or above", "at most", "or less", "or lower", "or below", "≥", "≤")
_TOUCH = re.compile(r"\b(reach|hit|touch|dip to|fall to|drop to)\b")
_WILL_WIN = re.compile(r"^will (?P<name>.+?) (?:win|be|become|finish)\b", re.IGNORECASE)
_PERSON = re.compile(r"^[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}$")


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """What a market is about, as far as its family parser can tell.

    Attributes:
        family: ``game``, ``updown``, ``threshold``, ``fed`` or ``person``.
        block: canonical key; only records with equal blocks are compared field by field.
        teams: game: Kalshi's concatenated team codes (``("ORLWAS",)``) or Polymarket's slug codes in order.
        side: game: the team code YES pays on (Kalshi market) or "" (event / Polymarket).
        moneyline: game: a plain winner market (not a spread, total or prop).
        direction: threshold/updown: ``above`` or ``below``.
        inclusive: threshold: True for ≥/≤, False for >/<, None when unknown.
        value: threshold: the strike (Decimal).
        outcome: fed: ``hold``, ``cut:25``, ``cut:50+``, …
        name: person: normalised name tokens, suffixes kept (``("donald", "trump", "jr")``).
        code: person: a Kalshi ticker code such as ``NJOK`` when no name is known.
        context: the remaining text (lower case), for checking the question is the same.
        touch: threshold: path-dependent ("reach", "hit") rather than a value at a time.
    """

    family: str
    block: tuple[str, ...]
    teams: tuple[str, ...] = ()
    side: str = ""
    moneyline: bool = True
    direction: str = ""
    inclusive: bool | None = None
    value: Decimal | None = None
    outcome: str = ""
    name: tuple[str, ...] = ()
    code: str = ""
    context: str = ""
    touch: bool = False


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, venue synonyms unified ("Pro Basketball" → "nba")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9$.,%+ ]+", " ", text)
    for long, short in SYNONYMS.items():
        text = text.replace(long, short)
    return re.sub(r"\s+", " ", text).strip()


def name_tokens(name: str) -> tuple[str, ...]:
    """A person's name as normalised tokens, suffixes kept: "Donald Trump Jr." → ("donald", "trump", "jr")."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return tuple(t for t in re.split(r"[^a-z]+", text) if t)


def _split_name(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], str, frozenset[str]]:
    suffixes = frozenset(t for t in tokens if t in NAME_SUFFIXES)
    core = tuple(t for t in tokens if t not in NAME_SUFFIXES)
    return core[:-1], (core[-1] if core else ""), suffixes


def same_person(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two normalised names can be the same person.

    Last names and suffixes must be equal ("Trump" ≠ "Trump Jr."); first names, when both are
    given, must be equal or one an initial of the other.
    """
    first_a, last_a, suffix_a = _split_name(a)
    first_b, last_b, suffix_b = _split_name(b)
    if not last_a or last_a != last_b or suffix_a != suffix_b:
        return False
    if first_a and first_b:
        x, y = first_a[0], first_b[0]
        return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))
    return True


def code_matches_name(code: str, tokens: tuple[str, ...]) -> bool:
    """Whether a Kalshi person code (first initial + start of last name, e.g. ``NJOK``) fits a name."""
    first, last, _ = _split_name(tokens)
    code = code.lower()
    return len(code) >= 3 and bool(first) and first[0].startswith(code[0]) and last.startswith(code[1:])


def _kalshi_date(ticker: str) -> date | None:
    match = _K_DATE.search(ticker)
    if not match or match["mon"] not in MONTHS:
        return None
    try:
        return date(2000 + int(match["yy"]), MONTHS[match["mon"]], int(match["dd"] or 1))
    except ValueError:
        return None


def number(text: str, mult: str | None = None) -> Decimal | None:
    """A number as written ("100,000", "1.5", with k/m/b) as Decimal, or None."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    scale = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000, "b": 10**9, "billion": 10**9}
    return value * scale.get((mult or "").lower(), 1)


def _asset(text: str) -> str:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in ASSETS:
            return ASSETS[word]
    return ""


# -------------------------------------------------------------------------------------------- Kalshi


def parse_kalshi(record: KalshiMarketInfo) -> Parsed | None:
    """The family of a Kalshi record, or None when no family parser recognises it."""
    game = _K_GAME.match(record.event_ticker)
    if game:
        side = record.market_ticker.rsplit("-", 1)[1] if record.market_ticker.count("-") >= 2 else ""
        day = _kalshi_date(record.event_ticker)
        return Parsed(
            family="game",
            block=("game", day.isoformat() if day else ""),
            teams=(game["teams"],),
            side=side,
            context=game["league"].lower(),
        )
    series = record.series_ticker or record.event_ticker.split("-", 1)[0]
    updown = _K_UPDOWN.match(series)
    when = record.close_time
    if updown and when and record.strike_type in ("greater", "greater_or_equal"):
        asset = ASSETS.get(updown["asset"].lower(), updown["asset"])
        return Parsed(family="updown", block=("updown", asset, when.astimezone(UTC).isoformat()), direction="above")
    fed = _K_FED.match(record.market_ticker)
    if fed:
        bps = int(fed["bps"])
        kind = "cut" if fed["dir"] == "C" else "hike"
        outcome = "hold" if bps == 0 else f"{kind}:{bps}" if bps % 25 == 0 else f"{kind}:{bps + 24 - bps % 25}+"
        return Parsed(
            family="fed", block=("fed", "FED", f"20{fed['yy']}-{MONTHS.get(fed['mon'], 0):02d}"), outcome=outcome
        )
    if record.strike_type in ("greater", "greater_or_equal", "less", "less_or_equal") and when:
        asset = _asset(series[2:] if series.startswith("KX") else series) or _asset(
            record.event_title + " " + record.title
        )
        above = record.strike_type.startswith("greater")
        value = record.floor_strike if above else record.cap_strike
        if asset and value is not None:
            return Parsed(
                family="threshold",
                block=("threshold", asset, when.astimezone(UTC).date().isoformat(), str(value.normalize())),
                direction="above" if above else "below",
                inclusive=record.strike_type.endswith("or_equal"),
                value=value,
            )
    return _kalshi_person(record)


def _kalshi_person(record: KalshiMarketInfo) -> Parsed | None:
    if not record.market_ticker:
        return None
    name = record.yes_sub_title.strip()
    context = normalize(f"{record.event_title} {record.title}")
    if name and _PERSON.match(name) and not re.search(r"\d", name) and record.multi_outcome:
        tokens = name_tokens(name)
        if len(tokens) >= 2:
            return Parsed(family="person", block=("person", _split_name(tokens)[1]), name=tokens, context=context)
    code = record.market_ticker.rsplit("-", 1)[1]
    if record.multi_outcome and not name and re.fullmatch(r"[A-Z]{4,6}", code):
        return Parsed(family="person", block=("person-code", code[0].lower()), code=code, context=context)
    return None


# ---------------------------------------------------------------------------------------- Polymarket


def _direction(question: str) -> tuple[str, bool | None, Decimal | None]:
    q = question.lower()
    found: list[tuple[int, str, bool]] = []
    for words, direction in ((_ABOVE, "above"), (_BELOW, "below")):
        for word in words:
            index = q.find(word)
            if index >= 0:
                found.append((index, direction, word in _INCLUSIVE))
    if not found:
        return "", None, None
    directions = {d for _, d, _ in found}
    if len(directions) > 1:
        return "", None, None
    inclusive = any(inc for _, _, inc in found)
    first = min(i for i, _, _ in found)
    match = _NUMBER.search(q, first)
    value = number(match["n"], match["mult"]) if match else None
    return found[0][1], inclusive, value


def parse_polymarket(record: PolymarketMarketInfo) -> Parsed | None:
    """The family of a Polymarket record, or None when no family parser recognises it."""
    slug = record.event_slug or record.slug
    game = _P_GAME.match(slug)
    if game and not re.search(r"\d", game["a"] + game["b"]):
        moneyline = (not record.condition_id) or record.sports_market_type in ("", "moneyline")
        moneyline = moneyline and (not record.slug or record.slug == slug or record.sports_market_type == "moneyline")
        return Parsed(
            family="game", block=("game", game["date"]), teams=(game["a"], game["b"]), moneyline=moneyline,
            context=game["league"],
        )  # fmt: skip
    updown = _P_UPDOWN.match(record.slug or slug)
    if updown:
        start = datetime.fromtimestamp(int(updown["start"]), UTC)
        end = start + timedelta(minutes=int(updown["n"]) * (60 if updown["unit"] == "h" else 1))
        asset = ASSETS.get(updown["asset"], updown["asset"].upper())
        return Parsed(family="updown", block=("updown", asset, end.isoformat()), direction="above")
    text = f"{record.event_title} {record.question}"
    low = normalize(text)
    if re.search(r"\b(fed|fomc|federal reserve)\b", low) and record.condition_id:
        return _poly_fed(record, low)
    if record.condition_id and record.end_time:
        asset = _asset(record.question)
        direction, inclusive, value = _direction(record.question)
        if asset and direction and value is not None:
            return Parsed(
                family="threshold",
                block=("threshold", asset, record.end_time.astimezone(UTC).date().isoformat(), str(value.normalize())),
                direction=direction,
                inclusive=inclusive,
                value=value,
                touch=bool(_TOUCH.search(record.question.lower())),
            )
    return _poly_person(record)


def _poly_fed(record: PolymarketMarketInfo, low: str) -> Parsed | None:
    month = _P_FED_MONTH.search(low)
    if not month:
        return None
    year = month["year"] or (str(record.end_time.year) if record.end_time else "")
    question = record.question.lower()
    bps = _P_BPS.search(question)
    if "no change" in question or "pause" in question or "hold" in question:
        outcome = "hold"
    elif bps and re.search(r"\b(cut|decrease|lower)", question):
        outcome = f"cut:{bps['bps']}{'+' if bps['plus'] else ''}"
    elif bps and re.search(r"\b(hike|increase|raise)", question):
        outcome = f"hike:{bps['bps']}{'+' if bps['plus'] else ''}"
    else:
        return None
    return Parsed(family="fed", block=("fed", "FED", f"{year}-{MONTH_NAMES[month['month']]:02d}"), outcome=outcome)


def _poly_person(record: PolymarketMarketInfo) -> Parsed | None:
    if not record.condition_id:
        return None
    name = record.group_item_title.strip()
    if not (name and _PERSON.match(name)):
        will = _WILL_WIN.match(record.question)
        name = will["name"] if will else ""
    if not name or not _PERSON.match(name) or re.search(r"\d", name):
        return None
    tokens = name_tokens(name)
    if not tokens:
        return None
    context = normalize(f"{record.event_title} {record.question}".replace(name, " "))
    return Parsed(family="person", block=("person", _split_name(tokens)[1]), name=tokens, context=context)
