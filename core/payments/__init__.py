"""支付中台 — the payment hub: payment orders, channels and routing, callbacks, notifications, refunds and
cashier shifts (reconciliation and settlement live in the recon/ and settlement/ subpackages)."""


def _register_workflow_handlers() -> None:
    # The shift-difference approval's handlers must be known wherever an approver may decide it.
    from core.payments import shifts  # noqa: F401


_register_workflow_handlers()
