"""Imports every model module so Base.metadata knows every table (Alembic and tests use this)."""

from core import site  # noqa: F401
from core.audit import models as audit_models  # noqa: F401
from core.db import sequences  # noqa: F401
from core.ledger import models as ledger_models  # noqa: F401
from core.payments import models as payments_models  # noqa: F401
from core.payments.recon import models as recon_models  # noqa: F401
from core.payments.settlement import models as settlement_models  # noqa: F401
from core.property import models as property_models  # noqa: F401
from core.property.ops import all_models as property_ops_models  # noqa: F401
from core.security import models as security_models  # noqa: F401
from core.sync import models as sync_models  # noqa: F401
from core.workflow import models as workflow_models  # noqa: F401
