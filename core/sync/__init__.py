"""Site ⇄ hub sync. Today: the transactional outbox every service appends to; push/pull arrive with the sync issue."""
