"""しきい値判断 — which assessment the My Number Act requires (the Personal Information Protection Commission's table).

| 対象人数           | 取扱者数 ≥ 500 or 重大事故 | otherwise |
|--------------------|----------------------------|-----------|
| under 1,000        | none                       | none      |
| 1,000 – 9,999      | basic                      | basic     |
| 10,000 – 99,999    | focused                    | basic     |
| 100,000 – 299,999  | full                       | focused   |
| 300,000 and more   | full                       | full      |

A focused or full assessment always comes with the basic one; the level named is the fullest.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    NONE = "none"        #: 任意 — no assessment required
    BASIC = "basic"      #: 基礎項目評価
    FOCUSED = "focused"  #: 基礎項目 + 重点項目評価
    FULL = "full"        #: 基礎項目 + 全項目評価

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.NONE: 0, Level.BASIC: 1, Level.FOCUSED: 2, Level.FULL: 3}

LEVEL_TITLES = {
    Level.NONE: ("任意（評価の義務なし）", "None required"),
    Level.BASIC: ("基礎項目評価", "Basic assessment"),
    Level.FOCUSED: ("基礎項目評価及び重点項目評価", "Basic and focused assessment"),
    Level.FULL: ("基礎項目評価及び全項目評価", "Basic and full assessment"),
}

MANY_HANDLERS = 500


def required_level(target_count: int, handler_count: int, serious_incident: bool) -> Level:
    """The level the table requires for a file of `target_count` persons."""
    if target_count < 0 or handler_count < 0:
        raise ValueError("counts cannot be negative")
    heavy = handler_count >= MANY_HANDLERS or serious_incident
    if target_count < 1_000:
        return Level.NONE
    if target_count < 10_000:
        return Level.BASIC
    if target_count < 100_000:
        return Level.FOCUSED if heavy else Level.BASIC
    if target_count < 300_000:
        return Level.FULL if heavy else Level.FOCUSED
    return Level.FULL


def judge(target_count: int, handler_count: int, serious_incident: bool,
          voluntary_level: Level | str | None = None) -> Level:
    """The level to carry out: the required one, or a fuller one chosen voluntarily.

    A voluntary level below the required one does not lower it (the law's minimum stands).
    """
    required = required_level(target_count, handler_count, serious_incident)
    if voluntary_level is None:
        return required
    chosen = Level(voluntary_level)
    return chosen if chosen.rank > required.rank else required
