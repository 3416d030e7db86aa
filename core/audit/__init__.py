"""Append-only, hash-chained audit log: who did what, when, to which object, before and after."""
