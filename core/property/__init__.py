"""智慧物业 — smart property: communities, houses and owners, fee items and bill runs, payments and receipts.

Operations (repairs, parking, access, notices, complaints, activities) live in the subpackages.
"""


def _register_payment_handler() -> None:
    # Hub notices for app "property" must settle bills in whichever process decides the payment.
    from core.property import payhub  # noqa: F401


_register_payment_handler()
