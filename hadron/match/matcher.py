"""Propose cross-venue pairs: structured family keys first, then fuzzy titles with date and number checks.

Every pair says how the two contracts relate (``identity``, ``complement``, ``subset``, ``overlap``,
``disjoint``), which Polymarket token pays when the Kalshi market's YES pays (identity: the
equivalent outcome; complement: the token of the opposite outcome, i.e. Kalshi YES ≡ that token),
why it was proposed, and what a reviewer must check (settlement time gap, different sources,
void/tie rules, ≥ vs >). Nothing here is traded until a person approves it (:mod:`hadron.match.pairs`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from rapidfuzz import fuzz, process

from hadron.match.pairs import Pair
from hadron.match.parsers import (
    Parsed,
    _kalshi_date,
    code_matches_name,
    normalize,
    parse_kalshi,
    parse_polymarket,
    same_person,
)
from hadron.model.catalog import KalshiMarketInfo, PolymarketMarketInfo

_NEGATION = re.compile(r"\b(not|no|won t|wont|fail to|without)\b")
_YEAR = re.compile(r"\b(20\d\d)\b")
_NUM = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_SLUG_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


# ----------------------------------------------------------------------------------------- helpers


def _token(record: PolymarketMarketInfo, label: str) -> tuple[str, str]:
    """(token of ``label``, the other token) for a two-outcome market, or ("", "")."""
    if len(record.outcomes) != 2 or len(record.token_ids) != 2:
        return "", ""
    labels = [o.strip().lower() for o in record.outcomes]
    if label.lower() not in labels:
        return "", ""
    index = labels.index(label.lower())
    return record.token_ids[index], record.token_ids[1 - index]


def _pair(
    k: KalshiMarketInfo,
    p: PolymarketMarketInfo,
    relation: str,
    confidence: float,
    reasons: list[str],
    yes_no: tuple[str, str] = ("", ""),
) -> Pair:
    market_level = bool(k.market_ticker and p.condition_id)
    pair = Pair(
        kalshi_event=k.event_ticker,
        polymarket_event=p.event_slug or p.event_id or p.slug,
        relation=relation,
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        kalshi_market=k.market_ticker,
        polymarket_market=p.condition_id,
        polymarket_yes_token=yes_no[0] if market_level else "",
        polymarket_no_token=yes_no[1] if market_level else "",
        reasons=reasons,
    )
    pair.warnings.extend(warnings_for(k, p))
    if market_level and relation in ("identity", "complement") and not pair.polymarket_yes_token:
        pair.warnings.append("polarity unknown: set polymarket_yes_token by hand before approving")
    return pair


def warnings_for(k: KalshiMarketInfo, p: PolymarketMarketInfo) -> list[str]:
    """Settlement differences a reviewer must look at: time gap, sources, void/tie rules."""
    out: list[str] = []
    k_time = k.expiration_time or k.close_time
    p_time = p.end_time
    if k_time and p_time:
        gap = abs((k_time - p_time).total_seconds()) / 3600
        if gap >= 1:
            when = f"Kalshi {k_time:%Y-%m-%d %H:%M}Z, Polymarket {p_time:%Y-%m-%d %H:%M}Z"
            out.append(f"settlement time gap {gap:.1f} h ({when})")
    k_src = ", ".join(k.settlement_sources)
    p_src = p.resolution_source
    if k_src and p_src and fuzz.token_set_ratio(normalize(k_src), normalize(p_src)) < 60:
        out.append(f"settlement sources differ: Kalshi {k_src} vs Polymarket {p_src}")
    elif k_src and not p_src:
        out.append(f"settlement source only stated by Kalshi ({k_src}); read the Polymarket rules")
    p_rules = p.rules.lower()
    if "50-50" in p_rules and "50-50" not in k.rules.lower():
        out.append("void rules differ: Polymarket resolves 50-50 on cancellation/tie; check Kalshi's rules")
    return out


def _days(a: datetime | date | None, b: datetime | date | None) -> float | None:
    if a is None or b is None:
        return None
    da = a.date() if isinstance(a, datetime) else a
    db = b.date() if isinstance(b, datetime) else b
    return abs((da - db).days)


def _code_sim(a: str, b: str) -> float:
    a, b = a.lower(), b.lower()
    if a == b:
        return 3.0
    if a.startswith(b) or b.startswith(a):
        return 2.0
    if a[:1] == b[:1]:
        return 1.0 + fuzz.ratio(a, b) / 100
    return fuzz.ratio(a, b) / 100


def _assign_teams(kalshi_teams: str, side: str, slug: tuple[str, ...]) -> tuple[float, int]:
    """Best split of Kalshi's concatenated codes against the slug's two codes.

    Returns:
        (score, index in ``slug`` of Kalshi's YES side, or -1 when the side is unknown). A score
        below 2 means the teams do not agree.
    """
    best, side_index = 0.0, -1
    for cut in range(2, len(kalshi_teams) - 1):
        x, y = kalshi_teams[:cut], kalshi_teams[cut:]
        if side and side not in (x, y):
            continue
        for order in ((0, 1), (1, 0)):
            score = (_code_sim(x, slug[order[0]]) + _code_sim(y, slug[order[1]])) / 2
            if score > best:
                best = score
                side_index = -1 if not side else order[0] if side == x else order[1]
    return best, side_index


# ------------------------------------------------------------------------------------- structured


def _game(k: KalshiMarketInfo, kp: Parsed, p: PolymarketMarketInfo, pp: Parsed) -> Pair | None:
    score, index = _assign_teams(kp.teams[0], kp.side, pp.teams)
    if score < 2.0:
        return None
    reasons = [
        f"same game date {kp.block[1]}",
        f"teams agree ({kp.teams[0]} ~ {'/'.join(pp.teams)}, score {score:.1f})",
    ]
    if kp.context and kp.context != pp.context:
        reasons.append(f"league codes differ ({kp.context} vs {pp.context})")
    confidence = 0.75 + 0.08 * (score - 2.0)
    if not (k.market_ticker and p.condition_id):
        relation = "identity" if pp.moneyline else "overlap"
        return _pair(k, p, relation, confidence, [*reasons, "event level"])
    if not pp.moneyline:
        return _pair(
            k, p, "overlap", confidence - 0.2, [*reasons, f"Polymarket market is {p.sports_market_type or 'a prop'}"]
        )
    by_name = [
        i
        for i, o in enumerate(p.outcomes)
        if k.yes_sub_title and fuzz.ratio(normalize(o), normalize(k.yes_sub_title)) >= 90
    ]
    if len(by_name) == 1:
        index = by_name[0]
        reasons.append(f"Kalshi YES ({k.yes_sub_title}) is Polymarket outcome {p.outcomes[index]!r} by name")
    elif index >= 0 and len(p.outcomes) == 2:
        reasons.append(f"Kalshi YES ({kp.side}) is Polymarket outcome {p.outcomes[index]!r} (slug team order)")
    if index < 0 or len(p.token_ids) != 2:
        return _pair(k, p, "identity", confidence - 0.2, reasons)
    yes_no = (p.token_ids[index], p.token_ids[1 - index])
    if len(p.outcomes) == 2 and p.outcomes[0].lower() in ("yes", "no"):
        yes_no = _token(p, "yes")
    return _pair(k, p, "identity", confidence, reasons, yes_no)


def _threshold(k: KalshiMarketInfo, kp: Parsed, p: PolymarketMarketInfo, pp: Parsed) -> Pair | None:
    reasons = [f"same asset {kp.block[1]}, date {kp.block[2]}, strike {kp.value}"]
    if pp.touch:
        return _pair(
            k, p, "overlap", 0.5, [*reasons, "Polymarket asks whether the price is touched, Kalshi where it settles"]
        )
    sign = {("above", True): "≥", ("above", False): ">", ("below", True): "≤", ("below", False): "<"}
    k_sign = sign[(kp.direction, bool(kp.inclusive))]
    p_sign = sign.get((pp.direction, bool(pp.inclusive)), "?")
    yes, no = _token(p, "yes")
    if kp.direction == pp.direction:
        if kp.inclusive == pp.inclusive:
            return _pair(k, p, "identity", 0.92, [*reasons, f"both {k_sign} {kp.value}"], (yes, no))
        pair = _pair(
            k, p, "overlap", 0.7, [*reasons, f"same direction but Kalshi {k_sign} vs Polymarket {p_sign}"], (yes, no)
        )
        pair.warnings.append(
            f"threshold inclusivity differs: Kalshi {k_sign} {kp.value} vs Polymarket {p_sign} {pp.value}"
        )
        return pair
    exact = kp.inclusive != pp.inclusive
    relation = "complement" if exact else "disjoint"
    pair = _pair(
        k,
        p,
        relation,
        0.85 if exact else 0.6,
        [*reasons, f"Kalshi {k_sign} vs Polymarket {p_sign}: opposite sides"],
        (no, yes),
    )
    if not exact:
        pair.warnings.append(
            f"neither side pays when the price is exactly {kp.value} (Kalshi {k_sign}, Polymarket {p_sign})"
        )
    return pair


def _person(k: KalshiMarketInfo, kp: Parsed, p: PolymarketMarketInfo, pp: Parsed) -> Pair | None:
    if kp.code:
        if not code_matches_name(kp.code, pp.name):
            return None
    elif not same_person(kp.name, pp.name):
        return None
    context = fuzz.token_set_ratio(kp.context, pp.context)
    k_years = set(_YEAR.findall(kp.context))
    p_years = set(_YEAR.findall(pp.context))
    if context < 50 or (k_years and p_years and not k_years & p_years):
        return None
    who = " ".join(pp.name)
    reasons = [f"same person ({k.yes_sub_title or kp.code} ~ {who})", f"context similarity {context:.0f}"]
    relation = "identity"
    if k.multi_outcome != p.multi_outcome:
        reasons.append("one side is a multi-outcome event, the other a stand-alone binary market")
    confidence = 0.6 + 0.35 * context / 100
    return _pair(k, p, relation, confidence, reasons, _token(p, "yes"))


def _structured(
    kalshi: list[tuple[KalshiMarketInfo, Parsed]], poly: list[tuple[PolymarketMarketInfo, Parsed]]
) -> list[Pair]:
    by_block: dict[tuple[str, ...], list[tuple[PolymarketMarketInfo, Parsed]]] = defaultdict(list)
    persons: list[tuple[PolymarketMarketInfo, Parsed]] = []
    for p, pp in poly:
        by_block[pp.block].append((p, pp))
        if pp.family == "person":
            persons.append((p, pp))
    out: list[Pair] = []
    for k, kp in kalshi:
        candidates = persons if kp.code else by_block.get(kp.block, [])
        for p, pp in candidates:
            if pp.family != kp.family:
                continue
            pair: Pair | None = None
            if kp.family == "game":
                pair = _game(k, kp, p, pp)
            elif kp.family == "threshold":
                pair = _threshold(k, kp, p, pp)
            elif kp.family == "person":
                pair = _person(k, kp, p, pp)
            elif kp.family == "updown":
                pair = _pair(
                    k,
                    p,
                    "identity",
                    0.9,
                    [f"same asset and interval end {kp.block[2]}", "Kalshi YES (up) ≡ 'Up'"],
                    _token(p, "up"),
                )
            elif kp.family == "fed" and kp.outcome == pp.outcome:
                pair = _pair(
                    k,
                    p,
                    "identity",
                    0.9,
                    [f"same meeting {kp.block[2]}", f"same decision {kp.outcome}"],
                    _token(p, "yes"),
                )
            if pair is not None:
                out.append(pair)
    return out


# ------------------------------------------------------------------------------------------ fuzzy


def _k_text(k: KalshiMarketInfo) -> str:
    parts = dict.fromkeys(x for x in (k.event_title, k.title, k.yes_sub_title if k.market_ticker else "") if x)
    return normalize(" ".join(parts))


def _p_text(p: PolymarketMarketInfo) -> str:
    parts = dict.fromkeys(x for x in (p.event_title, p.question) if x)
    return normalize(" ".join(parts))


def _k_day(k: KalshiMarketInfo) -> date | None:
    day = _kalshi_date(k.event_ticker)
    if day and re.search(r"-\d{2}[A-Z]{3}\d{2}", k.event_ticker):
        return day
    return None


def _p_day(p: PolymarketMarketInfo) -> date | None:
    found = _SLUG_DATE.search(p.event_slug or p.slug)
    if found:
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return None
    return None


def _fuzzy_one(  # noqa: C901 - one scoring rule after another, each a reviewer-visible reason
    k: KalshiMarketInfo, kt: str, p: PolymarketMarketInfo, pt: str, score: float
) -> Pair | None:
    ratio = (score + fuzz.token_sort_ratio(kt, pt)) / 2
    confidence = ratio / 100
    reasons = [f"title similarity {ratio:.0f}"]
    k_years, p_years = set(_YEAR.findall(kt)), set(_YEAR.findall(pt))
    if k_years and p_years:
        if not k_years & p_years:
            return None
        reasons.append(f"years agree ({', '.join(sorted(k_years & p_years))})")
    k_nums = set(_NUM.findall(kt)) - k_years
    p_nums = set(_NUM.findall(pt)) - p_years
    if k_nums and p_nums:
        if k_nums & p_nums:
            confidence += 0.05
            reasons.append("numbers agree")
        else:
            confidence -= 0.15
    gap = _days(_k_day(k) or k.close_time, _p_day(p) or p.end_time)
    is_game = " vs" in kt or " vs" in pt
    if gap is not None:
        if is_game and gap > 1:
            return None
        if gap <= 1:
            confidence += 0.1
            reasons.append("dates agree")
        elif gap > 31:
            confidence -= 0.1
    relation = "identity"
    yes_no = _token(p, "yes")
    if bool(_NEGATION.search(kt)) != bool(_NEGATION.search(pt)):
        relation = "complement"
        yes_no = (yes_no[1], yes_no[0])
        reasons.append("one question is the negation of the other")
    if k.market_ticker and not p.condition_id and p.multi_outcome:
        relation = "subset"
        reasons.append("Kalshi market is one outcome of a multi-outcome Polymarket event")
    elif p.condition_id and not k.market_ticker and k.multi_outcome:
        relation = "subset"
        reasons.append("Polymarket market is one outcome of a multi-outcome Kalshi event")
    elif bool(k.market_ticker) != bool(p.condition_id):
        relation = "overlap"
        reasons.append("one side is a whole event, the other a single market: pair at the same level before trading")
    elif k.market_ticker and p.condition_id and k.multi_outcome != p.multi_outcome:
        reasons.append("one side is part of a multi-outcome event, the other a stand-alone market")
    if k.market_ticker and p.condition_id and not yes_no[0] and k.yes_sub_title:
        named = [i for i, o in enumerate(p.outcomes) if fuzz.ratio(normalize(o), normalize(k.yes_sub_title)) >= 85]
        if len(named) == 1 and len(p.token_ids) == 2:
            yes_no = (p.token_ids[named[0]], p.token_ids[1 - named[0]])
            reasons.append(f"Kalshi YES ({k.yes_sub_title}) is Polymarket outcome {p.outcomes[named[0]]!r}")
    return _pair(k, p, relation, min(confidence, 0.89), reasons, yes_no)


def _fuzzy(
    kalshi: list[tuple[KalshiMarketInfo, Parsed | None]],
    poly: list[tuple[PolymarketMarketInfo, Parsed | None]],
    min_confidence: float,
    per_record: int,
) -> list[Pair]:
    if not kalshi or not poly:
        return []
    p_texts = [_p_text(p) for p, _ in poly]
    out: list[Pair] = []
    for k, kp in kalshi:
        kt = _k_text(k)
        if not kt:
            continue
        found = process.extract(
            kt, p_texts, scorer=fuzz.token_set_ratio, limit=per_record * 4, score_cutoff=min_confidence * 100 - 10
        )
        pairs: list[Pair] = []
        for _, score, index in found:
            p, pp = poly[index]
            if kp is not None and pp is not None and kp.family == pp.family:
                continue
            pair = _fuzzy_one(k, kt, p, p_texts[index], score)
            if pair is not None and pair.confidence >= min_confidence:
                pairs.append(pair)
        pairs.sort(key=lambda x: -x.confidence)
        out.extend(pairs[:per_record])
    return out


# -------------------------------------------------------------------------------------------- API


def match(
    kalshi: list[KalshiMarketInfo],
    polymarket: list[PolymarketMarketInfo],
    *,
    min_confidence: float = 0.6,
    per_record: int = 3,
) -> list[Pair]:
    """Propose pairs between Kalshi and Polymarket records.

    Structured family keys (:mod:`hadron.match.parsers`) decide first: records two family parsers
    recognise are paired only when their keys agree. Records left unpaired are compared by fuzzy
    title similarity (rapidfuzz ``token_set_ratio`` to shortlist, averaged with ``token_sort_ratio``),
    adjusted for date agreement (game titles more than a day apart are rejected) and number agreement
    (disjoint years reject).

    Args:
        kalshi: Kalshi markets, or events (event-level records) when markets are unknown.
        polymarket: Polymarket markets, or events.
        min_confidence: pairs below this confidence (0..1) are dropped.
        per_record: at most this many fuzzy candidates per Kalshi record.

    Returns:
        Pairs sorted by Kalshi key then confidence (highest first); ids are unique.
    """
    k_parsed = [(k, parse_kalshi(k)) for k in kalshi]
    p_parsed = [(p, parse_polymarket(p)) for p in polymarket]
    structured = _structured(
        [(k, kp) for k, kp in k_parsed if kp is not None], [(p, pp) for p, pp in p_parsed if pp is not None]
    )
    structured = [p for p in structured if p.confidence >= min_confidence]
    paired_k = {p.kalshi_market or p.kalshi_event for p in structured}
    paired_p = {p.polymarket_market or p.polymarket_event for p in structured}
    fuzzy = _fuzzy(
        [(k, kp) for k, kp in k_parsed if k.key not in paired_k],
        [(p, pp) for p, pp in p_parsed if (p.condition_id or p.event_slug or p.event_id) not in paired_p],
        min_confidence,
        per_record,
    )
    unique: dict[str, Pair] = {}
    for pair in [*structured, *fuzzy]:
        if pair.id not in unique or unique[pair.id].confidence < pair.confidence:
            unique[pair.id] = pair
    return sorted(unique.values(), key=lambda p: (p.kalshi_market or p.kalshi_event, -p.confidence))


def evaluate(pairs: Iterable[Pair], labels: Mapping[tuple[str, str], bool]) -> dict[str, float]:
    """Precision and recall of proposed pairs against labels, at the level the labels use.

    Args:
        pairs: proposed pairs; each is keyed as (Kalshi market or event, Polymarket market or event),
            whichever level the labels use (tried market first, then event).
        labels: (Kalshi key, Polymarket key) → True when the pair is the same contract/event.

    Returns:
        ``tp``, ``fp``, ``fn``, ``unlabelled`` (proposed pairs with no label), ``precision``
        (tp / (tp + fp), over labelled proposals), ``recall`` (tp / positives) and ``f1``.
    """
    predicted: set[tuple[str, str]] = set()
    unlabelled = 0
    for pair in pairs:
        keys = [(pair.kalshi_market, pair.polymarket_market), (pair.kalshi_event, pair.polymarket_event)]
        key = next((x for x in keys if x in labels), None)
        if key is None:
            unlabelled += 1
        else:
            predicted.add(key)
    positives = {key for key, value in labels.items() if value}
    tp = len(predicted & positives)
    fp = len(predicted - positives)
    fn = len(positives - predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp, "fp": fp, "fn": fn, "unlabelled": unlabelled,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
    }  # fmt: skip
