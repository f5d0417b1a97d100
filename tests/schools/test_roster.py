"""Roster previews: every student's lines, and every problem by row and column."""

import pytest

from shop.schools.roster import build_preview, decode, load_catalogue, template_header
from tests.factories import make_product
from tests.school_factories import add_item, make_school

CHART = {
    "columns": ["Size", "Height (cm)", "Chest (cm)"],
    "rows": [["120", "115-125", "62"], ["130", "125-135", "66"], ["140", "135-145", "70"]],
}
HEADER = "student,class,grade,gender,height,polo,skirt,blazer"


@pytest.fixture
def school(session):
    school = make_school(session, slug="hillside", grades=("1", "2", "3"))
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        sizes=("120", "130", "140"),
        colours=("navy", "white"),
        size_chart=CHART,
        tiers=((1, 8900), (50, 7900)),
    )
    skirt = make_product(session, slug="skirt", name="Pleated skirt", sizes=("130", "140"))
    blazer = make_product(session, slug="blazer", name="Blazer", sizes=("130", "140"))
    add_item(session, school, polo, position=1, quantity_per_child=2)
    add_item(session, school, skirt, position=2, gender="girls")
    add_item(session, school, blazer, position=3, required=False, school_price_amount=20000)
    session.commit()
    return school


def preview(session, school, text):
    return build_preview(session, school, text)


def problems(result):
    return [(p.row, p.column) for p in result.problems]


def variant_of(session, school, slug, size, colour):
    entry = load_catalogue(session, school).items[slug]
    return next(v for v in entry.variants_by_size[size.casefold()] if v.colour == colour)


def test_a_clean_roster_lists_every_students_lines(session, school):
    text = f"{HEADER}\nAnn Lee,1A,1,girls,,130,130,\nBo Wang,1A,1,boys,,140/white,,140\n"

    result = preview(session, school, text)

    assert result.problems == []
    assert result.ok
    ann, bo = result.students
    assert (ann.row, ann.name, ann.class_name, ann.grade, ann.gender) == (
        2,
        "Ann Lee",
        "1A",
        "1",
        "girls",
    )
    assert [(line.product_slug, line.size, line.colour, line.quantity) for line in ann.lines] == [
        ("polo", "130", "navy", 2),  # the first colour when none is given; 2 per child
        ("skirt", "130", "navy", 1),
    ]
    assert [(line.product_slug, line.size, line.colour, line.quantity) for line in bo.lines] == [
        ("polo", "140", "white", 2),
        ("blazer", "140", "navy", 1),
    ]
    assert bo.lines[0].variant_id == variant_of(session, school, "polo", "140", "white").id
    assert result.line_count == 4
    assert result.pieces == 6
    # 4 polos at the first tier, 1 skirt, 1 blazer at the school's price
    assert result.estimated_total_amount == 4 * 8900 + 8900 + 20000


def test_the_quantity_column_overrides_the_suggested_quantity(session, school):
    text = "student,class,grade,gender,polo,polo:qty\nBo Wang,1A,1,boys,130,3\n"

    result = preview(session, school, text)

    assert result.ok
    assert [line.quantity for line in result.students[0].lines] == [3]


def test_a_height_picks_the_size_for_auto_and_for_empty_required_items(session, school):
    text = f"{HEADER}\nAnn Lee,1A,1,girls,127,auto,140,\n"

    result = preview(session, school, text)

    assert result.ok, result.problems
    polo = result.students[0].lines[0]
    # 127 cm + 5 cm to grow = 132: the 130 (up to 135) fits
    assert (polo.size, polo.auto_sized) == ("130", True)
    assert result.students[0].lines[1].auto_sized is False


def test_an_unknown_item_column_is_a_problem_on_the_header(session, school):
    result = preview(session, school, "student,class,grade,gender,hat\nAnn,1A,1,boys\n")

    assert (1, "hat") in problems(result)
    assert not result.ok


def test_a_size_the_product_does_not_come_in_is_a_problem(session, school):
    text = f"{HEADER}\nAnn Lee,1A,1,girls,,150,130,\nBo Wang,1A,1,boys,,130/red,,\n"

    result = preview(session, school, text)

    assert problems(result) == [(2, "polo"), (3, "polo")]
    assert "120, 130, 140" in result.problems[0].message


def test_a_missing_required_item_is_a_problem(session, school):
    # Ann (a girl) needs a skirt; Bo (a boy) does not; the blazer is optional.
    text = f"{HEADER}\nAnn Lee,1A,1,girls,,130,,\nBo Wang,1A,1,boys,,130,,\n"

    result = preview(session, school, text)

    assert problems(result) == [(2, "skirt")]


def test_a_missing_item_column_counts_as_empty(session, school):
    result = preview(session, school, "student,class,grade,gender\nBo Wang,1A,1,boys\n")

    assert problems(result) == [(2, "polo")]


def test_bad_numbers_are_problems(session, school):
    text = (
        "student,class,grade,gender,height,polo,polo:qty\n"
        "Ann,1A,1,boys,tall,130,\n"
        "Bo,1A,1,boys,300,130,\n"
        "Cy,1A,1,boys,,130,two\n"
        "Di,1A,1,boys,,130,0\n"
    )

    result = preview(session, school, text)

    assert problems(result) == [
        (2, "height"),
        (3, "height"),
        (4, "polo:qty"),
        (5, "polo:qty"),
    ]


def test_missing_names_classes_and_unknown_grades_and_genders_are_problems(session, school):
    text = (
        "student,class,grade,gender,polo\n"
        ",1A,1,boys,130\n"
        "Bo,,1,boys,130\n"
        "Cy,1A,9,boys,130\n"
        "Di,1A,1,robot,130\n"
        "Ed,1A,,boys,130\n"
    )

    result = preview(session, school, text)

    assert problems(result) == [
        (2, "student"),
        (3, "class"),
        (4, "grade"),
        (5, "gender"),
        (6, "grade"),
    ]
    # rows without a name or class are not students
    assert [student.name for student in result.students] == ["Cy", "Di", "Ed"]


def test_a_student_twice_in_the_same_class_is_a_problem(session, school):
    text = (
        "student,class,grade,gender,polo\n"
        "Ann Lee,1A,1,boys,130\n"
        "ann  lee,1B,1,boys,130\n"
        "ANN LEE,1a,1,boys,130\n"
    )

    result = preview(session, school, text)

    assert problems(result) == [(4, "student")]
    assert "row 2" in result.problems[0].message


def test_missing_student_or_class_columns_stop_the_preview(session, school):
    result = preview(session, school, "name,grade\nAnn,1\n")

    assert problems(result) == [(1, "name"), (1, "student"), (1, "class")]
    assert result.students == []


def test_an_empty_roster_is_a_problem(session, school):
    assert problems(preview(session, school, "")) == [(1, "")]
    assert problems(preview(session, school, f"{HEADER}\n,,,,,,,\n")) == [(1, "")]


def test_a_byte_order_mark_and_tabs_are_read(session, school):
    rows = HEADER.replace(",", "\t") + "\nAnn Lee\t1A\t1\tgirls\t\t130\t130\t\n"
    data = ("\ufeff" + rows).encode()

    text = decode(data)
    result = preview(session, school, text)

    assert result.ok, result.problems
    assert [line.product_slug for line in result.students[0].lines] == ["polo", "skirt"]


def test_text_that_is_not_utf8_is_refused():
    assert decode("Ann,1A".encode("utf-16")) is None
    assert decode("Wang,三年级".encode("gb18030")) is None


def test_headers_and_values_ignore_case_and_spaces(session, school):
    text = " Student , CLASS ,Grade,Gender, POLO \n Ann Lee , 1A ,1, Boy , 130/WHITE \n"

    result = preview(session, school, text)

    assert result.ok, result.problems
    assert result.students[0].gender == "boys"
    assert result.students[0].lines[0].colour == "white"


def test_the_template_header_lists_the_schools_items(session, school):
    assert template_header(load_catalogue(session, school)) == [
        "student",
        "class",
        "grade",
        "gender",
        "height",
        "polo",
        "skirt",
        "blazer",
        "polo:qty",
        "skirt:qty",
        "blazer:qty",
    ]


def test_two_thousand_students_preview_in_a_bounded_number_of_queries(app, session, school):
    from tests.helpers.queries import recording_queries

    rows = [HEADER]
    for number in range(2000):
        gender = "girls" if number % 2 else "boys"
        skirt = "140" if gender == "girls" else ""
        rows.append(f"Student {number},{number % 40}A,{number % 3 + 1},{gender},,130,{skirt},")
    text = "\n".join(rows)

    with recording_queries(app) as statements:
        result = build_preview(session, school, text)

    assert result.problems == []
    assert len(result.students) == 2000
    assert result.line_count == 3000  # a polo each, a skirt for each of the 1,000 girls
    assert result.pieces == 2000 * 2 + 1000
    assert len(statements) <= 3
