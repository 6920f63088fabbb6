"""Settings: one object, from environment variables prefixed XIANGCHUANG_ (pydantic-settings)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIANGCHUANG_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="数据目录（SQLite 数据库、密钥文件、附件）")
    database_url: str | None = Field(default=None, description="数据库 URL；缺省为数据目录下的 SQLite")
    keyring_file: Path | None = Field(
        default=None, description="密钥环文件（JSON：{active, keys: {kid: base64}}）"
    )
    keyring: str | None = Field(default=None, description="密钥环 JSON（优先于 keyring_file）")
    demo: bool = Field(default=False, description="演示模式：允许自动生成本地密钥和演示账号")

    # Authentication and sessions (SECURITY.md). Defaults follow OWASP ASVS level 2 and 等保2.0.
    lockout_threshold: int = Field(default=5, ge=1, description="连续登录失败多少次后锁定账号")
    lockout_window_minutes: int = Field(default=15, ge=1, description="统计登录失败次数的时间窗（分钟）")
    lockout_minutes: int = Field(default=15, ge=1, description="锁定时长（分钟）")
    session_idle_minutes: int = Field(default=30, ge=1, description="会话空闲超时（分钟）")
    session_absolute_hours: int = Field(default=12, ge=1, description="会话绝对超时（小时）")
    argon2_memory_kib: int = Field(default=19456, ge=19456, description="argon2id 内存（KiB，至少 19 MiB）")
    argon2_time_cost: int = Field(default=2, ge=2, description="argon2id 迭代次数（至少 2）")
    password_require_classes: int = Field(
        default=0, ge=0, le=4, description="密码须包含的字符类别数（等保复杂度要求；0 为不要求，ASVS 建议）"
    )
    totp_for_staff: bool = Field(default=True, description="工作人员登录须使用动态口令（TOTP）")
    cookie_secure: bool = Field(default=False, description="Cookie 仅经 HTTPS 发送（生产环境须为 true）")
    rate_login: str = Field(default="10/300", description="登录限流：次数/秒数（每个来源地址）")
    rate_checkup: str = Field(default="60/60", description="公开政策体检限流：次数/秒数（每个来源地址）")
    public_params_max_age: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="公开政策体检和项目页所用参数的最长缓存秒数：市级参数调整复核通过后，其他工作进程最迟在此"
        "秒数后采用（本进程立即采用）；存储认定结果的操作始终在本事务内读取；0 表示每次读取",
    )
    stats_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="统计报表同时使用的数据库连接数：各项指标的查询在同一数据快照上并行执行（数值与逐条执行完全相同）；"
        "宜不超过数据库服务器的CPU核数；1 表示逐条执行",
    )
    trusted_proxies: str = Field(
        default="",
        description="可信反向代理的地址或网段（逗号分隔，如 127.0.0.1,10.0.0.0/24）；只有来自这些地址的请求才采用"
        " X-Forwarded-For 中的客户端地址（限流按真实客户端计数）；缺省为空，即不信任任何代理头",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xiangchuang.db').resolve()}"

    @property
    def resolved_keyring_file(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"


@cache
def get_settings() -> Settings:
    return Settings()
