"""The labels of the domain's coded values, in Japanese and English: one vocabulary for pages,
notices and documents (a value's label is never spelled twice)."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.errors import Message

#: Why an item is on a meeting's agenda (agenda_item.purpose).
PURPOSES: Mapping[str, Message] = {
    "pre_check": Message("事前点検", "Pre-check"),
    "third_party_review": Message("第三者点検", "Third-party review"),
    "reply_draft": Message("答申案の検討", "Draft reply"),
    "report": Message("報告", "Report"),
    "other": Message("その他", "Other"),
}

#: How a public comment came in (public_comment.channel).
COMMENT_CHANNELS: Mapping[str, Message] = {
    "web": Message("ホームページ", "Website"),
    "email": Message("電子メール", "E-mail"),
    "fax": Message("ファクシミリ", "Fax"),
    "post": Message("郵送", "Post"),
    "counter": Message("窓口持参", "In person"),
    "other": Message("その他", "Other"),
}


def label(vocabulary: Mapping[str, Message], value: str, language: str = "ja") -> str:
    """The value's label (the value itself when the vocabulary does not know it)."""
    known = vocabulary.get(value)
    if known is None:
        return value
    return known.en if language == "en" else known.ja
