"""The audit keys a server holds (`AUDIT_KEYS`, `AUDIT_SIGNING_KEY`), read one way for the
settings, which refuse to start with keys that cannot be used, and for the chains, which
sign with them (ADR 0014, 0044). Nothing here touches the database, so settings can load it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsr.core.models import AuditChain


@dataclass(frozen=True)
class Keys:
    """The audit keys this server holds, by id, in the order they came into use; `current`
    signs new events (the last, unless `AUDIT_SIGNING_KEY` names an earlier one while a new
    key reaches every server); `later`, the keys held that came into use after it."""

    by_id: dict[str, bytes]
    current: str
    later: frozenset[str] = frozenset()

    def for_chain(self, head: AuditChain) -> str:
        """The key to sign a chain's next events with: ours, or the chain's own where that is
        a later key this server holds. A rotation under way: another server signs with the
        new key already, and a chain's key never goes back to an older one (ADR 0044)."""
        return head.key_id if head.key_id in self.later else self.current


@functools.lru_cache(maxsize=4)
def parse(items: tuple[str, ...], signing: str = "") -> Keys:
    """AUDIT_KEYS ("id:secret" each) and AUDIT_SIGNING_KEY read, once for each value they
    take (every audited request asks); ValueError saying what is wrong with them. An id
    given twice is refused: events signed under it could not all be verified afterwards."""
    by_id: dict[str, bytes] = {}
    for item in items:
        key_id, _, secret = item.partition(":")
        if not key_id.strip() or not secret.strip():
            raise ValueError("AUDIT_KEYS entries are id:secret, comma-separated")
        if key_id.strip() in by_id:
            raise ValueError("AUDIT_KEYS names a key id twice: each key needs an id of its own")
        by_id[key_id.strip()] = secret.strip().encode()
    if not by_id:
        raise ValueError("No audit key: set AUDIT_KEYS")
    order = list(by_id)
    current = signing.strip() or order[-1]
    if current not in by_id:
        raise ValueError(f"AUDIT_SIGNING_KEY {current!r} is not an id in AUDIT_KEYS")
    return Keys(by_id, current, frozenset(order[order.index(current) + 1 :]))
