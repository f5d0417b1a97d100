"""Rosters written in Chinese or Japanese: headers, genders, "auto", quantity columns,
items by their translated names and colours by their names in the school's language;
the template and its example rows in the school's language, sized by the size finder."""

import pytest

from shop.catalog.colours import colour_key
from shop.schools.roster import (
    build_preview,
    example_rows,
    load_catalogue,
    template_header,
)
from tests.factories import make_product
from tests.school_factories import add_item, make_school

CHART = {
    "columns": ["Size", "Height (cm)"],
    "rows": [["110", "105-115"], ["130", "125-135"], ["140", "135-145"], ["150", "145-155"]],
}


@pytest.fixture
def school(session):
    school = make_school(session, slug="hillside", grades=("1", "2"))
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        name_zh="夏季Polo衫",
        name_ja="半袖ポロシャツ",
        sizes=("110", "130", "140", "150"),
        colours=("white", "navy"),
        size_chart=CHART,
        on_hand=50,
    )
    skirt = make_product(
        session, slug="skirt", name="Skirt", name_zh="百褶裙", sizes=("140", "150"), on_hand=50
    )
    add_item(session, school, polo, position=1)
    add_item(session, school, skirt, position=2, gender="girls", required=False)
    session.commit()
    return school


def read(session, school, text):
    return build_preview(session, school, text)


def summary(result):
    return [
        (
            s.name,
            s.class_name,
            s.grade,
            s.gender,
            [(n.product_slug, n.size, n.colour, n.quantity, n.auto_sized) for n in s.lines],
        )
        for s in result.students
    ]


def test_chinese_headers_and_keywords(session, school):
    text = (
        "学生姓名,班级,年级,性别,身高,polo,百褶裙,polo:数量\n"
        "王小明,3班,1,男,138,自动,,2\n"
        "李娜,3班,1,女,142,140/白色,150/藏青,\n"
    )

    result = read(session, school, text)

    assert result.problems == []
    assert summary(result) == [
        ("王小明", "3班", "1", "boys", [("polo", "140", "white", 2, True)]),
        (
            "李娜",
            "3班",
            "1",
            "girls",
            [("polo", "140", "white", 1, False), ("skirt", "150", "navy", 1, False)],
        ),
    ]


def test_japanese_headers_and_keywords(session, school):
    text = (
        "氏名,クラス,学年,性別,身長,半袖ポロシャツ,skirt,polo:枚数\n"
        "山田太郎,3組,2,男子,138cm,自動,,3\n"
        "佐藤花子,3組,2,女子,１４２,１４０／ホワイト,150/紺,\n"
    )

    result = read(session, school, text)

    assert result.problems == []
    assert summary(result) == [
        ("山田太郎", "3組", "2", "boys", [("polo", "140", "white", 3, True)]),
        (
            "佐藤花子",
            "3組",
            "2",
            "girls",
            [("polo", "140", "white", 1, False), ("skirt", "150", "navy", 1, False)],
        ),
    ]


@pytest.mark.parametrize(
    ("student", "klass", "gender", "height"),
    [
        ("学生", "班", "性別", "身長"),
        ("姓名", "班級", "性别", "身高"),
        ("生徒", "組", "性別", "身長"),
        ("名前", "クラス", "性別", "身長"),
        ("STUDENT", "Class", "gender", "height"),
    ],
)
def test_each_column_has_its_chinese_and_japanese_names(
    session, school, student, klass, gender, height
):
    text = f"{student},{klass},年级,{gender},{height},polo\nAnn,1A,1,女,130,auto\n"

    result = read(session, school, text)

    assert result.problems == [] and summary(result)[0][3] == "girls"


def test_a_column_named_twice_in_two_languages_is_a_problem(session, school):
    result = read(session, school, "student,学生,班级,学年,polo\nAnn,Ann,1A,1,130\n")

    assert [(p.row, p.column) for p in result.problems] == [(1, "学生")]


def test_a_colour_name_that_is_no_colour_of_the_item_is_a_problem(session, school):
    result = read(session, school, "学生,班级,年级,polo\n王小明,1班,1,130/红色\n")

    assert [(p.row, p.column) for p in result.problems] == [(2, "polo")]


def test_colour_names_in_every_language_mean_the_same_colour():
    assert {colour_key(n) for n in ("navy", "Navy", "藏青色", "藏青", "ネイビー", "紺")} == {"navy"}
    assert colour_key("白") == colour_key("ホワイト") == "white"
    assert colour_key("purple") is None


@pytest.mark.parametrize(
    ("country", "language"), [("CN", "zh_CN"), ("JP", "ja"), ("SG", "en"), ("US", "en")]
)
def test_the_schools_language_comes_from_its_country(session, country, language):
    assert make_school(session, country=country).locale == language


def test_the_template_is_in_the_schools_language(session, school):
    catalogue = load_catalogue(session, school)

    assert template_header(catalogue, "zh_CN") == [
        "学生",
        "班级",
        "年级",
        "性别",
        "身高",
        "polo",
        "skirt",
        "polo:数量",
        "skirt:数量",
    ]
    assert template_header(catalogue, "ja")[:5] == ["氏名", "クラス", "学年", "性別", "身長"]
    assert template_header(catalogue, "en")[:5] == ["student", "class", "grade", "gender", "height"]


@pytest.mark.parametrize("language", ["en", "zh_CN", "ja"])
def test_the_example_rows_fit_their_heights_and_read_back_cleanly(session, school, language):
    catalogue = load_catalogue(session, school)
    header = template_header(catalogue, language)
    rows = example_rows(catalogue, language)

    # 138 cm + 5 cm to grow: 140 (never the first size, 110); the girl's items are "auto"
    assert rows[0][4:8] == ["138", "140", "", "2"]
    assert rows[1][5] in ("auto", "自动", "自動") and rows[1][6] == "150"
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    result = read(session, school, text)
    assert result.problems == [] and result.ok
    assert [[line.size for line in s.lines] for s in result.students] == [["140"], ["150", "150"]]
