"""Carriers the factory ships with, and the tracking link for a parcel.

The link is built from a per-carrier URL template; a carrier without one ("other") shows
its name and the tracking number as plain text.
"""

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Carrier:
    key: str
    name: str
    url_template: str | None


CARRIERS = {
    carrier.key: carrier
    for carrier in (
        Carrier(
            "sf_express",
            "SF Express 顺丰速运",
            "https://www.sf-express.com/chn/en/waybill/waybill-detail/{number}",
        ),
        Carrier(
            "china_post", "China Post / EMS", "https://www.ems.com.cn/queryList?mailNum={number}"
        ),
        Carrier(
            "yamato",
            "Yamato Transport ヤマト運輸",
            "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number01={number}",
        ),
        Carrier(
            "japan_post",
            "Japan Post 日本郵便",
            "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}",
        ),
        Carrier("singpost", "SingPost", "https://www.singpost.com/track-items?trackingid={number}"),
        Carrier(
            "dhl",
            "DHL Express",
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
            "?submit=1&tracking-id={number}",
        ),
        Carrier("other", "Other", None),
    )
}


def carrier_name(key: str, custom_name: str = "") -> str:
    if key == "other" and custom_name:
        return custom_name
    carrier = CARRIERS.get(key)
    return carrier.name if carrier else custom_name or key


def tracking_url(key: str, number: str) -> str | None:
    carrier = CARRIERS.get(key)
    if carrier is None or carrier.url_template is None or not number:
        return None
    return carrier.url_template.format(number=quote(number.strip(), safe=""))
