"""Channel adapters behind one interface, and the registry that builds them from configuration
(ANJU_CHANNEL_SIM_URL, the merchant id/key, and the hub's public URL for callbacks)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from core.payments.channels.bank_debit import BankDebitChannel
from core.payments.channels.base import Channel
from core.payments.channels.counter import BankTransferChannel, CashChannel, HousingFundChannel, PosChannel
from core.payments.channels.remote import SimChannel

DEFAULT_SIM_URL = "http://127.0.0.1:8765"
DEFAULT_HUB_URL = "http://127.0.0.1:8700"
REMOTE_CHANNELS = ("wechat", "alipay", "unionpay")
# Channels a counter clerk takes in person (each counter payment belongs to the clerk's open shift).
COUNTER_CHANNELS = ("cash", "pos", "bank_transfer", "housing_fund")


@dataclass(frozen=True)
class ChannelConfig:
    sim_url: str = DEFAULT_SIM_URL
    mch_id: str = "anju"
    # A development key for the simulator only; a real deployment sets ANJU_CHANNEL_MCH_KEY.
    mch_key: str = "anju-sim-dev-key"
    hub_url: str = DEFAULT_HUB_URL
    timeout_s: float = 5.0

    @classmethod
    def from_env(cls) -> ChannelConfig:
        env = os.environ
        return cls(
            sim_url=env.get("ANJU_CHANNEL_SIM_URL", DEFAULT_SIM_URL),
            mch_id=env.get("ANJU_CHANNEL_MCH_ID", cls.mch_id),
            mch_key=env.get("ANJU_CHANNEL_MCH_KEY", cls.mch_key),
            hub_url=env.get("ANJU_HUB_URL", DEFAULT_HUB_URL),
            timeout_s=float(env.get("ANJU_CHANNEL_TIMEOUT_S", "5")),
        )


class Channels:
    """The adapters for one configuration, by channel code."""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self._by_code: dict[str, Channel] = {
            "cash": CashChannel(),
            "pos": PosChannel(),
            "bank_transfer": BankTransferChannel(),
            "housing_fund": HousingFundChannel(),
            "bank_debit": BankDebitChannel(),
        }
        for code in REMOTE_CHANNELS:
            notify = f"{config.hub_url.rstrip('/')}/v1/channels/{code}/notify"
            self._by_code[code] = SimChannel(
                code, config.sim_url, config.mch_id, config.mch_key, notify, config.timeout_s
            )

    def get(self, code: str) -> Channel:
        return self._by_code[code]

    def use(self, code: str, adapter: Channel) -> None:
        """Put `adapter` behind channel `code`: a real channel's adapter in place of the simulator's one."""
        self._by_code[code] = adapter

    def __contains__(self, code: str) -> bool:
        return code in self._by_code


@cache
def _channels_for(config: ChannelConfig) -> Channels:
    return Channels(config)


def default_channels() -> Channels:
    """The adapters configured by the environment (one set per distinct configuration)."""
    return _channels_for(ChannelConfig.from_env())
