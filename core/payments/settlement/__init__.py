"""结算 — the daily settlement of what the hub collected for each app: gross, refunds, fees, net, paid out."""
