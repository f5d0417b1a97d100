"""Fill a database with a benchmark catalogue: 10,000 products × 6 variants, fast.

    DATABASE_URL=sqlite:////tmp/x/bench.sqlite3 .venv/bin/python bench/seed_bulk.py --reset

DESTRUCTIVE with ``--reset``: every table in the database (PostgreSQL: the whole ``public``
schema) is dropped, the schema is rebuilt by the Alembic migrations (``shop.migrate``), then
the catalogue is bulk-inserted with SQLAlchemy Core. Never point it at data you want to keep.

The catalogue is deterministic (seeded RNG): categories on two levels, product names built
from a vocabulary of styles × materials × garments in English, Chinese and Japanese, 6
variants (sizes × colours) each, volume tiers in every currency of ``shop.money``. Each
garment word is in roughly 2-3 % of products, so ``/products?q=<garment>`` is a realistic
narrow search. ``search_text`` is computed by ``shop.catalog.search.build_search_text``
itself, so it is exactly what the shop would store.

It also opens one approved reseller's window, ``/w/bench`` (``WINDOW_HANDLE``), with
``WINDOW_PICKS`` active products spread over the catalogue, every third with a note: the
benchmark's window page (issue 17).
"""

import argparse
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from shop import migrate
from shop.accounts.models import User
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.search import build_search_text, fold
from shop.db import make_engine, normalise_url
from shop.money import SUPPORTED_CURRENCIES
from shop.resellers.models import Reseller, ResellerPick

RANDOM_SEED = 20261126
WINDOW_HANDLE = "bench"
WINDOW_PICKS = 48  # a full page of a window (shop.resellers.picks.WINDOW_PAGE_SIZE)
DEFAULT_PRODUCTS = 10_000
VARIANTS_PER_PRODUCT = 6
CHUNK = 5_000

# (slug, en, zh, ja, children: (slug, en, zh, ja))
CATEGORY_TREE = (
    (
        "school-uniforms",
        "School uniforms",
        "校服",
        "スクールユニフォーム",
        (
            ("school-shirts", "Shirts & polos", "衬衫与polo衫", "シャツ・ポロ"),
            ("school-outerwear", "Blazers & jackets", "西装外套与夹克", "ブレザー・ジャケット"),
            ("school-bottoms", "Trousers & skirts", "裤子与裙子", "パンツ・スカート"),
            ("school-sport", "PE kit", "体育服", "体操服"),
        ),
    ),
    (
        "workwear",
        "Workwear",
        "工作服",
        "作業服",
        (
            ("coveralls", "Coveralls", "连体工作服", "つなぎ"),
            ("hi-vis", "Hi-vis", "高可视警示服", "高視認性ウェア"),
            ("work-trousers", "Work trousers", "工装裤", "ワークパンツ"),
            ("work-jackets", "Work jackets", "工装夹克", "ワークジャケット"),
        ),
    ),
    (
        "corporate",
        "Corporate",
        "职业装",
        "ビジネスウェア",
        (
            ("corporate-shirts", "Shirts & blouses", "衬衫与女衬衫", "シャツ・ブラウス"),
            ("suits", "Suits", "西装套装", "スーツ"),
            ("knitwear", "Knitwear", "针织衫", "ニット"),
        ),
    ),
    (
        "hospitality",
        "Hospitality",
        "餐饮酒店",
        "ホスピタリティ",
        (
            ("chef-wear", "Chef wear", "厨师服", "コックコート"),
            ("aprons", "Aprons", "围裙", "エプロン"),
            ("front-of-house", "Front of house", "前厅制服", "ホールスタッフ"),
        ),
    ),
    (
        "healthcare",
        "Healthcare",
        "医护服",
        "医療ウェア",
        (
            ("scrubs", "Scrubs", "手术服", "スクラブ"),
            ("lab-coats", "Lab coats", "实验服", "白衣"),
        ),
    ),
    (
        "teamwear",
        "Teamwear",
        "团体运动服",
        "チームウェア",
        (
            ("jerseys", "Jerseys", "球衣", "ユニフォーム"),
            ("tracksuits", "Tracksuits", "运动套装", "ジャージ"),
        ),
    ),
)

SIZES_ADULT = ("XS", "S", "M", "L", "XL", "XXL", "3XL")
SIZES_CHILD = ("110", "120", "130", "140", "150", "160", "170")
SIZES_WAIST = ("28", "30", "32", "34", "36", "38", "40")
SIZES_ONE = ("ONE",)

# (code, en, zh, ja, category slug, sizes). Each English noun is a substring of no other
# garment's name, so searching one matches only that garment (~1/len(GARMENTS) of products).
GARMENTS = (
    ("PLO", "Polo", "polo衫", "ポロシャツ", "school-shirts", SIZES_CHILD),
    ("OXF", "Oxford Shirt", "牛津纺衬衫", "オックスフォードシャツ", "school-shirts", SIZES_CHILD),
    ("BLZ", "Blazer", "西装外套", "ブレザー", "school-outerwear", SIZES_CHILD),
    ("CRD", "Cardigan", "开衫", "カーディガン", "school-outerwear", SIZES_CHILD),
    ("PKA", "Parka", "派克大衣", "パーカーコート", "school-outerwear", SIZES_CHILD),
    ("SKT", "Pleated Skirt", "百褶裙", "プリーツスカート", "school-bottoms", SIZES_CHILD),
    ("CHN", "Chinos", "卡其裤", "チノパン", "school-bottoms", SIZES_WAIST),
    ("PNF", "Pinafore", "背心裙", "ジャンパースカート", "school-bottoms", SIZES_CHILD),
    ("TRK", "Track Top", "运动上衣", "トラックトップ", "school-sport", SIZES_CHILD),
    ("GYM", "Gym Shorts", "运动短裤", "体操ショーツ", "school-sport", SIZES_CHILD),
    ("CVR", "Coverall", "连体服", "カバーオール", "coveralls", SIZES_ADULT),
    ("BIB", "Bib Overall", "背带工装裤", "サロペット", "coveralls", SIZES_ADULT),
    ("VST", "Safety Vest", "反光背心", "安全ベスト", "hi-vis", SIZES_ADULT),
    ("HVJ", "Hi-Vis Bomber", "高可视飞行员夹克", "高視認ボンバー", "hi-vis", SIZES_ADULT),
    ("CRG", "Cargo Trousers", "多袋工装裤", "カーゴパンツ", "work-trousers", SIZES_WAIST),
    ("KNP", "Knee-Pad Pants", "护膝工装裤", "膝パッド付きパンツ", "work-trousers", SIZES_WAIST),
    ("SFT", "Softshell", "软壳衣", "ソフトシェル", "work-jackets", SIZES_ADULT),
    ("FLC", "Fleece", "抓绒衣", "フリース", "work-jackets", SIZES_ADULT),
    ("ANO", "Anorak", "套头防风衣", "アノラック", "work-jackets", SIZES_ADULT),
    ("DRS", "Dress Shirt", "正装衬衫", "ドレスシャツ", "corporate-shirts", SIZES_ADULT),
    ("BLS", "Blouse", "女式衬衫", "ブラウス", "corporate-shirts", SIZES_ADULT),
    ("SUT", "Two-Piece Suit", "两件套西装", "ツーピーススーツ", "suits", SIZES_ADULT),
    ("WST", "Waistcoat", "西装马甲", "ベスト", "suits", SIZES_ADULT),
    ("JMP", "Jumper", "套头毛衣", "セーター", "knitwear", SIZES_ADULT),
    ("TNK", "Tank Top", "针织背心", "ニットベスト", "knitwear", SIZES_ADULT),
    ("CHF", "Chef Jacket", "厨师上衣", "コックジャケット", "chef-wear", SIZES_ADULT),
    ("CHP", "Chef Trousers", "厨师裤", "コックパンツ", "chef-wear", SIZES_WAIST),
    ("APR", "Apron", "围裙", "エプロン", "aprons", SIZES_ONE),
    ("TBR", "Tabard", "罩衫", "タバード", "aprons", SIZES_ADULT),
    ("WAI", "Waiter Jacket", "服务员外套", "ウェイタージャケット", "front-of-house", SIZES_ADULT),
    ("TUN", "Tunic", "束腰外衣", "チュニック", "front-of-house", SIZES_ADULT),
    ("SCB", "Scrub Set", "刷手服套装", "スクラブセット", "scrubs", SIZES_ADULT),
    ("LAB", "Lab Coat", "白大褂", "白衣", "lab-coats", SIZES_ADULT),
    ("JRS", "Jersey", "球衣", "ゲームシャツ", "jerseys", SIZES_ADULT),
    ("SNG", "Singlet", "运动背心", "ランニングシャツ", "jerseys", SIZES_ADULT),
    ("TRS", "Tracksuit", "运动套装", "ジャージ上下", "tracksuits", SIZES_ADULT),
    ("HDY", "Hoodie", "连帽卫衣", "フーディー", "tracksuits", SIZES_ADULT),
    ("WND", "Windbreaker", "防风夹克", "ウィンドブレーカー", "tracksuits", SIZES_ADULT),
)

# (en, zh, ja)
STYLES = (
    ("Classic", "经典", "クラシック"),
    ("Summer", "夏季", "夏用"),
    ("Winter", "冬季", "冬用"),
    ("Lightweight", "轻薄", "軽量"),
    ("Heavy-Duty", "加厚耐磨", "ヘビーデューティー"),
    ("Slim-Fit", "修身", "スリムフィット"),
    ("Relaxed", "宽松", "リラックス"),
    ("Premium", "高级", "プレミアム"),
    ("Essential", "基础款", "ベーシック"),
    ("Everyday", "日常", "デイリー"),
    ("Eco", "环保", "エコ"),
    ("Stretch", "弹力", "ストレッチ"),
    ("Quick-Dry", "速干", "速乾"),
    ("Waterproof", "防水", "防水"),
    ("Insulated", "保暖", "中綿入り"),
    ("Unisex", "男女通用", "ユニセックス"),
    ("Junior", "儿童", "ジュニア"),
    ("Executive", "商务", "エグゼクティブ"),
    ("Vintage", "复古", "ヴィンテージ"),
    ("Sport", "运动", "スポーツ"),
)

# (en, zh, ja)
MATERIALS = (
    ("Cotton", "纯棉", "綿"),
    ("Pique", "珠地棉", "鹿の子"),
    ("Twill", "斜纹", "ツイル"),
    ("Poplin", "府绸", "ポプリン"),
    ("Wool-Blend", "混纺羊毛", "ウール混"),
    ("Polyester", "涤纶", "ポリエステル"),
    ("Poly-Cotton", "涤棉", "ポリ綿"),
    ("Ripstop", "防撕裂", "リップストップ"),
    ("Denim", "牛仔布", "デニム"),
    ("Bamboo", "竹纤维", "竹繊維"),
    ("Merino", "美利奴羊毛", "メリノ"),
    ("Recycled", "再生纤维", "再生素材"),
)

COLOURS = (
    "white",
    "navy",
    "black",
    "grey",
    "charcoal",
    "sky",
    "royal",
    "red",
    "maroon",
    "green",
    "khaki",
    "tartan",
    "orange",
    "yellow",
)
VARIANT_SHAPES = ((3, 2), (2, 3), (6, 1))  # sizes × colours = 6

# CNY (fen) → other currencies' minor units, at rough rates.
FX_FROM_CNY_MINOR = {"CNY": 1.0, "JPY": 0.21, "SGD": 0.185, "USD": 0.138}
TIER_STEPS = ((1, 1.0), (50, 0.9), (200, 0.8), (1000, 0.7))


@dataclass
class Catalogue:
    categories: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    variants: list[dict] = field(default_factory=list)
    tiers: list[dict] = field(default_factory=list)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def category_rows() -> list[dict]:
    rows = []
    for position, (slug, name, name_zh, name_ja, children) in enumerate(CATEGORY_TREE):
        parent_id = len(rows) + 1
        rows.append(_category(parent_id, slug, name, name_zh, name_ja, None, position))
        for child_position, (child_slug, child, child_zh, child_ja) in enumerate(children):
            rows.append(
                _category(
                    len(rows) + 1, child_slug, child, child_zh, child_ja, parent_id, child_position
                )
            )
    return rows


def _category(id_, slug, name, name_zh, name_ja, parent_id, position) -> dict:
    return {
        "id": id_,
        "slug": slug,
        "name": name,
        "name_zh": name_zh,
        "name_ja": name_ja,
        "parent_id": parent_id,
        "position": position,
    }


def _category_names(rows: list[dict]) -> dict[int, list[str]]:
    """Per category id, its and its parent's names in every language, as the shop puts
    them in ``search_text`` (``shop.catalog.search.category_names``)."""
    by_id = {row["id"]: row for row in rows}
    names = {}
    for row in rows:
        chain = [row, by_id[row["parent_id"]]] if row["parent_id"] else [row]
        names[row["id"]] = [
            c[key] for c in chain for key in ("name", "name_zh", "name_ja") if c[key]
        ]
    return names


CATEGORY_NAMES = _category_names(category_rows())


def generate(count: int, seed: int = RANDOM_SEED, now: datetime | None = None) -> Catalogue:
    """The whole catalogue as rows; the same ``count`` and ``seed`` give the same rows."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    catalogue = Catalogue(categories=category_rows())
    category_ids = {row["slug"]: row["id"] for row in catalogue.categories}
    variant_id = tier_id = 0
    for product_id in range(1, count + 1):
        product, variants, tiers = _product(rng, product_id, category_ids, now)
        for variant in variants:
            variant_id += 1
            variant["id"] = variant_id
        for tier in tiers:
            tier_id += 1
            tier["id"] = tier_id
        catalogue.products.append(product)
        catalogue.variants.extend(variants)
        catalogue.tiers.extend(tiers)
    return catalogue


def _product(
    rng: random.Random, product_id: int, category_ids: dict[str, int], now: datetime
) -> tuple[dict, list[dict], list[dict]]:
    code, garment, garment_zh, garment_ja, category_slug, size_range = rng.choice(GARMENTS)
    style, style_zh, style_ja = rng.choice(STYLES)
    material, material_zh, material_ja = rng.choice(MATERIALS)
    name = f"{style} {material} {garment}"
    made_to_order = rng.random() < 0.3
    created_at = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))

    size_count, colour_count = rng.choice(VARIANT_SHAPES)
    if len(size_range) < size_count:
        size_count, colour_count = len(size_range), VARIANTS_PER_PRODUCT // len(size_range)
    start = rng.randrange(len(size_range) - size_count + 1)
    sizes = size_range[start : start + size_count]
    colours = rng.sample(COLOURS, colour_count)
    variants = []
    for position, (size, colour) in enumerate((s, c) for s in sizes for c in colours):
        on_hand = 0 if made_to_order or rng.random() < 0.1 else rng.randint(1, 800)
        variants.append(
            {
                "product_id": product_id,
                "sku": f"{code}-{product_id:05d}-{size}-{colour.upper()}",
                "size": size,
                "colour": colour,
                "position": position,
                "on_hand": on_hand,
                "allocated": rng.randint(0, min(on_hand, 20)),
            }
        )

    product = {
        "id": product_id,
        "slug": f"{slugify(name)}-{product_id}",
        "name": name,
        "name_zh": f"{style_zh}{material_zh}{garment_zh}",
        "name_ja": f"{style_ja}{material_ja}{garment_ja}" if rng.random() < 0.6 else None,
        "description": (
            f"{style} {garment.lower()} in {material.lower()}, cut and sewn in our own "
            "factory. Reinforced seams, colour-fast dyes and a fit that survives daily "
            "washing.\n\nEmbroidery or printing of your logo on request; send your artwork "
            "with the order."
        ),
        "description_zh": (
            f"{material_zh}面料{garment_zh}，本厂自主裁剪缝制。加固缝线，不易褪色，"
            "经得起日常洗涤。\n\n可按需刺绣或印制标志，下单时请附上图稿。"
        ),
        "description_ja": (
            f"{material_ja}素材の{garment_ja}。自社工場で裁断・縫製しています。"
            if rng.random() < 0.6
            else None
        ),
        "category_id": category_ids[category_slug],
        "made_to_order": made_to_order,
        "lead_time_days": rng.choice((15, 21, 30, 45)) if made_to_order else None,
        "min_order_quantity": rng.choice((20, 50, 100)) if made_to_order else 1,
        "order_increment": 10 if made_to_order else 1,
        "size_chart": _size_chart(sizes) if rng.random() < 0.5 else None,
        "active": rng.random() < 0.97,
        "featured": rng.random() < 0.03,
        "created_at": created_at,
        "updated_at": created_at,
    }
    product["search_text"] = build_search_text(
        SimpleNamespace(**product, variants=[SimpleNamespace(**v) for v in variants]),
        CATEGORY_NAMES[product["category_id"]],
    )

    base = rng.randrange(25, 450) * 100  # ¥25.00 - ¥449.00, in fen
    steps = TIER_STEPS[: rng.choice((1, 3, 3, 4))]
    tiers = [
        {
            "product_id": product_id,
            "currency": currency,
            "min_quantity": max(min_quantity, product["min_order_quantity"]),
            "unit_amount": round(base * factor * FX_FROM_CNY_MINOR[currency]),
        }
        for currency in SUPPORTED_CURRENCIES
        for min_quantity, factor in steps
        if min_quantity == 1 or min_quantity > product["min_order_quantity"]
    ]
    return product, variants, tiers


def _size_chart(sizes) -> dict:
    return {
        "columns": ["Size", "Chest (cm)", "Length (cm)"],
        "rows": [[size, str(80 + 6 * i), str(60 + 3 * i)] for i, size in enumerate(sizes)],
    }


def insert_catalogue(url: str, catalogue: Catalogue) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for table, rows in (
            (Category.__table__, catalogue.categories),
            (Product.__table__, catalogue.products),
            (Variant.__table__, catalogue.variants),
            (PriceTier.__table__, catalogue.tiers),
        ):
            for start in range(0, len(rows), CHUNK):
                connection.execute(sa.insert(table), rows[start : start + CHUNK])
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; later inserts must not collide.
            for table in ("category", "product", "variant", "price_tier"):
                connection.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        # What autovacuum would soon do on a real server (it vacuums after many inserts):
        # statistics, and the visibility map that lets a count walk an index alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def insert_window(url: str, catalogue: Catalogue) -> int:
    """An approved window ``/w/bench`` of ``WINDOW_PICKS`` active products spread over the
    catalogue (in that order), every third with a note; the number of picks."""
    listed = [p["id"] for p in catalogue.products if p["active"] and p.get("school_id") is None]
    step = max(len(listed) // WINDOW_PICKS, 1)
    chosen = listed[step // 2 :: step][:WINDOW_PICKS]
    now = datetime.now(UTC)
    engine = make_engine(url)
    with engine.begin() as connection:
        user_id = connection.execute(
            sa.insert(User.__table__)
            .values(
                email="reseller@bench.example", name="Bench", password_hash="!", role="customer"
            )
            .returning(User.__table__.c.id)
        ).scalar_one()
        reseller_id = connection.execute(
            sa.insert(Reseller.__table__)
            .values(
                user_id=user_id,
                handle=WINDOW_HANDLE,
                display_name="Bench picks",
                bio="Forty-eight products picked for the benchmark.",
                social_links=["https://example.com/bench"],
                terms_version="bench",
                terms_accepted_at=now,
                status="approved",
                status_changed_at=now,
                created_at=now,
            )
            .returning(Reseller.__table__.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(ResellerPick.__table__),
            [
                {
                    "reseller_id": reseller_id,
                    "product_id": product_id,
                    "position": position,
                    "note": "Good value for a school order." if position % 3 == 1 else "",
                    "created_at": now,
                }
                for position, product_id in enumerate(chosen, start=1)
            ],
        )
    engine.dispose()
    return len(chosen)


def count_matches(catalogue: Catalogue, word: str) -> int:
    term = fold(word)
    return sum(1 for p in catalogue.products if p["active"] and term in p["search_text"])


def sample_slug(catalogue: Catalogue) -> str:
    """An active product from the middle of the catalogue, for ``/products/<slug>``."""
    middle = len(catalogue.products) // 2
    for product in catalogue.products[middle:] + catalogue.products[:middle]:
        if product["active"]:
            return product["slug"]
    raise SystemExit("no active product was generated")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="default: $DATABASE_URL (kept out of the process list)",
    )
    parser.add_argument("--products", type=int, default=DEFAULT_PRODUCTS)
    parser.add_argument("--query", default="blazer", help="the search word to report on")
    parser.add_argument("--reset", action="store_true", help="drop everything first (DESTRUCTIVE)")
    parser.add_argument("--summary", help="write a JSON summary here")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    url = normalise_url(args.database_url)

    started = time.perf_counter()
    if args.reset:
        migrate.reset_database(url)
    migrate.upgrade(url)
    migrated = time.perf_counter()
    catalogue = generate(args.products)
    generated = time.perf_counter()
    insert_catalogue(url, catalogue)
    window_picks = insert_window(url, catalogue)
    inserted = time.perf_counter()

    active = sum(1 for p in catalogue.products if p["active"])
    matches = count_matches(catalogue, args.query)
    summary = {
        "products": len(catalogue.products),
        "active_products": active,
        "variants": len(catalogue.variants),
        "price_tiers": len(catalogue.tiers),
        "categories": len(catalogue.categories),
        "query": args.query,
        "query_matches": matches,
        "query_match_percent": round(100 * matches / active, 2) if active else 0.0,
        "product_slug": sample_slug(catalogue),
        "window": f"/w/{WINDOW_HANDLE}",
        "window_picks": window_picks,
        "seconds": {
            "migrate": round(migrated - started, 2),
            "generate": round(generated - migrated, 2),
            "insert": round(inserted - generated, 2),
        },
    }
    print(
        f"seeded {summary['products']:,} products ({active:,} active), "
        f"{summary['variants']:,} variants, {summary['price_tiers']:,} price tiers, "
        f"{summary['categories']} categories in {inserted - started:.1f}s; "
        f"q={args.query!r} matches {matches:,} ({summary['query_match_percent']}%)",
        file=sys.stderr,
    )
    if not 1 <= summary["query_match_percent"] <= 5:
        print(f"warning: q={args.query!r} is outside the 1-5% band", file=sys.stderr)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as file:
            json.dump(summary, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
