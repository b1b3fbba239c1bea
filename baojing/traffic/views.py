"""What each audience sees of a case: a driver (their own and the other party's details, the other's
number masked), the desk's queue summary, and the desk's full view."""
from __future__ import annotations

from ..phone import mask_phone
from .models import A, DRAFT, ROLES, TrafficCase, TrafficParty, TrafficPhoto


def _party(p: TrafficParty, full: bool) -> dict:
    return {"role": p.role, "phone": (p.phone if full else (p.phone and mask_phone(p.phone))),
            "verified": p.verified_at is not None, "verified_at": p.verified_at, "name": p.name, "plate": p.plate,
            "vehicle_type": p.vehicle_type, "insurer": p.insurer, "joined": p.device_id is not None,
            "response": p.response, "responded_at": p.responded_at, "settle_answer": p.settle_answer,
            "settle_at": p.settle_at}


def photo(p: TrafficPhoto, staff: bool) -> dict:
    # Drivers get a copy re-encoded without EXIF (no location); the desk gets the original bytes.
    url = f"/api/traffic/photos/{p.id}"
    return {"id": p.id, "slot": p.slot, "size": p.size, "sha256": p.sha256, "width": p.width, "height": p.height,
            "mime": p.mime, "created_at": p.created_at, "url": url if staff else f"{url}/copy",
            "thumb": f"{url}/copy?size=thumb"}


def _checklist(case: TrafficCase) -> list[dict]:
    # The example drawings go inline (a few KB in all): the page shows them as data: images.
    return [{k: item[k] for k in ("key", "title_zh", "title_en", "hint_zh", "hint_en", "example")}
            for item in case.checklist]


def _common(case: TrafficCase) -> dict:
    return {"id": case.id, "status": case.status, "mode": case.mode, "created_at": case.created_at,
            "updated_at": case.updated_at, "submitted_at": case.submitted_at, "waiting_since": case.waiting_since,
            "location": None if case.lat is None else {"lat": case.lat, "lon": case.lon, "accuracy_m": case.accuracy_m,
                                                       "source": case.position_source},
            "place_text": case.place_text, "description": case.description,
            "retake": None if not case.retake_slots else {"slots": case.retake_slots, "reason": case.retake_reason,
                                                          "at": case.reviewed_at},
            "decision": case.decision, "decided_at": case.decided_at, "settlement": case.settlement,
            "settled_at": case.settled_at, "incident_id": case.incident_id, "alarm_id": case.alarm_id,
            "documents": documents(case)}


def documents(case: TrafficCase) -> dict:
    out = {}
    if case.decision:
        out["determination"] = f"/api/traffic/cases/{case.id}/determination.pdf"
    if case.settled_at:
        out["agreement"] = f"/api/traffic/cases/{case.id}/agreement.pdf"
    return out


def driver(case: TrafficCase, parties: dict[str, TrafficParty], photos: dict[int, TrafficPhoto],
           mine: list[str]) -> dict:
    return {**_common(case),
            # The join code lets another phone in as party B: only the phone that opened the case sees it.
            "code": case.code if A in mine and case.status == DRAFT else None,
            "my_roles": mine, "checklist": _checklist(case),
            "parties": {r: _party(parties[r], r in mine) for r in ROLES if r in parties},
            "photos": {str(i): photo(p, False) for i, p in photos.items()}}


def summary(case: TrafficCase, parties: dict[str, TrafficParty]) -> dict:
    return {**_common(case), "reviewer_id": case.reviewer_id,
            "parties": {r: {"plate": p.plate, "phone": p.phone, "vehicle_type": p.vehicle_type,
                            "response": p.response, "settle_answer": p.settle_answer} for r, p in parties.items()}}


def staff(case: TrafficCase, parties: dict[str, TrafficParty], photos: dict[int, TrafficPhoto],
          superseded: list[TrafficPhoto]) -> dict:
    return {**_common(case), "code": case.code if case.status == DRAFT else None, "reviewer_id": case.reviewer_id,
            "answers": case.answers, "checklist": _checklist(case),
            "parties": {r: _party(p, True) for r, p in parties.items()},
            "photos": {str(i): photo(p, True) for i, p in photos.items()},
            "earlier_photos": [photo(p, True) for p in superseded]}


def is_public(case: TrafficCase) -> bool:
    return case.status != DRAFT
