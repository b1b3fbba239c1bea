"""Small builders for test data."""
import uuid


def alarm_body(**over) -> dict:
    body = {"idempotency_key": uuid.uuid4().hex, "phone": "13800138000", "name": "张三", "channel": "phone",
            "location": {"lat": 41.5760, "lon": 120.4100, "accuracy_m": 15, "crs": "wgs84"}}
    body.update(over)
    return body
