"""The double-entry ledger: books per segregated fund, accounts, immutable balanced entries, two-phase holds.

Services are in `core.ledger.services` (post, post_batch, reverse, holds, queries); `core.ledger.verify`
recomputes every invariant from the postings.
"""
