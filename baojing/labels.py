"""The words for every code the pages show (roles, unit and assignment statuses, position sources
…), Simplified Chinese and English, served once in GET /api/config `labels` so that no page keeps
its own copy to drift from. The codes come from their domains; tests/test_labels.py fails on a code
without words."""
from __future__ import annotations

from .alarms import models as alarms
from .auth import roles
from .dispatch import models as dispatch
from .dispatch import status as units
from .incidents import models as incidents


def _table(rows: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {code: {"zh": zh, "en": en} for code, (zh, en) in rows.items()}


UNIT_KINDS = {dispatch.CAR: ("警车", "Car"), dispatch.MOTORBIKE: ("摩托", "Motorbike"), dispatch.FOOT: ("步巡", "Foot patrol")}

UNIT_STATUSES = {
    units.OFF_DUTY: ("不在岗", "Off duty"), units.AVAILABLE: ("空闲", "Available"), units.BUSY: ("忙碌", "Busy"),
    dispatch.DISPATCHED: ("已派警", "Dispatched"), dispatch.EN_ROUTE: ("在途", "En route"),
    dispatch.ON_SCENE: ("到场", "On scene"),
}

ASSIGNMENT_STATUSES = {
    dispatch.DISPATCHED: ("待接受", "Awaiting acceptance"), dispatch.ACCEPTED: ("已接受", "Accepted"),
    dispatch.EN_ROUTE: ("在途", "En route"), dispatch.ON_SCENE: ("到场", "On scene"),
    dispatch.CLEARED: ("已处置完毕", "Cleared"), dispatch.DECLINED: ("已拒绝", "Declined"),
    dispatch.CANCELLED: ("已撤回", "Recalled"),
}

INCIDENT_STATUSES = {
    incidents.NEW: ("待接警", "New"), incidents.CLAIMED: ("已接警", "Claimed"),
    incidents.CLOSED: ("已结案", "Closed"), incidents.MERGED: ("已合并", "Merged"),
}

POSITION_SOURCES = {
    alarms.GPS: ("卫星定位", "GPS"), alarms.NETWORK: ("网络定位", "Network"),
    alarms.PICKED: ("报警人地图选点", "Picked by the caller"), alarms.OPERATOR: ("接警员标定", "Set by the operator"),
}

# The staff pages, for telling each role where to go.
PAGES = {
    "/console/": ("指挥台", "Command console"), "/officer/": ("民警手机页", "Field officer's page"),
    "/admin/": ("管理页面", "Administration"), "/traffic/": ("交通事故快处审核台", "Traffic desk"),
    "/m/": ("报警页 · 重点单位人员登录", "Alarm page · key-unit member login"),
}


def labels() -> dict:
    return {
        "roles": _table(roles.LABELS),
        "unit_kinds": _table(UNIT_KINDS),
        "unit_statuses": _table(UNIT_STATUSES),
        "assignment_statuses": _table(ASSIGNMENT_STATUSES),
        "incident_statuses": _table(INCIDENT_STATUSES),
        "position_sources": _table(POSITION_SOURCES),
        "pages": _table(PAGES),
    }
