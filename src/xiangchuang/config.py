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
