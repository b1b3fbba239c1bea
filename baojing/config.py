"""One Settings object; nothing else in the project reads os.environ."""
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOJING_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'baojing.db'}"
    host: str = "127.0.0.1"
    port: int = 8110
    # Cookies marked Secure are dropped by browsers on plain http; a TLS deployment turns this on.
    # A request that came over TLS (or through a trusted proxy saying so) gets Secure cookies and
    # HSTS whatever this says (baojing/proxy.py).
    secure_cookies: bool = False
    # Addresses or networks of reverse proxies whose X-Forwarded-For / -Proto / -Host are believed,
    # e.g. '["127.0.0.1", "10.0.0.0/8"]'. Nobody else's are.
    trusted_proxies: list[str] = []
    # Origins besides the request's own host allowed to send cookie-authenticated writes
    # (e.g. '["https://110.example.gov.cn"]' when the proxy rewrites Host).
    allowed_origins: list[str] = []
    session_hours: int = 12
    # A staff session ends after this long without use: a request, or its page's open live socket
    # (docs/security.md). Per role: '{"admin": 15}'.
    session_idle_minutes: int = 30
    # A key-unit member's phone stays logged in until logout or removal from the roster (issue 8):
    # their one-tap must not meet a login screen.
    session_idle_minutes_by_role: dict[str, int] = {"keyunit_member": 60 * 24 * 365 * 5}
    # Demo mode (`make run`): the staff second factor is optional. Off, every staff account needs one.
    demo: bool = False
    # Login lockout (docs/security.md): this many failures within the window lock the account from
    # that address for lock_minutes; account_lock_failures from anywhere lock it for password-only logins.
    login_lock_failures: int = 5
    login_account_lock_failures: int = 20
    login_lock_minutes: int = 10
    # Login attempts per address per minute (beyond: 429, nothing checked).
    login_rate_per_minute: int = 60
    # Closed alarms not linked to a case lose their personal data after this many days
    # (`baojing anonymise`, alarms/retention.py); the caller's terms say so.
    retention_days: int = 180
    # osm | tianditu | amap | none. "none" draws no tiles: tests, and machines with no internet.
    map_tiles: str = "osm"
    tianditu_key: str = ""
    map_center: tuple[float, float] = (41.571, 120.435)
    map_zoom: int = 13
    # Changing the terms text changes this: every phone reads and accepts them again.
    terms_version: str = "2026-12"
    max_body_bytes: int = 64 * 1024
    # PostgreSQL: a statement longer than db_timeout_s fails (503), so does a wait for a pooled
    # connection longer than db_pool_timeout_s, and a connection attempt longer than
    # db_connect_timeout_s. The statement timeout is long because a burst of alarms queues on the
    # event-sequence lock (events.py) and must not be refused for waiting; a partition is noticed
    # instead by the watch (dbwatch.py): a statement running longer than db_stall_s makes it open
    # a fresh connection, and if that does not answer within db_connect_timeout_s the statements in
    # flight are cut and answered 503 (about 2 s in all). SQLite waits db_busy_timeout_s for
    # another process's write lock. Measured in RELIABILITY.md.
    db_timeout_s: float = 10.0
    db_connect_timeout_s: float = 1.5
    db_pool_timeout_s: float = 5.0
    db_stall_s: float = 0.5
    db_ping_timeout_s: float = 0.5  # a pooled connection's pre-ping; a lost one costs a new connection
    db_busy_timeout_s: float = 5.0
    # A reconnecting client further behind than this reloads its snapshot instead of a replay.
    replay_limit: int = 5000
    # A socket whose client falls this far behind (frames, or characters of them) is closed; it
    # reconnects and catches up from the event table. A send stuck this long closes it too.
    ws_queue_limit: int = 2000
    ws_queue_chars: int = 4 * 1024 * 1024
    ws_send_timeout_s: float = 10.0
    ws_ping_seconds: float = 15.0
    # Shared secret of the telephony system posting to /api/cti/calls; empty turns CTI off.
    cti_api_key: str = ""
    # A dispatch not accepted within this many seconds alerts the dispatcher.
    accept_timeout_s: float = 30.0
    # Whether a caller may see where exactly the officers coming to them are (they always see how far).
    show_officer_position_to_caller: bool = False
    # Video and text calls (docs/video.md). STUN/TURN servers handed to every party of a call, as
    # RTCIceServer objects: '[{"urls": ["stun:stun.example:3478"]}]'. Empty: host candidates only.
    ice_servers: list[dict] = []
    # coturn's use-auth-secret: each call gets TURN credentials valid for turn_ttl_s on these URLs.
    turn_urls: list[str] = []
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    # Evidence files (recordings, snapshots, attachments).
    media_dir: Path = ROOT / "var" / "media"
    recording_enabled: bool = True
    # A living demo (simulate.py): the demo's patrol units drive and alarms come in. Never in production.
    simulate: bool = False
    # Video alarms only inside the service areas: these district codes (empty: every district).
    video_service_area_check: bool = True
    video_districts: list[str] = []
    # A party whose socket is gone this long has left; an invitee who has not joined, this long.
    call_party_grace_s: float = 20.0
    call_invite_timeout_s: float = 60.0
    # Parties of one call besides the recorder; past four, use an SFU (docs/video.md).
    call_max_parties: int = 4
    # Text messages (docs/api.md, "SMS"): "outbox" keeps them in the database and the log (demo,
    # tests); "http" posts each to a provider, retrying failures with backoff.
    sms_gateway: str = "outbox"
    sms_http_url: str = ""
    sms_http_user: str = ""
    sms_http_password: str = ""
    sms_http_token: str = ""
    # JSON body posted per message; {phone}, {text} and {sign} are filled in inside its strings.
    sms_http_body: dict = {"to": "{phone}", "text": "{sign}{text}"}
    # Field of the provider's JSON answer holding its message id, kept with the message.
    sms_http_id_field: str = "id"
    sms_http_timeout_s: float = 10.0
    sms_sign: str = "【朝阳110】"
    sms_max_attempts: int = 6
    sms_retry_base_s: float = 2.0
    # One-time codes: lifetime, wrong tries allowed, and how often a number and an address may ask.
    sms_code_ttl_s: int = 300
    sms_code_max_tries: int = 5
    sms_code_interval_s: int = 60
    sms_code_per_phone_hour: int = 5
    sms_code_per_address_hour: int = 20
    # Traffic quick handling (快处快赔): one photo's upper size and pixel count (a decompression bomb
    # is refused before decoding), the upload chunk the phones send, how long a case may wait before
    # the desk hears an alert, and the TrueType CJK font embedded in its PDFs.
    traffic_photo_max_bytes: int = 15 * 1024 * 1024
    traffic_max_pixels: int = 50_000_000
    traffic_chunk_bytes: int = 256 * 1024
    traffic_alert_after_s: int = 600
    traffic_pdf_font: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    static_dir: Path = ROOT / "baojing" / "web"
    vendor_dir: Path = ROOT / "node_modules"


@lru_cache
def get_settings() -> Settings:
    return Settings()
