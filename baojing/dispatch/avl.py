"""AVL ingest: an officer's phone reports its fixes; the board takes them in memory and answers at
once, with a request to report less often while the server is under load."""
from __future__ import annotations

from .. import geo
from ..auth.service import Principal
from ..errors import Conflict
from .board import Board


def ingest(board: Board, who: Principal, points) -> dict:
    unit_id = board.unit_of_user.get(who.user_id)
    if unit_id is None:
        raise Conflict("您还没有编入任何警力单元", "You are not in any unit", code="no_unit")
    fixes = []
    for p in points:
        lat, lon = geo.to_wgs84(p.lat, p.lon, p.crs)
        fixes.append({"lat": lat, "lon": lon, "accuracy_m": p.accuracy_m, "speed_mps": p.speed_mps,
                      "heading": p.heading, "at": p.at})
    flags = board.ingest(unit_id, fixes)
    return {"accepted": len(flags), "flagged": flags, "next_report_s": board.next_report_s()}
