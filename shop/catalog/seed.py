"""The demo catalogue: categories, products, variants, price tiers and drawn pictures.

Idempotent: categories and products are found by slug, variants by SKU, tiers by
currency, images by path. What exists is left alone (staff may have edited it, and stock
may have moved), what is missing is added, and nothing is ever deleted. A picture whose
row exists but whose file is gone is drawn again. Uses only the session it is given:
it flushes, the caller commits.

Prices are written in yuan (CNY) in the tables below and converted to JPY, SGD and USD
at fixed demo rates, then rounded to tidy price points, in ``Decimal`` throughout.
"""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.admin.images import save_derived_sizes, thumbnail_path
from shop.catalog.colours import COLOURS
from shop.catalog.demo_images import draw_garment, save_product_image
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.catalog.search import refresh_search_text
from shop.db import utcnow
from shop.money import exponent, from_decimal, to_decimal
from shop.storage import Storage

KIDS = ("110", "120", "130", "140", "150", "160", "170")
ADULT = ("S", "M", "L", "XL", "XXL")
SOCKS = ("28–31", "32–35", "36–39", "40–43")
HATS = ("52 cm", "54 cm", "56 cm")
ONE_SIZE = ("One size",)
IMAGE_SIZE = 800

# Demo exchange rates: units of each currency per yuan.
RATES = {"JPY": Decimal("21"), "SGD": Decimal("0.19"), "USD": Decimal("0.14")}
# Price points: below each bound (in minor units), round to the step.
PRICE_STEPS = {
    "JPY": ((1000, 10), (5000, 50), (None, 100)),
    "SGD": ((500, 10), (2000, 50), (None, 100)),
    "USD": ((500, 10), (2000, 50), (None, 100)),
}

COLOUR_CODES = {
    "white": "WHT",
    "navy": "NAV",
    "black": "BLK",
    "grey": "GRY",
    "charcoal": "CHA",
    "sky": "SKY",
    "royal": "ROY",
    "red": "RED",
    "maroon": "MAR",
    "green": "GRN",
    "khaki": "KHA",
    "tartan": "TAR",
    "orange": "ORG",
    "yellow": "YEL",
}
COLOUR_WORDS = {
    "white": "white",
    "navy": "navy",
    "black": "black",
    "grey": "grey",
    "charcoal": "charcoal",
    "sky": "sky blue",
    "royal": "royal blue",
    "red": "red",
    "maroon": "maroon",
    "green": "bottle green",
    "khaki": "khaki",
    "tartan": "tartan",
    "orange": "safety orange",
    "yellow": "hi-vis yellow",
}


# --- size charts ------------------------------------------------------------------------


def _kids_chart(*measures: tuple[str, int, int]) -> dict:
    columns = ["Size", "Height (cm)", *(name for name, _, _ in measures)]
    rows = [
        [size, f"{int(size) - 5}–{int(size) + 5}", *(str(a + i * s) for _, a, s in measures)]
        for i, size in enumerate(KIDS)
    ]
    return {"columns": columns, "rows": rows}


def _adult_chart(*measures: tuple[str, int, int]) -> dict:
    columns = ["Size", *(name for name, _, _ in measures)]
    rows = [[size, *(str(a + i * s) for _, a, s in measures)] for i, size in enumerate(ADULT)]
    return {"columns": columns, "rows": rows}


CHARTS = {
    "kids_top": _kids_chart(("Chest (cm)", 62, 5), ("Length (cm)", 44, 4)),
    "kids_knit": _kids_chart(("Chest (cm)", 64, 5), ("Length (cm)", 44, 4), ("Sleeve (cm)", 36, 4)),
    "kids_outer": _kids_chart(
        ("Chest (cm)", 70, 6), ("Length (cm)", 48, 4), ("Sleeve (cm)", 38, 4)
    ),
    "kids_coat": _kids_chart(("Chest (cm)", 76, 6), ("Length (cm)", 56, 5), ("Sleeve (cm)", 40, 4)),
    "kids_trousers": _kids_chart(
        ("Waist (cm)", 52, 3), ("Hip (cm)", 62, 5), ("Inside leg (cm)", 44, 6)
    ),
    "kids_skirt": _kids_chart(("Waist (cm)", 52, 3), ("Length (cm)", 32, 3)),
    "kids_shorts": _kids_chart(("Waist (cm)", 52, 3), ("Length (cm)", 28, 3)),
    "adult_top": _adult_chart(
        ("Chest (cm)", 104, 6), ("Length (cm)", 72, 2), ("Sleeve (cm)", 60, 1)
    ),
    "adult_coat": _adult_chart(
        ("Chest (cm)", 108, 6), ("Length (cm)", 100, 2), ("Sleeve (cm)", 60, 1)
    ),
    "adult_trousers": _adult_chart(
        ("Waist (cm)", 74, 6), ("Hip (cm)", 98, 6), ("Inside leg (cm)", 78, 1)
    ),
    "adult_coverall": _adult_chart(
        ("Chest (cm)", 108, 8), ("Height (cm)", 165, 5), ("Inside leg (cm)", 76, 2)
    ),
    "adult_vest": _adult_chart(("Chest (cm)", 100, 10), ("Length (cm)", 64, 2)),
    "socks": {
        "columns": ["Size", "Shoe size (EU)", "Age"],
        "rows": [
            ["28–31", "28–31", "4–6"],
            ["32–35", "32–35", "7–9"],
            ["36–39", "36–39", "10–13"],
            ["40–43", "40–43", "14+"],
        ],
    },
    "hats": {
        "columns": ["Size", "Head (cm)", "Age"],
        "rows": [["52 cm", "51–52", "4–7"], ["54 cm", "53–54", "7–11"], ["56 cm", "55–57", "11+"]],
    },
}


def size_chart(key: str | None, sizes: tuple[str, ...]) -> dict | None:
    """The named chart, cut down to the product's sizes."""
    if key is None:
        return None
    chart = CHARTS[key]
    rows = [list(row) for row in chart["rows"] if row[0] in sizes]
    return {"columns": list(chart["columns"]), "rows": rows}


# --- the tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    name_zh: str
    name_ja: str
    parent: str | None = None


CATEGORIES = [
    CategorySpec("school-uniforms", "School uniforms", "校服", "学生服"),
    CategorySpec(
        "polos-shirts", "Polos & shirts", "Polo衫与衬衫", "ポロシャツ・シャツ", "school-uniforms"
    ),
    CategorySpec(
        "trousers-skirts", "Trousers & skirts", "裤装与裙装", "ズボン・スカート", "school-uniforms"
    ),
    CategorySpec(
        "blazers-knitwear",
        "Blazers & knitwear",
        "西装外套与针织衫",
        "ブレザー・ニット",
        "school-uniforms",
    ),
    CategorySpec(
        "tracksuits-pe-kit",
        "Tracksuits & PE kit",
        "运动服与体育服",
        "ジャージ・体操服",
        "school-uniforms",
    ),
    CategorySpec("winter-coats", "Winter coats", "冬季外套", "防寒コート", "school-uniforms"),
    CategorySpec("workwear", "Workwear", "工作服", "作業服・ユニフォーム"),
    CategorySpec("chef-wear", "Chef wear", "厨师服", "コックコート・調理衣", "workwear"),
    CategorySpec("lab-coats", "Lab coats", "实验服", "白衣・ラボコート", "workwear"),
    CategorySpec(
        "overalls-hi-vis", "Overalls & hi-vis", "工装与反光服", "つなぎ・高視認性ウェア", "workwear"
    ),
    CategorySpec("accessories", "Accessories", "配饰", "小物・アクセサリー"),
    CategorySpec("ties", "Ties", "领带", "ネクタイ", "accessories"),
    CategorySpec("socks", "Socks", "袜子", "ソックス", "accessories"),
    CategorySpec("caps-hats", "Caps & hats", "帽子", "帽子・キャップ", "accessories"),
    CategorySpec("bags", "Bags", "书包与袋子", "バッグ", "accessories"),
]


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    code: str  # the SKU stem: SF-<code>-<colour>-<size>
    category: str
    kind: str  # what demo_images draws
    sizes: tuple[str, ...]
    colours: tuple[str, ...]
    tiers: tuple[tuple[int, int | str], ...]  # (from quantity, yuan); the first is the MOQ
    name: str
    name_zh: str
    name_ja: str
    description: str
    description_zh: str
    description_ja: str | None = None
    chart: str | None = None
    lead_time: int | None = None  # set: made to order, no stock
    increment: int = 1
    stock: str = "plenty"  # plenty | mixed | low | out
    featured: bool = False


P = ProductSpec

# fmt: off
PRODUCTS = [
    # --- Polos & shirts ---
    P(
        "school-polo-short-sleeve", "POLO-SS", "polos-shirts", "polo", KIDS,
        ("white", "navy", "sky"), ((1, 49), (30, 45), (100, 41), (300, 37)),
        "Short-sleeve school polo shirt", "夏季短袖校服Polo衫", "半袖スクールポロシャツ",
        "Everyday summer polo in 200 g/m² cotton-rich piqué (65% cotton, 35% polyester) "
        "that keeps its shape through a school year of washing. Two-button placket, a "
        "flat-knit collar that will not curl, side vents and a taped neck.\n\n"
        "Machine wash at 40 °C; tumble dry low.",
        "65%棉35%涤纶珠地网眼面料，克重200克，透气耐洗，整学年反复洗涤不变形。双扣门襟，"
        "平织罗纹领不卷边，侧开衩设计。\n\n可40°C机洗，低温烘干。",
        "綿65%・ポリエステル35%、200g/m²の鹿の子素材。洗濯を繰り返しても型崩れしにくく、"
        "衿が反りにくい平編みリブ衿。\n\n40°Cで洗濯機洗い可、タンブラー乾燥は低温で。",
        chart="kids_top", featured=True,
    ),
    P(
        "school-polo-long-sleeve", "POLO-LS", "polos-shirts", "polo_ls", KIDS,
        ("white", "navy"), ((1, 59), (30, 54), (100, 49)),
        "Long-sleeve school polo shirt", "长袖校服Polo衫", "長袖スクールポロシャツ",
        "The same durable 200 g/m² piqué as our summer polo, with long sleeves and ribbed "
        "cuffs for the spring and autumn terms. Reinforced shoulder seams and a spare button "
        "sewn inside the hem.\n\nWash at 40 °C, warm iron.",
        "与夏季款相同的200克珠地面料，长袖配罗纹袖口，适合春秋季穿着。肩缝加固，下摆内侧"
        "附备用纽扣。\n\n40°C水洗，中温熨烫。",
        chart="kids_knit", stock="mixed",
    ),
    P(
        "school-shirt-long-sleeve", "SHIRT-LS", "polos-shirts", "shirt", KIDS,
        ("white", "sky"), ((1, 55), (30, 50), (100, 45), (300, 41)),
        "Easy-iron long-sleeve school shirt", "免烫长袖校服衬衫", "ノーアイロン長袖スクールシャツ",
        "Classic school shirt in 110 g/m² poplin (65% polyester, 35% cotton) with an "
        "easy-care finish: hang it up damp and it is ready by morning. A semi-cutaway collar "
        "that sits neatly under a tie, one chest pocket and a curved hem that stays tucked "
        "in.\n\nWash at 40 °C; a cool iron if you like it crisp.",
        "110克府绸面料（65%涤纶35%棉），免烫处理，湿衣挂干即可平整穿着。半宽角领搭配领带更"
        "服帖，单胸袋，弧形下摆不易从裤腰滑出。\n\n40°C水洗，低温熨烫效果更佳。",
        "ポリエステル65%・綿35%のブロード（110g/m²）。形態安定加工で、濡れたまま干せば"
        "翌朝そのまま着られます。ネクタイがきれいに収まるセミワイドカラー、胸ポケット付き。",
        chart="kids_knit",
    ),
    P(
        "school-shirt-short-sleeve", "SHIRT-SS", "polos-shirts", "shirt_ss", KIDS,
        ("white", "sky"), ((1, 49), (30, 44), (100, 40)),
        "Short-sleeve school shirt", "短袖校服衬衫", "半袖スクールシャツ",
        "Summer-weight poplin shirt with a soft collar, worn with or without a tie. "
        "Breathable 105 g/m² cotton-rich fabric, a chest pocket and double-stitched side "
        "seams for playground wear.\n\nWash at 40 °C.",
        "夏季轻薄府绸衬衫，领型柔软，可搭配或不搭配领带。105克高棉透气面料，胸袋设计，"
        "侧缝双针加固，经得起课间活动。\n\n40°C水洗。",
        chart="kids_top", stock="mixed",
    ),
    P(
        "short-sleeve-blouse-rounded-collar", "BLOUSE-SS", "polos-shirts", "blouse", KIDS,
        ("white", "sky"), ((1, 52), (30, 47), (100, 42)),
        "Short-sleeve blouse with rounded collar", "娃娃领短袖校服衬衫", "丸衿半袖ブラウス",
        "A neat blouse with a rounded Peter Pan collar, cut slightly shaped at the waist. "
        "Soft 105 g/m² cotton-rich poplin, a covered placket and pearlised buttons. Pairs "
        "with our pleated tartan skirt and A-line skirt.\n\nWash at 40 °C; warm iron.",
        "经典娃娃领设计，腰身略收。105克高棉府绸面料，暗门襟配珠光纽扣。可搭配格纹百褶裙"
        "和A字裙。\n\n40°C水洗，中温熨烫。",
        chart="kids_top", stock="low",
    ),
    # --- Trousers & skirts ---
    P(
        "school-trousers-regular-fit", "TRS-REG", "trousers-skirts", "trousers", KIDS,
        ("navy", "grey", "charcoal"), ((1, 79), (30, 72), (100, 65), (300, 59)),
        "School trousers, regular fit", "校服西裤（常规版）", "スクールスラックス（レギュラー）",
        "Hard-wearing twill trousers (260 g/m², 70% polyester, 30% viscose) with permanent "
        "front creases and an adjustable waist (buttonhole elastic inside) that grows with "
        "your child. Reinforced knees, two side pockets and one back pocket.\n\n"
        "Machine wash at 30 °C.",
        "260克斜纹面料（70%涤纶30%粘胶），耐磨挺括，裤中线永久定型。腰内置纽扣孔松紧带，"
        "可随孩子成长调节腰围。膝部加固，两个侧袋一个后袋。\n\n30°C机洗。",
        "ポリエステル70%・レーヨン30%の丈夫なツイル（260g/m²）。センタープレス加工、"
        "ウエストはアジャスター付きで成長に合わせて調節できます。膝裏補強、ポケット3つ。",
        chart="kids_trousers", featured=True,
    ),
    P(
        "pull-on-trousers-junior", "TRS-PULL", "trousers-skirts", "trousers_elastic", KIDS[:4],
        ("navy", "grey"), ((1, 65), (30, 59), (100, 53)),
        "Pull-on trousers with elastic waist (junior)", "低年级松紧腰校裤",
        "低学年用ウエストゴムパンツ",
        "Easy pull-on trousers for the youngest pupils: a fully elasticated waist with a "
        "mock fly, soft 240 g/m² twill and double-layer knees. No buttons or zips, so "
        "children can dress themselves after PE.\n\nMachine wash at 30 °C.",
        "专为低年级学生设计，全松紧腰配假门襟，穿脱方便。240克柔软斜纹面料，膝部双层加厚。"
        "无纽扣无拉链，体育课后孩子可以自己穿好。\n\n30°C机洗。",
        chart="kids_trousers", stock="mixed",
    ),
    P(
        "pleated-tartan-skirt", "SKT-PLT", "trousers-skirts", "skirt_pleated", KIDS,
        ("tartan", "navy"), ((1, 89), (30, 81), (100, 74), (300, 68)),
        "Pleated tartan school skirt", "格纹百褶校裙", "タータンチェックのプリーツスカート",
        "Knife-pleated skirt in a yarn-dyed tartan (230 g/m² polyester-viscose) with "
        "heat-set pleats that survive the washing machine. Adjustable elastic waist, side "
        "zip with button, and a hem that can be let down 4 cm as your child grows.\n\n"
        "Wash at 30 °C inside a laundry bag; hang to dry.",
        "色织格纹面料（230克涤粘），单向褶经定型处理，机洗不走形。腰部可调松紧，侧拉链加"
        "纽扣，裙摆预留4厘米放量，可随身高加长。\n\n装入洗衣袋30°C洗涤，悬挂晾干。",
        "先染めタータン（ポリエステル・レーヨン、230g/m²）。熱セットのプリーツは洗濯機で"
        "洗っても取れにくく、ウエストはアジャスター付き。裾は4cm出せます。",
        chart="kids_skirt", featured=True,
    ),
    P(
        "a-line-school-skirt", "SKT-AL", "trousers-skirts", "skirt", KIDS,
        ("navy", "grey"), ((1, 69), (30, 63), (100, 57)),
        "A-line school skirt", "A字校裙", "Aラインスクールスカート",
        "A simple A-line skirt with two front pleats, in the same durable twill as our "
        "school trousers. Adjustable waist, concealed side zip, and a lining that stops "
        "static cling.\n\nMachine wash at 30 °C.",
        "简洁A字版型，前片两道褶，与校裤同款耐磨斜纹面料。腰围可调，隐形侧拉链，带防静电"
        "内衬。\n\n30°C机洗。",
        chart="kids_skirt", stock="mixed",
    ),
    P(
        "summer-school-shorts", "SHO-TW", "trousers-skirts", "shorts_tailored", KIDS[:5],
        ("grey", "navy"), ((1, 55), (30, 50), (100, 45)),
        "Summer school shorts", "夏季校服短裤", "夏用スクールハーフパンツ",
        "Tailored knee-length shorts for the summer term in lightweight 200 g/m² twill, "
        "with an adjustable waist, belt loops and two deep side pockets.\n\n"
        "Permanent crease; machine washable at 30 °C.",
        "夏季及膝西装短裤，200克轻薄斜纹面料，腰围可调，带裤袢和两个深侧袋。\n\n"
        "裤线定型，可30°C机洗。",
        chart="kids_shorts", stock="low",
    ),
    P(
        "fleece-lined-winter-trousers", "TRS-WIN", "trousers-skirts", "trousers", KIDS,
        ("navy", "charcoal"), ((1, 99), (30, 89), (100, 82)),
        "Fleece-lined winter school trousers", "加绒冬季校裤", "裏起毛 冬用スクールスラックス",
        "Our regular-fit school trousers with a brushed fleece lining for northern winters. "
        "Outer twill 260 g/m², lining 180 g/m² polar fleece, adjustable waist.\n\n"
        "Made to order in your school's colour and dispatched about two weeks after payment.",
        "常规版校裤内加摇粒绒，适合北方冬季。外层260克斜纹，内衬180克摇粒绒，腰围可调。"
        "\n\n按学校颜色接单生产，付款后约两周发货。",
        chart="kids_trousers", lead_time=14,
    ),
    # --- Blazers & knitwear ---
    P(
        "school-blazer", "BLZ", "blazers-knitwear", "blazer", KIDS,
        ("navy", "maroon", "green"), ((1, 229), (20, 209), (100, 189)),
        "School blazer", "校服西装外套", "スクールブレザー",
        "Single-breasted two-button blazer in a 300 g/m² wool-blend flannel (30% wool) that "
        "holds its shape all year. Fully lined, with an inside pocket for a phone or travel "
        "card, reinforced pocket corners and extra sleeve length turned under for growth.\n\n"
        "Made to order. Dry clean, or hand wash cold and dry on a hanger.",
        "单排两粒扣西装，300克混纺法兰绒（含30%羊毛），全年挺括有型。全里衬，内袋可放手机"
        "或公交卡，袋角加固，袖口预留放长量。\n\n按单生产。建议干洗，或冷水手洗后挂干。",
        "ウール30%混の300g/m²フランネルを使用したシングル2つボタン。総裏仕立て、"
        "内ポケット付き、袖丈は出し代あり。\n\n受注生産です。",
        chart="kids_outer", lead_time=21, featured=True,
    ),
    P(
        "blazer-embroidered-crest-school-order", "BLZ-CREST", "blazers-knitwear", "blazer", KIDS,
        ("navy", "maroon", "green"), ((30, 245), (100, 219), (300, 199)),
        "Blazer with embroidered school crest (school order)", "定制刺绣校徽西装（学校团购）",
        "刺繍校章入りブレザー（学校一括注文）",
        "Our school blazer with your crest embroidered on the breast pocket from your "
        "artwork (up to 9 thread colours, digitising included).\n\n"
        "For school orders from 30 pieces in steps of 10; mix sizes freely. We post a sewn "
        "sample for approval before production starts.",
        "在胸袋上按学校提供的图稿刺绣校徽（最多9色，含制版费）。\n\n"
        "学校订单30件起订，以10件递增，尺码可自由搭配。量产前寄送实物样品确认。",
        "胸ポケットに校章を刺繍（9色まで、データ作成費込み）。\n\n"
        "30着から10着単位でご注文いただけます。サイズの組み合わせは自由です。",
        chart="kids_outer", lead_time=30, increment=10,
    ),
    P(
        "v-neck-knitted-cardigan", "CARD", "blazers-knitwear", "cardigan", KIDS,
        ("navy", "grey", "maroon"), ((1, 99), (30, 89), (100, 81)),
        "V-neck knitted school cardigan", "V领针织开衫", "Vネックニットカーディガン",
        "Soft 12-gauge knit in 70% acrylic, 30% wool that resists pilling, with five "
        "buttons and ribbed cuffs and hem.\n\nMachine washable on a wool cycle at 30 °C; "
        "dry flat.",
        "12针精纺针织，70%腈纶30%羊毛，抗起球。五粒扣，罗纹袖口和下摆。\n\n"
        "可用羊毛程序30°C机洗，平铺晾干。",
        chart="kids_knit", stock="mixed",
    ),
    P(
        "v-neck-school-jumper", "JMP", "blazers-knitwear", "jumper", KIDS,
        ("navy", "grey", "green"), ((1, 89), (30, 81), (100, 73)),
        "V-neck school jumper", "V领套头毛衣", "Vネックセーター",
        "A classic pullover in a warm 12-gauge acrylic-wool knit, with a V-neck that shows "
        "the shirt collar and tie. Reinforced elbows and an anti-pill finish.\n\n"
        "Wash at 30 °C on a wool cycle.",
        "经典V领套头衫，12针腈纶羊毛混纺，保暖舒适，露出衬衫领与领带。手肘加固，"
        "抗起球处理。\n\n羊毛程序30°C洗涤。",
        chart="kids_knit",
    ),
    P(
        "knitted-sweater-vest", "VEST-KN", "blazers-knitwear", "knit_vest", KIDS,
        ("navy", "grey"), ((1, 69), (30, 62), (100, 56)),
        "Knitted sweater vest", "针织背心", "ニットベスト",
        "Sleeveless V-neck knit for cool mornings, in a lighter 14-gauge acrylic-cotton "
        "yarn. Ribbed neck, armholes and hem that keep their shape after washing.\n\n"
        "Knitted to order; wash at 30 °C.",
        "无袖V领针织背心，14针腈纶棉混纺，适合早晚微凉天气。领口、袖窿与下摆罗纹收边，"
        "洗后不变形。\n\n按单织造，30°C洗涤。",
        chart="kids_top", lead_time=20,
    ),
    # --- Tracksuits & PE kit ---
    P(
        "school-tracksuit-set", "TRK-SET", "tracksuits-pe-kit", "tracksuit", KIDS,
        ("royal", "navy", "green"), ((1, 159), (30, 145), (100, 129), (300, 119)),
        "School tracksuit set (jacket and trousers)", "校服运动套装（上衣+长裤）",
        "スクールジャージ上下セット",
        "Two-piece tracksuit in 280 g/m² brushed-back knit (100% polyester) with twin white "
        "stripes down the sleeves and legs. Full-zip jacket with stand collar and zipped "
        "pockets; trousers with an elastic waist, drawcord and zipped ankles.\n\n"
        "Made to order in your school colour. Wash at 40 °C.",
        "两件套运动服，280克磨毛针织面料（100%涤纶），袖子与裤腿饰双白条。上衣全拉链立领，"
        "带拉链口袋；长裤松紧腰加抽绳，裤脚拉链。\n\n按学校颜色接单生产。40°C水洗。",
        "裏起毛ニット（ポリエステル100%、280g/m²）の上下セット。袖と脚に2本ライン、"
        "フルジップ・スタンドカラーのジャケットと、ウエストゴム・裾ファスナー付きパンツ。",
        chart="kids_outer", lead_time=15, featured=True,
    ),
    P(
        "tracksuit-jacket", "TRK-JKT", "tracksuits-pe-kit", "tracksuit_jacket", KIDS,
        ("royal", "navy", "green"), ((1, 99), (30, 89), (100, 79)),
        "Tracksuit jacket", "运动服上衣", "ジャージ上着",
        "The jacket from our school tracksuit on its own: full zip with a chin guard, stand "
        "collar, zipped side pockets and ribbed cuffs.\n\n"
        "280 g/m² brushed-back polyester; wash at 40 °C.",
        "校服运动套装的单件上衣：全拉链带护颚，立领，拉链侧袋，罗纹袖口。\n\n"
        "280克磨毛涤纶面料，40°C水洗。",
        chart="kids_outer", stock="mixed",
    ),
    P(
        "track-trousers", "TRK-TRS", "tracksuits-pe-kit", "track_pants", KIDS,
        ("royal", "navy", "green"), ((1, 69), (30, 62), (100, 55)),
        "Track trousers", "运动长裤", "ジャージパンツ",
        "Matching track trousers with an elastic waist and inner drawcord, twin side "
        "stripes, reinforced knees and zipped ankles that slip over trainers.\n\n"
        "Wash at 40 °C.",
        "配套运动长裤，松紧腰内置抽绳，侧边双条纹，膝部加固，裤脚拉链方便穿脱运动鞋。\n\n"
        "40°C水洗。",
        chart="kids_trousers",
    ),
    P(
        "quick-dry-pe-t-shirt", "PE-TEE", "tracksuits-pe-kit", "tee", KIDS,
        ("white", "sky", "red"), ((1, 35), (50, 31), (200, 27), (500, 24)),
        "Quick-dry PE T-shirt", "速干体育T恤", "速乾体操服Tシャツ",
        "Lightweight 140 g/m² bird's-eye mesh (100% polyester) that wicks sweat and dries "
        "in an hour on the line. Contrast crew neck and cuffs, and a name label inside the "
        "neck.\n\nWash at 40 °C.",
        "140克鸟眼网眼面料（100%涤纶），吸湿排汗，晾晒约一小时即干。撞色圆领与袖口，领内"
        "附姓名标签。\n\n40°C水洗。",
        "吸汗速乾の鳥目メッシュ（ポリエステル100%、140g/m²）。配色の衿・袖口、"
        "首元に名前ラベル付き。",
        chart="kids_top",
    ),
    P(
        "pe-shorts", "PE-SHO", "tracksuits-pe-kit", "shorts", KIDS,
        ("navy", "royal", "black"), ((1, 29), (50, 26), (200, 23)),
        "PE shorts", "体育短裤", "体操服ハーフパンツ",
        "Light sports shorts in 150 g/m² polyester twill with a covered elastic waist and "
        "inner drawcord. Side slits for free movement, and no pockets, so nothing digs in "
        "during floor exercises.\n\nWash at 40 °C.",
        "150克涤纶斜纹运动短裤，包边松紧腰内置抽绳。侧开衩活动自如；无口袋设计，做地面"
        "运动时不硌身体。\n\n40°C水洗。",
        chart="kids_shorts", stock="mixed",
    ),
    P(
        "pe-kit-t-shirt-and-shorts", "PE-KIT", "tracksuits-pe-kit", "pe_kit", KIDS,
        ("navy", "royal", "red"), ((1, 59), (50, 53), (200, 47), (500, 43)),
        "PE kit: T-shirt and shorts", "体育服套装（T恤+短裤）",
        "体操服セット（Tシャツ＋ハーフパンツ）",
        "Our quick-dry white PE T-shirt with the collar and cuffs in your house colour, "
        "plus matching shorts, sold as a set. Popular with schools that divide pupils into "
        "coloured houses.\n\nWash at 40 °C.",
        "速干白色体育T恤（领口和袖口为分院颜色）配同色短裤，成套销售。适合按颜色分院的"
        "学校。\n\n40°C水洗。",
        "速乾の白Tシャツ（衿・袖口がチームカラー）と同色のハーフパンツのセット。"
        "色別の組分けがある学校に人気です。",
        chart="kids_top", featured=True,
    ),
    # --- Winter coats ---
    P(
        "padded-winter-school-coat", "COAT-PAD", "winter-coats", "winter_coat", KIDS,
        ("navy", "black"), ((1, 269), (20, 245), (100, 219)),
        "Padded winter school coat with hood", "连帽加厚冬季校服棉服",
        "フード付き中綿スクールコート",
        "Water-repellent 240T polyester shell with 200 g/m² wadding and a quilted lining, "
        "warm down to about −10 °C. Detachable hood, storm flap over a two-way zip, "
        "reflective piping on the back and a name tab inside.\n\n"
        "Machine wash at 30 °C. This season's batch is sold out; the next one arrives in "
        "November.",
        "防泼水240T涤纶面料，填充200克棉，绗缝内衬，保暖可达约零下10°C。可拆卸帽子，双向"
        "拉链带防风门襟，后背反光条，内侧姓名标。\n\n30°C机洗。本季已售罄，下一批十一月到货。",
        "撥水加工の表地に200g/m²の中綿、−10°C前後まで対応。取り外し可能なフード、"
        "ダブルジップ、背面にリフレクター付き。",
        chart="kids_coat", stock="out", featured=True,
    ),
    P(
        "long-down-parka", "COAT-DWN", "winter-coats", "parka", KIDS,
        ("black", "navy"), ((1, 399), (20, 369), (100, 339)),
        "Long down parka (80% duck down)", "长款羽绒校服（80%鸭绒）",
        "ロングダウンコート（ダウン80%）",
        "Knee-length parka filled with 80/20 duck down for the coldest walks to school in "
        "the north-east. Windproof shell, ribbed inner cuffs, fleece-lined hand pockets and "
        "a hood with a faux-fur trim that zips off.\n\nMade to order for schools from October.",
        "及膝长款，80/20鸭绒填充，适合东北严寒天气上学。防风面料，内置罗纹袖口，抓绒暖手袋，"
        "帽檐人造毛可拆卸。\n\n十月起按学校订单生产。",
        chart="kids_coat", lead_time=25,
    ),
    P(
        "full-zip-fleece-jacket", "FLC", "winter-coats", "fleece", KIDS,
        ("navy", "grey", "green"), ((1, 119), (30, 107), (100, 95)),
        "Full-zip fleece jacket", "全拉链抓绒外套", "フルジップフリースジャケット",
        "Anti-pill 280 g/m² polar fleece mid-layer that fits under the winter coat or over "
        "a polo on autumn days. Full zip with chin guard, zipped hand pockets, and "
        "elastic-bound cuffs and hem.\n\nWash at 30 °C; do not tumble dry.",
        "280克抗起球摇粒绒，可作中间层穿在冬季外套里，也可在秋天套在Polo衫外。全拉链带"
        "护颚，拉链手袋，袖口与下摆弹力包边。\n\n30°C洗涤，请勿烘干。",
        chart="kids_outer", stock="mixed",
    ),
    # --- Chef wear ---
    P(
        "classic-double-breasted-chef-coat", "CHF-COAT", "chef-wear", "chef_coat", ADULT,
        ("white", "black"), ((1, 129), (10, 115), (50, 99), (200, 89)),
        "Classic double-breasted chef coat", "经典双排扣厨师服", "ダブルボタンのコックコート",
        "A reversible double-breasted front, so a splash can be hidden mid-service, in "
        "210 g/m² poly-cotton twill (65/35) that stands up to 60 °C industrial washing. "
        "Mandarin collar, thermometer pocket on the left sleeve, detachable knot buttons.\n\n"
        "Wash at up to 60 °C; remove the buttons first.",
        "双排扣前襟可左右互换，工作中沾上污渍可翻面遮挡。210克涤棉斜纹（65/35），耐60°C"
        "工业洗涤。立领，左袖温度计笔袋，可拆卸布扣。\n\n最高60°C洗涤，洗前请取下纽扣。",
        "前合わせを左右入れ替えて汚れを隠せるダブル仕様。60°Cの工業洗濯に耐える"
        "ポリエステル綿ツイル（210g/m²）。左袖に温度計ポケット。",
        chart="adult_top", featured=True,
    ),
    P(
        "short-sleeve-chef-coat-mesh-back", "CHF-SS", "chef-wear", "chef_coat_ss", ADULT,
        ("white", "black", "grey"), ((1, 119), (10, 105), (50, 92)),
        "Short-sleeve chef coat with mesh back", "短袖透气网背厨师服",
        "背面メッシュ半袖コックコート",
        "For hot kitchens: short sleeves and a breathable mesh yoke across the back. "
        "190 g/m² poly-cotton front with press studs instead of buttons.\n\n"
        "Made to order, with your restaurant's logo embroidered on the chest on request.",
        "为高温厨房设计：短袖，后背肩部透气网布。前片190克涤棉，四合扣代替纽扣。\n\n"
        "按单生产，可在胸前刺绣餐厅标志。",
        chart="adult_top", lead_time=10,
    ),
    P(
        "chef-trousers-elastic-waist", "CHF-TRS", "chef-wear", "chef_trousers", ADULT,
        ("black", "grey"), ((1, 79), (10, 71), (50, 63), (200, 57)),
        "Chef trousers with elastic waist", "松紧腰厨师裤", "ウエストゴムのコックパンツ",
        "Baggy-cut kitchen trousers in 200 g/m² poly-cotton with an elastic waist and "
        "drawcord, two deep side pockets and a back patch pocket.\n\n"
        "Stain-release finish; washable at 60 °C.",
        "宽松版厨师裤，200克涤棉，松紧腰加抽绳，两个深侧袋一个后贴袋。\n\n易去污处理，可60°C洗涤。",
        chart="adult_trousers", stock="mixed",
    ),
    P(
        "bib-apron-with-pockets", "APR-BIB", "chef-wear", "apron", ONE_SIZE,
        ("black", "navy", "khaki"), ((10, 39), (50, 34), (200, 29), (500, 26)),
        "Bib apron with pockets", "带口袋挂脖围裙", "ポケット付き胸当てエプロン",
        "Heavy 280 g/m² cotton-poly canvas apron with an adjustable neck strap, long waist "
        "ties that fasten at the front, and a divided front pocket for pens and a "
        "thermometer.\n\nFor kitchens and cafés: from 10 pieces, in steps of 5.",
        "280克棉涤帆布，挂脖带可调节，长腰带可在身前系结，前袋分格可放笔和温度计。\n\n"
        "适合厨房与咖啡馆：10件起订，以5件递增。",
        increment=5,
    ),
    P(
        "bistro-waist-apron", "APR-WST", "chef-wear", "waist_apron", ONE_SIZE,
        ("black", "white", "khaki"), ((10, 29), (50, 25), (200, 21)),
        "Bistro waist apron", "半身腰围裙", "ギャルソンエプロン",
        "Knee-length waist apron for front-of-house staff and baristas, in 240 g/m² twill "
        "with a three-section pocket.\n\nMade to order in tens.",
        "及膝半身围裙，适合餐厅前厅与咖啡师，240克斜纹面料，三格口袋。\n\n按单生产，"
        "以10件为单位订购。",
        lead_time=7, increment=10,
    ),
    # --- Lab coats ---
    P(
        "classic-lab-coat", "LAB", "lab-coats", "lab_coat", ADULT,
        ("white",), ((1, 99), (10, 89), (50, 79), (200, 72)),
        "Classic lab coat", "经典白大褂实验服", "白衣（ラボコート）",
        "Knee-length laboratory coat in 190 g/m² poly-cotton twill (65/35) with a "
        "fluid-repellent finish. Notched collar, four press studs, two hip pockets and a "
        "chest pocket with a pen division, back vent and half belt.\n\nWashable at 85 °C.",
        "及膝实验服，190克涤棉斜纹（65/35），防液体喷溅处理。西装翻领，四粒四合扣，两个"
        "下袋及带笔插的胸袋，后开衩加半腰带。\n\n可85°C洗涤。",
        "ポリエステル綿（65/35）190g/m²、撥液加工。ノッチドカラー、スナップ4つ、"
        "腰ポケット2つと胸ポケット付き。85°C洗濯対応。",
        chart="adult_coat",
    ),
    P(
        "student-lab-coat", "LAB-STU", "lab-coats", "lab_coat", KIDS[2:],
        ("white",), ((30, 59), (100, 53), (300, 47)),
        "Student lab coat for school science rooms", "学生实验室白大褂", "生徒用実験白衣",
        "A shorter, lighter lab coat sized for pupils from 130 cm, with elasticated cuffs "
        "that stay clear of Bunsen burners and press studs that pull open fast.\n\n"
        "School orders from 30 pieces, in steps of 10.",
        "适合身高130厘米以上学生的轻便短款实验服，松紧袖口远离酒精灯，四合扣可快速解开。"
        "\n\n学校订单30件起，以10件递增。",
        chart="kids_outer", lead_time=14, increment=10,
    ),
    P(
        "anti-static-esd-lab-coat", "LAB-ESD", "lab-coats", "lab_coat", ADULT,
        ("white", "sky"), ((50, 139), (200, 125), (500, 115)),
        "Anti-static (ESD) lab coat", "防静电实验服", "静電気防止（ESD）白衣",
        "For electronics assembly and work next to cleanrooms: polyester with a conductive "
        "carbon grid (surface resistance 10⁶–10⁹ Ω), knitted cuffs and press studs all the "
        "way down the front.\n\nMade to order from 50 pieces, in steps of 10.",
        "适用于电子装配车间及洁净区周边作业：涤纶内织导电碳丝网格（表面电阻10⁶–10⁹ Ω），"
        "针织袖口，全前襟四合扣。\n\n50件起订，以10件递增，按单生产。",
        chart="adult_coat", lead_time=20, increment=10,
    ),
    # --- Overalls & hi-vis ---
    P(
        "work-coverall-reflective-tape", "COV-REF", "overalls-hi-vis", "overalls_reflective", ADULT,
        ("navy", "orange"), ((10, 159), (50, 145), (200, 129)),
        "Work coverall with reflective tape", "反光条工装连体服", "反射テープ付きつなぎ",
        "One-piece coverall in 245 g/m² poly-cotton twill with 5 cm reflective tape across "
        "the chest, arms and legs. Two-way front zip under a press-stud flap, elasticated "
        "back waist, knee-pad pockets and a rule pocket.\n\n"
        "Made to order from 10 pieces, in steps of 5.",
        "245克涤棉斜纹连体工装，胸部、手臂和腿部有5厘米反光条。双向拉链加按扣门襟，后腰"
        "松紧，膝盖护垫袋及尺袋。\n\n10件起订，以5件递增，按单生产。",
        "ポリエステル綿ツイル（245g/m²）のつなぎ。胸・腕・脚に5cm幅の反射テープ、"
        "ダブルファスナー、ニーパッドポケット付き。",
        chart="adult_coverall", lead_time=18, increment=5,
    ),
    P(
        "cotton-drill-coverall", "COV-DRL", "overalls-hi-vis", "overalls", ADULT,
        ("navy", "khaki", "grey"), ((1, 129), (10, 115), (50, 105), (200, 95)),
        "Cotton drill coverall", "纯棉斜纹工装连体服", "綿ツイルのつなぎ",
        "Breathable 100% cotton drill (270 g/m²) coverall for workshops and maintenance "
        "crews. Shirt collar, brass front zip, two chest pockets with flaps, and a "
        "half-elastic waist for comfort when bending.\n\nWash at 60 °C.",
        "透气纯棉斜纹（270克）连体服，适合车间与维修人员。衬衫领，铜拉链，两个带盖胸袋，"
        "半松紧腰，弯腰更舒适。\n\n60°C洗涤。",
        chart="adult_coverall", stock="mixed",
    ),
    P(
        "hi-vis-safety-vest", "HV-VEST", "overalls-hi-vis", "hivis_vest", ADULT[1:],
        ("yellow", "orange"), ((50, 18), (200, 15), (1000, 12)),
        "Hi-vis safety vest", "高可见反光安全背心", "高視認性安全ベスト",
        "EN ISO 20471 class 2 fluorescent vest with two 5 cm retro-reflective bands and "
        "shoulder braces, and a hook-and-loop front closure. Light 120 g/m² polyester "
        "knit.\n\nSold in bulk: from 50 pieces, in steps of 10.",
        "符合EN ISO 20471二级标准的荧光背心，两道5厘米反光带及肩部反光带，魔术贴前襟。"
        "120克涤纶针织面料，轻便透气。\n\n批量销售：50件起订，以10件递增。",
        "EN ISO 20471クラス2対応の蛍光ベスト。5cm幅の再帰反射テープ、面ファスナー留め。"
        "50枚から10枚単位で。",
        chart="adult_vest", increment=10, featured=True,
    ),
    P(
        "hi-vis-vest-zip-id-pocket", "HV-ZIP", "overalls-hi-vis", "hivis_vest", ADULT,
        ("yellow", "orange"), ((100, 29), (500, 25), (2000, 22)),
        "Hi-vis vest with zip and ID pocket", "拉链款反光背心（带证件袋）",
        "ファスナー付き高視認ベスト（IDポケット付き）",
        "Heavier 140 g/m² bird's-eye polyester vest with a front zip, a clear ID-card "
        "pocket, a pen pocket and two lower pockets. Your company logo can be screen-printed "
        "on the back.\n\nMade to order from 100 pieces, in steps of 50.",
        "140克鸟眼涤纶，前拉链，透明证件袋、笔袋与两个下袋。背后可丝印公司标志。\n\n"
        "100件起订，以50件递增，按单生产。",
        chart="adult_vest", lead_time=12, increment=50,
    ),
    P(
        "work-trousers-knee-pad-pockets", "WRK-TRS", "overalls-hi-vis", "work_trousers", ADULT,
        ("navy", "black", "grey"), ((5, 109), (20, 99), (100, 89)),
        "Work trousers with knee-pad pockets", "带护膝袋工装裤",
        "ニーパッドポケット付きワークパンツ",
        "Tough 280 g/m² poly-cotton canvas trousers with Cordura-reinforced knee-pad "
        "pockets, a rule pocket, a hammer loop and triple-stitched seams.\n\n"
        "Sold from 5 pairs, in steps of 5. Wash at 60 °C.",
        "280克涤棉帆布工装裤，Cordura加固护膝袋，尺袋、锤环，三针缝线。\n\n"
        "5条起订，以5条递增。60°C洗涤。",
        chart="adult_trousers", increment=5, stock="mixed",
    ),
    # --- Ties ---
    P(
        "clip-on-striped-school-tie", "TIE-CLIP", "ties", "tie", ("35 cm", "42 cm"),
        ("navy", "maroon", "green"), ((1, 25), (50, 21), (200, 18)),
        "Clip-on school tie, striped", "免打结条纹校服领带",
        "ワンタッチ式スクールネクタイ（ストライプ）",
        "A pre-tied striped tie on a safety clip that lets go if pulled: recommended for "
        "primary schools. Woven polyester with diagonal stripes.\n\n"
        "35 cm for ages 5–10, 42 cm for 10 and up.",
        "预先打好结的条纹领带，安全夹扣受力即脱开，推荐小学使用。涤纶提花斜条纹。\n\n"
        "35厘米适合5–10岁，42厘米适合10岁以上。",
        "結び目済みのワンタッチ式。強く引っ張ると外れる安全クリップで、小学生に最適です。",
    ),
    P(
        "traditional-long-school-tie", "TIE-LONG", "ties", "tie", ("130 cm", "145 cm"),
        ("navy", "maroon", "green"), ((1, 29), (50, 25), (200, 21)),
        "Traditional long school tie", "传统系结校服领带", "結び下げスクールネクタイ",
        "A full-length tie to knot by hand, in woven polyester with the stripe running down "
        "from the wearer's left shoulder, interlined so the knot sits firm.\n\n"
        "130 cm junior or 145 cm senior length. Your own school stripe can be woven as a "
        "school order.",
        "可自行系结的长款领带，涤纶提花，斜纹从佩戴者左肩向下，内衬使领结挺括。\n\n"
        "130厘米少年款或145厘米成人款。可作为学校订单定制专属条纹。",
        stock="low",
    ),
    P(
        "pre-tied-bow-tie", "TIE-BOW", "ties", "bow_tie", ONE_SIZE,
        ("tartan", "navy"), ((1, 25), (50, 21), (200, 18)),
        "Pre-tied bow tie", "预打结领结", "蝶ネクタイ",
        "A pre-tied bow tie on an adjustable neck band (28–40 cm), in the same tartan as our "
        "pleated skirt or in plain navy: for choirs, ceremonies and school photos.\n\n"
        "Made to order within a week.",
        "预先打好的领结，颈带可调节（28–40厘米），可选与百褶裙同款格纹或纯藏青色，适合"
        "合唱团、典礼和学校拍照。\n\n一周内按单生产。",
        lead_time=7,
    ),
    # --- Socks ---
    P(
        "ankle-school-socks-5-pack", "SOCK-ANK", "socks", "socks", SOCKS,
        ("white", "navy", "grey"), ((1, 39), (20, 35), (100, 31)),
        "Ankle school socks, pack of 5", "校园短袜（5双装）", "スクールソックス（5足組）",
        "Five pairs of combed-cotton socks (80% cotton, 17% polyamide, 3% elastane) with a "
        "cushioned sole, hand-linked flat toe seams and a comfort top that leaves no marks."
        "\n\nWash at 40 °C.",
        "5双装精梳棉袜（80%棉17%锦纶3%氨纶），毛圈袜底，手工对目平缝袜头，袜口宽松不勒。"
        "\n\n40°C水洗。",
        "綿80%のコーマ糸ソックス5足組。パイル底、縫い目の当たらないつま先、跡が残りにくい口ゴム。",
        chart="socks",
    ),
    P(
        "knee-high-school-socks", "SOCK-KNEE", "socks", "socks_knee", SOCKS,
        ("navy", "grey", "white"), ((1, 15), (50, 13), (200, 11)),
        "Knee-high school socks", "校园及膝长袜", "スクールハイソックス",
        "Rib-knit knee socks that stay up all day thanks to a soft elastane top band. "
        "75% cotton, sold per pair.\n\nWash at 40 °C.",
        "罗纹及膝袜，柔软氨纶袜口全天不下滑。75%棉，按双销售。\n\n40°C水洗。",
        chart="socks", stock="mixed",
    ),
    P(
        "cushioned-pe-sports-socks", "SOCK-PE", "socks", "socks", SOCKS,
        ("white",), ((10, 12), (50, 10), (200, 9)),
        "Cushioned PE sports socks", "加厚运动袜", "クッション入りスポーツソックス",
        "Terry-cushioned crew socks for PE and sports days, with arch support and a "
        "reinforced heel and toe.\n\nBought in bulk by schools: from 10 pairs, in steps of 5.",
        "毛圈加厚运动中筒袜，适合体育课和运动会，足弓支撑，后跟与袜头加固。\n\n"
        "学校批量采购：10双起订，以5双递增。",
        chart="socks", increment=5,
    ),
    # --- Caps & hats ---
    P(
        "school-cap-with-crest", "CAP-SCH", "caps-hats", "cap", HATS,
        ("navy", "red", "royal"), ((1, 35), (50, 31), (200, 27)),
        "School cap with crest", "校徽棒球帽", "校章付きスクールキャップ",
        "Six-panel cotton twill cap with an embroidered crest, a pre-curved peak for sun "
        "protection and an adjustable back strap. Bright colours make a class easy to spot "
        "on trips.\n\nHand wash cold.",
        "六片式纯棉斜纹棒球帽，刺绣校徽，预弯帽檐遮阳，后部可调节。颜色醒目，外出郊游时"
        "老师一眼就能找到学生。\n\n冷水手洗。",
        chart="hats", stock="mixed",
    ),
    P(
        "bucket-sun-hat-upf50", "HAT-SUN", "caps-hats", "bucket_hat", HATS,
        ("navy", "khaki", "yellow"), ((1, 39), (50, 34), (200, 29)),
        "Bucket sun hat (UPF 50+)", "防晒渔夫帽（UPF 50+）", "通学用バケットハット（UPF50+）",
        "Wide-brim sun hat in UPF 50+ cotton-poly with a chin cord and quick-release "
        "toggle, ventilation eyelets and a name label in the crown. Folds flat into a "
        "school bag.\n\nWash at 30 °C.",
        "UPF 50+防晒棉涤面料宽檐帽，带下巴绳和快拆扣，透气孔，帽内姓名标。可折叠放入书包。"
        "\n\n30°C洗涤。",
        "UPF50+の綿ポリ素材、あごひも・通気穴付き。帽子の内側に名前ラベル。"
        "たたんでランドセルにも入ります。",
        chart="hats",
    ),
    P(
        "embroidered-logo-work-cap", "CAP-WRK", "caps-hats", "cap", ONE_SIZE,
        ("navy", "black", "khaki"), ((50, 22), (200, 19), (1000, 16)),
        "Embroidered workwear cap (your logo)", "定制刺绣工作帽", "ロゴ刺繍入りワークキャップ",
        "Cotton twill baseball cap with your company logo embroidered on the front (up to "
        "8,000 stitches included) and a metal buckle strap.\n\n"
        "Made to order from 50 pieces, in steps of 10.",
        "纯棉斜纹棒球帽，前片刺绣公司标志（8000针以内免费），金属扣调节带。\n\n"
        "50件起订，以10件递增，按单生产。",
        lead_time=12, increment=10,
    ),
    # --- Bags ---
    P(
        "school-backpack-padded-back", "BAG-PACK", "bags", "backpack", ("18 L", "24 L"),
        ("navy", "black", "royal"), ((1, 169), (20, 155), (100, 139)),
        "School backpack with padded back", "护脊书包", "背面クッション付き通学リュック",
        "Ergonomic school backpack in 600D water-resistant polyester, with an S-shaped "
        "padded back panel and a chest strap that spread the load. Laptop sleeve, "
        "reflective front strip and a name-card window.\n\n"
        "18 L for primary school, 24 L for secondary.",
        "600D防泼水涤纶，人体工学S形护脊背板与胸带分散重量。内设电脑隔层，前片反光条，"
        "姓名卡窗口。\n\n18升适合小学，24升适合中学。",
        "撥水加工の600Dポリエステル。背中にフィットするクッション付き背面とチェスト"
        "ベルトで重さを分散。18Lは小学生、24Lは中高生向け。",
        stock="mixed", featured=True,
    ),
    P(
        "drawstring-pe-bag", "BAG-PE", "bags", "drawstring_bag", ONE_SIZE,
        ("navy", "royal", "red"), ((20, 19), (100, 16), (500, 13)),
        "Drawstring PE bag", "抽绳体育包", "ナップサック（体操服袋）",
        "Light 210D polyester drawstring bag for PE kit and shoes, with reinforced corner "
        "eyelets and a zipped inner pocket.\n\n"
        "Your school logo printed on the front; made to order from 20 pieces, in steps of 10.",
        "210D涤纶抽绳包，可装体育服和运动鞋，四角加固金属扣眼，内有拉链小袋。\n\n"
        "前片印学校标志，20件起订，以10件递增，按单生产。",
        lead_time=10, increment=10,
    ),
]
# fmt: on


# --- derived values ---------------------------------------------------------------------


def size_code(size: str) -> str:
    if size == "One size":
        return "OS"
    return "".join(ch for ch in size if ch.isalnum()).upper().removesuffix("CM")


def variant_sku(spec: ProductSpec, colour: str, size: str) -> str:
    return f"SF-{spec.code}-{COLOUR_CODES[colour]}-{size_code(size)}"


def convert_price(amount_cny: int, currency: str) -> int:
    """Fen to ``currency``'s minor units at the demo rate, on a tidy price point."""
    if currency == "CNY":
        return amount_cny
    scaled = (to_decimal(amount_cny, "CNY") * RATES[currency]).scaleb(exponent(currency))
    for bound, step in PRICE_STEPS[currency]:
        if bound is None or scaled < bound:
            rounded = (scaled / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
            return max(int(rounded), step)
    raise ValueError(f"no price step for {currency}")


def tier_table(spec: ProductSpec) -> dict[str, list[tuple[int, int]]]:
    """Every currency's tiers; a break that rounding makes no cheaper is dropped."""
    cny = [(quantity, from_decimal(Decimal(str(yuan)), "CNY")) for quantity, yuan in spec.tiers]
    table = {"CNY": cny}
    for currency in RATES:
        tiers: list[tuple[int, int]] = []
        for quantity, amount in cny:
            price = convert_price(amount, currency)
            if not tiers or price < tiers[-1][1]:
                tiers.append((quantity, price))
        table[currency] = tiers
    return table


def stock_level(sku: str, profile: str) -> int:
    """A deterministic, varied on-hand quantity for a stocked variant."""
    rng = random.Random(sku)
    roll = rng.random()
    if profile == "out":
        return 0
    if profile == "low":
        if roll < 0.2:
            return 0
        return rng.randint(1, 5) if roll < 0.7 else rng.randint(8, 30)
    if profile == "mixed":
        if roll < 0.18:
            return 0
        if roll < 0.4:
            return rng.randint(1, 6)
        return rng.randint(3, 40) * 5
    if roll < 0.05:
        return rng.randint(1, 4)
    return rng.randint(8, 80) * 5


def image_plan(spec: ProductSpec) -> list[dict]:
    """The pictures of a product: the first colour, then the second colour or a close-up."""
    first = spec.colours[0]
    plan = [{"colour": first, "detail": False, "alt": f"{spec.name} in {COLOUR_WORDS[first]}"}]
    if len(spec.colours) > 1:
        second = spec.colours[1]
        alt = f"{spec.name} in {COLOUR_WORDS[second]}"
        plan.append({"colour": second, "detail": False, "alt": alt})
    else:
        alt = f"Close-up of the {spec.name[0].lower()}{spec.name[1:]} in {COLOUR_WORDS[first]}"
        plan.append({"colour": first, "detail": True, "alt": alt})
    for position, item in enumerate(plan):
        item["position"] = position
        item["path"] = f"products/{spec.slug}-{position + 1}.png"
    return plan


def render(spec: ProductSpec, colour: str, detail: bool, size: int = IMAGE_SIZE):
    pattern = "tartan" if colour == "tartan" else None
    return draw_garment(spec.kind, COLOURS[colour][1], size, pattern=pattern, detail=detail)


# --- seeding --------------------------------------------------------------------------


def seed_categories(session: Session) -> dict[str, Category]:
    existing = {c.slug: c for c in session.scalars(sa.select(Category))}
    positions: dict[str | None, int] = {}
    for spec in CATEGORIES:
        position = positions.get(spec.parent, 0)
        positions[spec.parent] = position + 1
        if spec.slug in existing:
            continue
        category = Category(
            slug=spec.slug,
            name=spec.name,
            name_zh=spec.name_zh,
            name_ja=spec.name_ja,
            parent=existing[spec.parent] if spec.parent else None,
            position=position,
        )
        session.add(category)
        existing[spec.slug] = category
    session.flush()
    return existing


def _add_variants(product: Product, spec: ProductSpec, taken: set[str]) -> int:
    added = 0
    for size_index, size in enumerate(spec.sizes):
        for colour_index, colour in enumerate(spec.colours):
            sku = variant_sku(spec, colour, size)
            if sku in taken:
                continue
            on_hand = 0 if spec.lead_time is not None else stock_level(sku, spec.stock)
            product.variants.append(
                Variant(
                    sku=sku,
                    size=size,
                    colour=colour,
                    position=size_index * len(spec.colours) + colour_index,
                    on_hand=on_hand,
                )
            )
            taken.add(sku)
            added += 1
    return added


def _add_tiers(product: Product, spec: ProductSpec) -> None:
    present = {tier.currency for tier in product.price_tiers}
    for currency, tiers in tier_table(spec).items():
        if currency in present:
            continue
        for quantity, amount in tiers:
            product.price_tiers.append(
                PriceTier(currency=currency, min_quantity=quantity, unit_amount=amount)
            )


def _add_images(product: Product, spec: ProductSpec, storage: Storage, size: int) -> int:
    drawn = 0
    rows = {image.path: image for image in product.images}
    for item in image_plan(spec):
        row = rows.get(item["path"])
        if row is not None and storage.exists(row.path):
            if not storage.exists(thumbnail_path(row.path)):  # seeded before thumbnails
                save_derived_sizes(storage, row.path)
            continue
        image = render(spec, item["colour"], item["detail"], size)
        width, height = save_product_image(storage, item["path"], image)
        save_derived_sizes(storage, item["path"])
        drawn += 1
        if row is None:
            product.images.append(
                ProductImage(
                    path=item["path"],
                    alt_text=item["alt"],
                    width=width,
                    height=height,
                    position=item["position"],
                )
            )
    return drawn


def seed_demo(session: Session, storage: Storage, *, image_size: int = IMAGE_SIZE) -> str:
    """Load the demo catalogue; returns a one-line report. Flushes, never commits.
    ``image_size`` (pixels square) is for tests that want to draw small and fast."""
    _check_tables()
    categories = seed_categories(session)
    slugs = [spec.slug for spec in PRODUCTS]
    existing = {
        product.slug: product
        for product in session.scalars(
            sa.select(Product)
            .where(Product.slug.in_(slugs))
            .options(
                selectinload(Product.variants),
                selectinload(Product.price_tiers),
                selectinload(Product.images),
            )
        )
    }
    taken = set(session.scalars(sa.select(Variant.sku)))
    now = utcnow()
    created = variants_added = drawn = 0
    for spec in PRODUCTS:
        product = existing.get(spec.slug)
        if product is None:
            product = _new_product(spec, categories[spec.category], now)
            session.add(product)
            created += 1
        added = _add_variants(product, spec, taken)
        variants_added += added
        if added:
            refresh_search_text(product)
        _add_tiers(product, spec)
        drawn += _add_images(product, spec, storage, image_size)
    session.flush()

    counts = {
        model: session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Category, Product, Variant, ProductImage)
    }
    return (
        f"Demo catalogue: {_plural(counts[Category], 'category', 'categories')}, "
        f"{_plural(counts[Product], 'product')}, {_plural(counts[Variant], 'variant')}, "
        f"{_plural(counts[ProductImage], 'image')} (created {_plural(created, 'product')}, "
        f"{len(PRODUCTS) - created} already present; added {_plural(variants_added, 'variant')}; "
        f"drew {_plural(drawn, 'image')})."
    )


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _new_product(spec: ProductSpec, category: Category, now) -> Product:
    rng = random.Random(spec.slug)
    return Product(
        slug=spec.slug,
        name=spec.name,
        name_zh=spec.name_zh,
        name_ja=spec.name_ja,
        description=spec.description,
        description_zh=spec.description_zh,
        description_ja=spec.description_ja,
        category=category,
        made_to_order=spec.lead_time is not None,
        lead_time_days=spec.lead_time,
        min_order_quantity=spec.tiers[0][0],
        order_increment=spec.increment,
        size_chart=size_chart(spec.chart, spec.sizes),
        featured=spec.featured,
        active=True,
        created_at=now - timedelta(days=rng.randint(1, 150), minutes=rng.randint(0, 1439)),
    )


def _check_tables() -> None:
    """The tables are data: fail loudly on a typo rather than seed something odd."""
    category_slugs = {c.slug for c in CATEGORIES}
    seen_slugs: set[str] = set()
    seen_skus: set[str] = set()
    for spec in PRODUCTS:
        quantities = [q for q, _ in spec.tiers]
        prices = [Decimal(str(p)) for _, p in spec.tiers]
        skus = [variant_sku(spec, c, s) for c in spec.colours for s in spec.sizes]
        problems = [
            (spec.slug in seen_slugs, "duplicate slug"),
            (spec.category not in category_slugs, "unknown category"),
            (any(c not in COLOURS for c in spec.colours), "unknown colour"),
            (quantities != sorted(set(quantities)), "tier quantities not increasing"),
            (prices != sorted(prices, reverse=True), "tier prices increasing"),
            (any(q % spec.increment for q in quantities), "tier not a multiple of increment"),
            (len(set(skus)) != len(skus) or seen_skus.intersection(skus), "duplicate SKU"),
        ]
        for failed, problem in problems:
            if failed:
                raise ValueError(f"demo product {spec.slug}: {problem}")
        seen_slugs.add(spec.slug)
        seen_skus.update(skus)
