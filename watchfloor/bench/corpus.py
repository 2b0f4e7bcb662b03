"""The benchmark's messages: seeded, realistic ~1 KB news items in English, Russian and Ukrainian.

Each item is ordinary local news (filler sentences that match no theme of the default pack) with,
in ``SIGNAL_SHARE`` of the items, one sentence that makes the default pack raise an alert (nuclear
threats by officials, sanctions packages, referendums in occupied regions). Every measurement of
``watchfloor bench pipeline`` reads the same bytes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from schemas import Item

SIGNAL_SHARE = 0.4
TARGET_TEXT_BYTES = 700

# Filler sentences are built from four parts picked independently, so that (as with real news) two
# items rarely share enough word 3-grams to be grouped into one story.
PARTS = {
    "en": (
        ("The city council", "A local bakery", "The regional hospital", "Volunteers from the library",
         "The football club", "A group of students", "The transport office", "Farmers in the valley",
         "The university choir", "Residents of the old quarter", "The fire brigade", "A small museum"),
        ("announced plans to repair", "opened a new hall for", "collected money to rebuild", "voted to extend",
         "complained about the cost of", "celebrated the anniversary of", "published a report on",
         "asked the mayor to support", "began a survey of", "welcomed visitors to", "painted the walls of",
         "reopened"),
        ("the tram depot", "the river embankment", "the children's reading room", "the night market",
         "the cycling lanes", "the concert stage", "the bus station", "the winter garden", "the swimming pool",
         "the apple orchards", "the town archive", "the ice rink"),
        ("on Tuesday", "this weekend", "after the heavy rain", "before the autumn fair", "despite the cold wind",
         "for the third year", "with help from sponsors", "ahead of the school year", "late on Friday",
         "in the early morning", "during the holidays", "after a long debate"),
    ),
    "ru": (
        ("Городской совет", "Местная пекарня", "Областная больница", "Волонтёры библиотеки", "Футбольный клуб",
         "Группа студентов", "Транспортное управление", "Фермеры долины", "Университетский хор",
         "Жители старого квартала", "Пожарная часть", "Небольшой музей"),
        ("объявил о ремонте", "открыл новый зал для", "собрал деньги на восстановление", "продлил работу",
         "пожаловался на стоимость", "отметил годовщину", "опубликовал отчёт о", "попросил мэра поддержать",
         "начал обследование", "пригласил гостей в", "покрасил стены", "снова открыл"),
        ("трамвайного депо", "речной набережной", "детского читального зала", "ночного рынка",
         "велосипедных дорожек", "концертной сцены", "автовокзала", "зимнего сада", "бассейна",
         "яблоневых садов", "городского архива", "катка"),
        ("во вторник", "на этих выходных", "после сильного дождя", "перед осенней ярмаркой",
         "несмотря на холодный ветер", "третий год подряд", "с помощью спонсоров", "перед учебным годом",
         "поздно в пятницу", "рано утром", "во время каникул", "после долгого обсуждения"),
    ),
    "uk": (
        ("Міська рада", "Місцева пекарня", "Обласна лікарня", "Волонтери бібліотеки", "Футбольний клуб",
         "Група студентів", "Транспортне управління", "Фермери долини", "Університетський хор",
         "Мешканці старого кварталу", "Пожежна частина", "Невеликий музей"),
        ("оголосила про ремонт", "відкрила нову залу для", "зібрала гроші на відновлення", "продовжила роботу",
         "поскаржилася на вартість", "відзначила річницю", "оприлюднила звіт про", "попросила мера підтримати",
         "розпочала обстеження", "запросила гостей до", "пофарбувала стіни", "знову відкрила"),
        ("трамвайного депо", "річкової набережної", "дитячої читальні", "нічного ринку", "велосипедних доріжок",
         "концертної сцени", "автовокзалу", "зимового саду", "басейну", "яблуневих садів", "міського архіву",
         "ковзанки"),
        ("у вівторок", "цими вихідними", "після сильного дощу", "перед осіннім ярмарком",
         "попри холодний вітер", "третій рік поспіль", "за допомогою спонсорів", "перед навчальним роком",
         "пізно в пʼятницю", "рано вранці", "під час канікул", "після довгого обговорення"),
    ),
}

SIGNAL = {
    "en": [
        "Dmitry Medvedev again threatened to use nuclear weapons against Kyiv, escalating the rhetoric {n} times this year.",
        "The EU adopted its {n}th sanctions package targeting the shadow fleet and Russian banks.",
        "Occupation authorities in Kherson announced a referendum on joining Russia within {n} days.",
    ],
    "ru": [
        "Медведев в {n}-й раз пригрозил применением ядерного оружия против Киева на фоне эскалации.",
        "Евросоюз утвердил {n}-й пакет санкций против теневого флота России.",
    ],
    "uk": [
        "Окупаційна влада Херсонщини за {n} днів оголосила про так звані референдуми щодо приєднання до Росії.",
        "Путін у {n}-й раз погрожує ядерною зброєю, заявив Зеленський після обстрілу.",
    ],
}

LANGS = ("en", "ru", "uk")


def make_item(n: int, rng: random.Random, *, now: datetime | None = None, prefix: str = "bench") -> Item:
    """Item ``n`` (~1 KB of JSON): ~``TARGET_TEXT_BYTES`` of text, a signal sentence in 40% of them."""
    lang = LANGS[n % len(LANGS)]
    sentences: list[str] = []
    size = 0
    while size < TARGET_TEXT_BYTES:
        sentence = " ".join(rng.choice(part) for part in PARTS[lang]) + f" ({rng.randint(2, 999)})."
        sentences.append(sentence)
        size += len(sentence.encode("utf-8")) + 1
    if rng.random() < SIGNAL_SHARE:
        sentences[rng.randrange(len(sentences))] = rng.choice(SIGNAL[lang]).format(n=rng.randint(2, 99))
    published = (now or datetime.now(timezone.utc)) - timedelta(seconds=30)
    source = f"{prefix}-{lang}-{n % 16}"
    return Item(
        item_id=f"rss:{source}:{n}", source_type="rss", source_id=source, url=f"https://news.example/{lang}/{n}",
        title=sentences[0][:60], text=" ".join(sentences[1:]), lang=lang,
        published_at=published, fetched_at=published + timedelta(seconds=1),
    )


def make_items(count: int, *, seed: int = 9, start: int = 0, prefix: str = "bench") -> list[Item]:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    return [make_item(start + n, rng, now=now, prefix=prefix) for n in range(count)]


def encode_items(items: list[Item]) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs as the connectors write them to the raw topic."""
    return [(item.item_id.encode("utf-8"), item.to_bytes()) for item in items]
