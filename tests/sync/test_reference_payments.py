"""Channel fee rates and routing rules are owned by the hub: pulled, applied to the site's tables, versioned
(the later version wins), and refused when the site tries to edit them itself."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from core.errors import StateError
from core.payments import routing
from core.payments import services as pay
from core.payments.models import PayChannel, PayRoute
from core.sync.client import run_round
from hub.sync_apply import publish_reference


def test_channel_rates_and_routes_from_the_hub_apply_at_the_site(hub, site):
    pay.ensure_payhub_books(site.ctx)
    route_id = str(uuid.uuid4())
    publish_reference(hub.ctx, "payments.channel", "wechat", {"fee_rate": "0.0055", "enabled": True})
    publish_reference(hub.ctx, "payments.channel", "alipay", {"enabled": False})
    publish_reference(
        hub.ctx,
        "payments.route",
        route_id,
        {"channels": ["wechat", "unionpay"], "app_id": "property", "method": "qr", "priority": 5},
    )
    run_round(site.ctx, backup=False)
    with site.ctx.read() as s:
        assert (s.get(PayChannel, "wechat").fee_rate, s.get(PayChannel, "wechat").enabled) == ("0.0055", True)
        assert s.get(PayChannel, "alipay").enabled is False
        route = s.get(PayRoute, uuid.UUID(route_id))
        assert (route.channels, route.app_id, route.method, route.priority) == (
            ["wechat", "unionpay"],
            "property",
            "qr",
            5,
        )
    # A later version replaces the site's copy.
    publish_reference(hub.ctx, "payments.channel", "wechat", {"fee_rate": "0.006"})
    assert run_round(site.ctx, backup=False).pulled == 1
    with site.ctx.read() as s:
        assert s.get(PayChannel, "wechat").fee_rate == "0.006"
        assert s.execute(select(PayRoute.enabled).where(PayRoute.id == uuid.UUID(route_id))).scalar_one()
    # The site's own edits of what the hub owns are refused and change nothing.
    with pytest.raises(StateError) as refused:
        routing.set_channel(site.ctx, "wechat", fee_rate="0.001")
    assert refused.value.code == "hub_owned"
    with pytest.raises(StateError):
        routing.set_route_enabled(site.ctx, uuid.UUID(route_id), False)
    with site.ctx.read() as s:
        assert s.get(PayChannel, "wechat").fee_rate == "0.006"
        assert s.get(PayRoute, uuid.UUID(route_id)).enabled is True
    # A channel the hub does not own is still the site's to set.
    assert routing.set_channel(site.ctx, "cash", enabled=True).enabled is True


def test_the_hub_refuses_to_publish_what_sites_would_refuse(hub, site):
    """An invalid item would stop every site's pull behind it, so the hub checks it with the sites' own rules."""
    from sqlalchemy import func

    from core.errors import ValidationError
    from core.sync.models import HubReferenceChange

    with hub.ctx.read() as s:
        before = s.execute(select(func.count()).select_from(HubReferenceChange)).scalar_one()
    for kind, key, payload in (
        ("payments.channel", "wechat", {"fee_rate": "lots"}),
        ("payments.channel", "paypal", {"fee_rate": "0.01"}),
        ("payments.route", "not-a-uuid", {"channels": ["cash"]}),
        ("payments.route", str(uuid.uuid4()), {"channels": ["cash", "cash"]}),
        (
            "payments.route",
            str(uuid.uuid4()),
            {"channels": ["cash"], "min_amount_fen": 5, "max_amount_fen": 1},
        ),
        ("security.user", "wang", {"status": "sleeping", "password_hash": "$argon2id$x"}),
        ("security.role", "meter", {"permissions": "property.*"}),
    ):
        with pytest.raises(ValidationError):
            publish_reference(hub.ctx, kind, key, payload)
    with hub.ctx.read() as s:
        assert s.execute(select(func.count()).select_from(HubReferenceChange)).scalar_one() == before
    # What the hub did publish applies at the site.
    publish_reference(hub.ctx, "payments.channel", "wechat", {"fee_rate": "0.0042"})
    pay.ensure_payhub_books(site.ctx)
    run_round(site.ctx, backup=False)
    with site.ctx.read() as s:
        assert s.get(PayChannel, "wechat").fee_rate == "0.0042"
