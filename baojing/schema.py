"""Every table, imported once so that Alembic and the tests see the whole schema."""
from .alarms import models as _alarms  # noqa: F401
from .auth import models as _auth  # noqa: F401
from .calls import models as _calls  # noqa: F401
from .db import Base
from .dispatch import models as _dispatch  # noqa: F401
from .events import Event  # noqa: F401
from .incidents import models as _incidents  # noqa: F401
from .keyunits import models as _keyunits  # noqa: F401
from .media import models as _media  # noqa: F401
from .sms import models as _sms  # noqa: F401
from .traffic import models as _traffic  # noqa: F401

metadata = Base.metadata
