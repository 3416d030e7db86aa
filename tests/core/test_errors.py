"""Domain errors: a message names the thing at fault; the error's own code stays stable for programs."""

from __future__ import annotations

from core.errors import Conflict, NotFound, StateError
from core.i18n import N_


def test_a_code_placeholder_is_filled_with_the_data_and_the_error_keeps_its_code():
    err = NotFound(N_("There is no house {code}."), code="1-1-101")
    assert err.message("en") == "There is no house 1-1-101."
    assert "1-1-101" in err.message("zh_CN") and "{code}" not in err.message("zh_CN")
    assert err.code == "not_found"
    assert err.to_dict("en") == {"code": "not_found", "message": "There is no house 1-1-101."}


def test_code_still_names_the_error_when_the_message_has_no_placeholder():
    err = StateError(N_("This action is not allowed in the record's current state."), code="hub_owned")
    assert err.code == "hub_owned"
    assert Conflict(code="dup").code == "dup"
