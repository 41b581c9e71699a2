from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Language = Literal["kk", "ru"]
Category = Literal["question", "violation"]


class Localized(BaseModel):
    """A text given in both state languages."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kk: str
    ru: str

    def get(self, language: Language) -> str:
        return self.kk if language == "kk" else self.ru
