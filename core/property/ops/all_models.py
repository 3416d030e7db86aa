"""Every table of the property operations and the notification outbox, imported for Base.metadata."""

from core.notify import models as notify_models  # noqa: F401
from core.property.access import models as access_models  # noqa: F401
from core.property.activities import models as activities_models  # noqa: F401
from core.property.complaints import models as complaints_models  # noqa: F401
from core.property.notices import models as notices_models  # noqa: F401
from core.property.ops import models as ops_models  # noqa: F401
from core.property.parking import models as parking_models  # noqa: F401
from core.property.repairs import models as repairs_models  # noqa: F401
