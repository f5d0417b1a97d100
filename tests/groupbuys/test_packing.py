"""The packing list of a pick-up campaign: one bag per participant, by bag number, with
their first name and sizes, colours and quantities; printable; for the leader and the
staff who pack, nobody else."""

import re

from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.leader_helpers import joined


def test_the_packing_list_shows_each_bag(client, session):
    polo = make_product(
        session, slug="gb-polo", sizes=("120", "130"), made_to_order=True, lead_time_days=14
    )
    leader = make_user(session, email="li@example.com")
    campaign = make_campaign(session, [polo], leader=leader, min_pieces=2)
    session.commit()
    small, medium = polo.variants
    joined(session, campaign, {small.id: 2, medium.id: 1}, 1, name="Wang Fang")
    joined(session, campaign, {medium.id: 4}, 2, name="Chen Jie", email="chen@example.com")
    gone = joined(session, campaign, {small.id: 1}, 3, name="Zhou Min")
    gone.state = "left"
    session.commit()

    login(client, email="li@example.com")
    page = client.get(f"/account/campaigns/{campaign.code}/packing").text
    bags = re.findall(r'data-testid="packing-bag" data-bag="(\d+)"', page)
    assert bags == ["1", "2"]  # who left has no bag
    first = page.split('data-bag="1"')[1].split('data-bag="2"')[0]
    assert "#1" in first and "Wang" in first and "Fang" not in first
    rows = re.findall(r"<td>([^<]*)</td><td>([^<]*)</td><td>[^<]*</td><td[^>]*>(\d+)</td>", first)
    assert [(size, qty) for _name, size, qty in rows] == [("120", "2"), ("130", "1")]
    assert "chen@example.com" not in page and "Zhou" not in page
    assert 'class="no-print"' in page  # the link back is not printed


def test_an_empty_packing_list_says_so(client, session):
    polo = make_product(session, slug="gb-polo-2")
    leader = make_user(session, email="li@example.com")
    campaign = make_campaign(session, [polo], leader=leader)
    session.commit()
    login(client, email="li@example.com")
    assert (
        'data-testid="packing-empty"'
        in client.get(f"/account/campaigns/{campaign.code}/packing").text
    )
