"""Words folded so that the Kazakh and the Russian spelling of a word meet.

Case, the Kazakh letters and the soft and hard signs are folded: "Нұрланова" and "Нурланова",
"Айгүл" and "Айгуль", "құжат" and "кужат" become one. The dashboard's name search and the
reference desk's word search (booth and /help) both fold with this one table.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
        "й": "и",
        "э": "е",
        "ь": None,
        "ъ": None,
    }
)
WORD = re.compile(r"[^\W\d_]+")


def fold(word: str) -> str:
    """A word as it is indexed and searched."""
    lowered = word.casefold().translate(_FOLD)
    # Latin accents and any combining mark (a "й" typed as "и" + breve) go too.
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_FOLD)


def words(text: str | None) -> list[str]:
    return [f for w in WORD.findall(text or "") if (f := fold(w))]
