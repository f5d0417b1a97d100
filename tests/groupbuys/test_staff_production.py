"""The production queue shows a group buy's orders as one group, named "Group buy <code> ·
<title>", apart from a school's orders and everyone else's."""

from zoneinfo import ZoneInfo

from shop.orders import production
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.order_factories import make_order
from tests.school_factories import make_school


def test_a_campaigns_orders_are_one_group(client, session, sign_in):
    polo = make_product(session, slug="gb-polo")
    campaign = make_campaign(session, [polo], code="POLO3B22", title="Class 3B polos")
    school = make_school(session, name="Xixi Primary")
    for quantity in (2, 3):
        make_order(
            session,
            lines=(("POLO-130", quantity, 4300),),
            made_to_order=True,
            campaign_id=campaign.id,
            school_id=school.id,  # a school's campaign is still the campaign's group
        )
    make_order(session, lines=(("POLO-130", 4, 4900),), made_to_order=True, school_id=school.id)
    make_order(session, lines=(("POLO-130", 1, 4900),), made_to_order=True)
    session.commit()

    groups = production.list_queue(session, ZoneInfo("Asia/Shanghai"))
    assert [(g.kind, g.group, g.quantity) for g in groups] == [
        ("", "", 1),
        ("school", "Xixi Primary", 4),
        ("campaign", "POLO3B22 · Class 3B polos", 5),
    ]

    sign_in("workshop")
    page = client.get("/admin/production").text
    assert "Group buy POLO3B22 · Class 3B polos" in page
    assert 'data-kind="campaign"' in page
