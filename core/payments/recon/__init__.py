"""对账 — reconciliation of the channels' daily statements against the hub's payment orders and refunds."""
