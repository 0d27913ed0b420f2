"""社会救助 transactions.

Each function runs inside the caller's transaction (a mutation, an event
handler, the seed), validates everything before it writes, keeps the core
enrolments true through :func:`minzheng.core.enrolments.set_enrolment` and
records an audit entry.  Failures are :class:`minzheng.core.errors.DomainError`
subclasses; the caller rolls back, so nothing is half-written.

- :mod:`.standards` — the standards table and which one is in force
- :mod:`.dibao` — 低保 cases, reviews, phase-out, reactions to registry events
- :mod:`.tekun` — 特困 cases: conditions, self-care, termination
- :mod:`.temporary` — 临时救助 and the township reserve funds
- :mod:`.near_poverty` — 低保边缘家庭 determinations
- :mod:`.explain` — eligibility explanations for a household or person
"""
