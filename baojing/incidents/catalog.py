"""The fixed lists an operator picks from."""

TYPES = [
    ("violent_crime", "暴力犯罪", "Violent crime"),
    ("theft_robbery", "盗窃抢劫", "Theft or robbery"),
    ("fraud", "诈骗", "Fraud"),
    ("disturbance", "治安纠纷", "Disturbance or dispute"),
    ("domestic", "家庭暴力", "Domestic violence"),
    ("traffic", "交通事故", "Traffic accident"),
    ("fire", "火灾", "Fire"),
    ("medical", "急救求助", "Medical emergency"),
    ("missing", "人员走失", "Missing person"),
    ("assistance", "群众求助", "Assistance"),
    ("false_alarm", "误报", "False alarm"),
    ("other", "其他", "Other"),
]
PRIORITIES = [
    (1, "紧急", "Critical"),
    (2, "高", "High"),
    (3, "一般", "Normal"),
    (4, "低", "Low"),
]
DISPOSITIONS = [
    ("resolved", "已处置", "Resolved on scene"),
    ("referred", "移交相关部门", "Referred to another agency"),
    ("no_police_needed", "无需出警", "No police action needed"),
    ("unfounded", "查无此事", "Nothing found"),
    ("false_alarm", "误报", "False alarm"),
    ("prank", "恶意报警", "Malicious call"),
    ("duplicate", "重复报警", "Duplicate report"),
]
DEFAULT_PRIORITY = 2

TYPE_CODES = [c for c, _, _ in TYPES]
DISPOSITION_CODES = [c for c, _, _ in DISPOSITIONS]


def as_options(rows) -> list[dict]:
    key = "value" if isinstance(rows[0][0], int) else "code"
    return [{key: c, "zh": zh, "en": en} for c, zh, en in rows]
