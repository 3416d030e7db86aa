"""The property counter (物业收费台): find a house, see its bills, take payments, receipts and shifts."""
