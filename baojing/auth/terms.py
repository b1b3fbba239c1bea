"""The alarm terms (报警须知) a caller accepts on first use."""

TITLE_ZH = "报警须知"
TITLE_EN = "Before you report"
TEXT_ZH = """1. 本服务用于向 110 报警。遇到危及生命、财产安全的紧急情况，请立即报警。
2. 报警时将发送您的位置和电话号码，以便民警尽快找到您。位置可能不准确时，请在电话中说明所在地点。
3. 点击"电话报警"后，请保持电话畅通，接警员会与您通话。
4. 请如实报警。谎报警情、恶意骚扰报警电话将依法承担法律责任。
5. 您的信息仅用于处警，查阅均有记录。
6. 依照《个人信息保护法》，报警结束 {days} 天后，未立案的报警将删除您的电话号码、姓名、位置和轨迹，只保留时间与统计数字。"""
TEXT_EN = """1. This service reports an emergency to the 110 police. If life or property is in danger, report now.
2. Your position and phone number are sent with the alarm so officers can find you quickly. If the position may be wrong, say where you are on the call.
3. After tapping "Call police", keep your phone free: a call-taker will speak with you.
4. Report truthfully. False or malicious reports are punishable by law.
5. Your information is used only to handle the alarm, and every access to it is logged.
6. Under China's Personal Information Protection Law, {days} days after an alarm is closed your number, name, position and trail are deleted unless it became a police case; only times and counts are kept."""


def terms(version: str, retention_days: int = 180) -> dict:
    return {"version": version, "title_zh": TITLE_ZH, "title_en": TITLE_EN,
            "text_zh": TEXT_ZH.format(days=retention_days), "text_en": TEXT_EN.format(days=retention_days),
            "retention_days": retention_days}
