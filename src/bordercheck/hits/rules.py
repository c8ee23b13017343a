"""Each bureau's rules for the hits on its own records: what a domestic hit (its own
officers screening its own record) does."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.auth.actors import Actor
from bordercheck.hits.models import DomesticRule, HitRules


def get_rules(session: Session, bureau: str) -> HitRules:
    """The bureau's rules; the defaults (not stored) when it never set any."""
    rules = session.get(HitRules, bureau)
    if rules is None:
        return HitRules(
            bureau_code=bureau, domestic=DomesticRule.CASE.value, updated_at=None, updated_by=None
        )
    return rules


def set_rules(
    session: Session, actor: Actor, bureau: str, *, domestic: DomesticRule, now: datetime
) -> HitRules:
    rules = session.get(HitRules, bureau, with_for_update=True)
    before = rules.domestic if rules is not None else DomesticRule.CASE.value
    if rules is None:
        rules = HitRules(bureau_code=bureau)
        session.add(rules)
    rules.domestic, rules.updated_at, rules.updated_by = domestic.value, now, actor.name
    session.flush()
    record_event(
        session,
        actor=actor.name,
        bureau_code=bureau,
        action="hit.rules_set",
        subject=f"hit_rules:{bureau}",
        details={"domestic": domestic.value, "was": before},
    )
    return rules


def domestic_rules(session: Session, bureaus: Collection[str]) -> dict[str, DomesticRule]:
    """Each bureau's rule for its domestic hits (every bureau named, defaults included)."""
    found = dict.fromkeys(bureaus, DomesticRule.CASE)
    if found:
        query = select(HitRules.bureau_code, HitRules.domestic).where(
            HitRules.bureau_code.in_(sorted(found))
        )
        found.update((code, DomesticRule(rule)) for code, rule in session.execute(query))
    return found
