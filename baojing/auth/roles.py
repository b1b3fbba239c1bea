"""Who may do what. Every route and every live subscription asks here."""
CALLER = "caller"
CALL_TAKER = "call_taker"
DISPATCHER = "dispatcher"
OFFICER = "officer"
TRAFFIC_OFFICER = "traffic_officer"
KEYUNIT_MEMBER = "keyunit_member"
ADMIN = "admin"

ACCOUNT_ROLES = (CALL_TAKER, DISPATCHER, OFFICER, TRAFFIC_OFFICER, KEYUNIT_MEMBER, ADMIN)
# Roles that work the command console: see every alarm with the caller's number and position.
CONSOLE = frozenset({CALL_TAKER, DISPATCHER, ADMIN})

# The pages each role works on, first the one to open after signing in. A role whose page is not
# built yet has none, and the login pages say so instead of letting a login dead-end.
PAGES = {
    CALL_TAKER: ("/console/",),
    DISPATCHER: ("/console/",),
    OFFICER: ("/officer/",),
    TRAFFIC_OFFICER: ("/traffic/",),
    KEYUNIT_MEMBER: ("/m/",),  # the caller's page, after 重点单位人员登录
    # The admin keeps the quick-handling photo checklist on /traffic/.
    ADMIN: ("/admin/", "/console/", "/traffic/"),
}

LABELS = {
    CALLER: ("报警人", "Caller"),
    CALL_TAKER: ("接警员", "Call-taker"),
    DISPATCHER: ("指挥调度", "Dispatcher"),
    OFFICER: ("出警民警", "Field officer"),
    TRAFFIC_OFFICER: ("交警", "Traffic officer"),
    KEYUNIT_MEMBER: ("重点单位人员", "Key-unit member"),
    ADMIN: ("管理员", "Administrator"),
}
