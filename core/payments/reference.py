"""Payment-hub reference data the central hub owns and sites pull (core/sync/reference.py): channel switches and
fee rates ("payments.channel", keyed by channel code) and routing rules ("payments.route", keyed by the rule's
id). A pulled item replaces the site's copy; the site's own edit of it is refused (`refuse_if_hub_owned`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from core.errors import IntegrityProblem
from core.i18n import N_
from core.payments import rules
from core.payments.models import CHANNELS, PayChannel, PayRoute
from core.sync.reference import register_reference_handler
from core.uow import UnitOfWork

KIND_CHANNEL = "payments.channel"
KIND_ROUTE = "payments.route"


def _bad(kind: str, key: str) -> IntegrityProblem:
    return IntegrityProblem(N_("The hub sent invalid reference data {kind} {key}."), kind=kind, key=key)


def _channel_values(key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """{"enabled"?: bool, "fee_rate"?: "0.006", "name"?: str} for channel `key`, checked."""
    if key not in CHANNELS or not isinstance(payload, dict):
        raise _bad(KIND_CHANNEL, key)
    values: dict[str, Any] = {}
    if "enabled" in payload:
        if not isinstance(payload["enabled"], bool):
            raise _bad(KIND_CHANNEL, key)
        values["enabled"] = payload["enabled"]
    if "fee_rate" in payload:
        try:
            values["fee_rate"] = str(rules.parse_rate(payload["fee_rate"]))
        except ValueError:
            raise _bad(KIND_CHANNEL, key) from None
    if "name" in payload:
        if not isinstance(payload["name"], str) or not 0 < len(payload["name"]) <= 100:
            raise _bad(KIND_CHANNEL, key)
        values["name"] = payload["name"]
    return values


def _apply_channel(uow: UnitOfWork, key: str, payload: dict[str, Any]) -> None:
    values = _channel_values(key, payload)
    s = uow.session
    if s.get(PayChannel, key) is None:
        s.add(
            PayChannel(
                code=key,
                name=values.get("name", key),
                enabled=values.get("enabled", True),
                fee_rate=values.get("fee_rate", "0"),
                updated_at=uow.now,
            )
        )
    else:
        s.execute(update(PayChannel).where(PayChannel.code == key).values(updated_at=uow.now, **values))
    uow.audit("sync.channel_pulled", "pay_channel", key, after=values)


def _route_fields(key: str, payload: dict[str, Any]) -> tuple[uuid.UUID, dict[str, Any]]:
    """A whole routing rule: {"channels": [...], "app_id"?, "method"?, "min_amount_fen"?, "max_amount_fen"?,
    "priority"?, "enabled"?}, checked."""
    try:
        route_id = uuid.UUID(key)
    except ValueError:
        raise _bad(KIND_ROUTE, key) from None
    if not isinstance(payload, dict):
        raise _bad(KIND_ROUTE, key)
    channels = payload.get("channels")
    low = payload.get("min_amount_fen", 0)
    high = payload.get("max_amount_fen")
    priority = payload.get("priority", 100)
    app_id, method = payload.get("app_id"), payload.get("method")
    if (
        not isinstance(channels, list)
        or not channels
        or any(c not in CHANNELS for c in channels)
        or len(set(channels)) != len(channels)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (low, priority))
        or (high is not None and (not isinstance(high, int) or isinstance(high, bool) or high < low))
        or not all(v is None or (isinstance(v, str) and len(v) <= 40) for v in (app_id, method))
        or not isinstance(payload.get("enabled", True), bool)
    ):
        raise _bad(KIND_ROUTE, key)
    return route_id, {
        "app_id": app_id or None,
        "method": method or None,
        "min_amount_fen": low,
        "max_amount_fen": high,
        "channels": list(channels),
        "priority": priority,
        "enabled": payload.get("enabled", True),
    }


def _apply_route(uow: UnitOfWork, key: str, payload: dict[str, Any]) -> None:
    route_id, fields = _route_fields(key, payload)
    s = uow.session
    route = s.get(PayRoute, route_id)
    if route is None:
        s.add(PayRoute(id=route_id, created_at=uow.now, **fields))
    else:
        for name, value in fields.items():
            setattr(route, name, value)
    s.flush()
    uow.audit("sync.route_pulled", "pay_route", route_id, after=fields)


register_reference_handler(KIND_CHANNEL, _apply_channel, validate=_channel_values)
register_reference_handler(KIND_ROUTE, _apply_route, validate=_route_fields)
