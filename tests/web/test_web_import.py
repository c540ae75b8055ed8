"""The board's CSV import: a row-by-row preview that writes nothing, then all rows or none."""

from __future__ import annotations

import re
from html import unescape

from web_site import Site, TestClient, csrf_of

HEADER = "donor,item_id,quantity,available_from,location,note\n"
GOOD = "DE,155-he,40,2026-05-01,Gdansk,first\nDE,152-he,8,2026-05-02,Rzeszow hub,second\n"


def _preview(client: TestClient, kind: str, text: str) -> tuple[int, str]:
    form = client.get(f"/ui/board/{kind}/import")
    assert form.status_code == 200, form.text
    r = client.post(
        f"/ui/board/{kind}/import",
        data={"csrf": csrf_of(form.text), "step": "preview"},
        files={"file": (f"{kind}.csv", text.encode(), "text/csv")},
    )
    return r.status_code, r.text


def _rows(html: str) -> list[tuple[str, str]]:
    """(line, verdict) of each row of the preview's table."""
    return re.findall(r'<tr class="row-(ok|bad)"><th scope="row">(\d+)</th>', html)


def _counts(site: Site) -> tuple[int, int]:
    pledges = site.api("observer", "GET", "/pledges")
    audit = site.api("coordinator", "GET", "/audit")
    return len(pledges), len(audit)


def test_a_good_file_is_previewed_row_by_row_then_written_on_confirm(site: Site) -> None:
    client = site.signed_in("donor")
    assert 'id="import"' in client.get("/ui/board/pledges").text
    before = _counts(site)
    status, html = _preview(client, "pledges", HEADER + GOOD)
    assert status == 200
    assert _rows(html) == [("ok", "2"), ("ok", "3")]
    assert "importing will make 2 new, change 0 and leave 0 unchanged" in html
    assert html.count("<td>new pledge</td>") == 2 and "Rzeszow hub" in html
    assert _counts(site) == before  # a preview writes nothing, not even the audit log
    text = re.search(r'name="text" value="([^"]*)"', html)
    assert text
    r = client.post(
        "/ui/board/pledges/import",
        data={
            "csrf": csrf_of(html),
            "step": "confirm",
            "text": unescape(text.group(1)),
        },
    )
    assert r.status_code == 200 and "Imported: 2 new, 0 changed, 0 unchanged" in r.text
    after = site.api("observer", "GET", "/pledges")
    assert len(after) == before[0] + 2
    assert {p["note"] for p in after} >= {"first", "second"}


def test_rows_with_problems_are_shown_in_place_and_nothing_can_be_confirmed(site: Site) -> None:
    client = site.signed_in("donor")
    before = _counts(site)
    text = HEADER + GOOD + "DE,155-he,ten,2026-05-01,Gdansk,\nDE,nope,5,2026-13-01,Gdansk,\n"
    status, html = _preview(client, "pledges", text)
    assert status == 422
    assert _rows(html) == [("ok", "2"), ("ok", "3"), ("bad", "4"), ("bad", "5")]
    bad = html.split('<th scope="row">4</th>', 1)[1].split("</tr>", 1)[0]
    assert "quantity" in bad and "✗ refused" in bad
    fifth = html.split('<th scope="row">5</th>', 1)[1].split("</tr>", 1)[0]
    assert "available_from" in fifth
    assert "2 of 4 rows have problems" in html
    assert 'id="confirm"' not in html
    assert _counts(site) == before


def test_a_file_that_is_not_as_expected_says_so_for_the_whole_file(site: Site) -> None:
    client = site.signed_in("donor")
    status, html = _preview(client, "pledges", "donor,item,quantity\nDE,155-he,3\n")
    assert status == 422 and "unknown column(s) &#39;item&#39;" in html
    assert 'id="general"' in html and 'id="confirm"' not in html


def test_a_change_made_meanwhile_is_caught_at_confirm_and_nothing_is_written(site: Site) -> None:
    client = site.signed_in("donor")
    pid = site.ids["p155"]
    text = f"id,quantity,version\n{pid},90,1\n"
    status, html = _preview(client, "pledges", text)
    assert status == 200 and f"change pledge {pid}" in html and "change 1" in html
    # Someone else changes the pledge before the donor confirms.
    site.api("donor", "PATCH", f"/pledges/{pid}", json={"quantity": 70, "version": 1})
    r = client.post(
        "/ui/board/pledges/import",
        data={"csrf": csrf_of(html), "step": "confirm", "text": text},
    )
    assert r.status_code == 409 and 'id="stale"' in r.text
    assert _rows(r.text) == [("bad", "2")]
    assert site.api("observer", "GET", f"/pledges/{pid}")["quantity"] == 70


def test_only_the_records_owners_import(site: Site) -> None:
    for user, kind, allowed in (
        ("donor", "requirements", False),
        ("partner", "requirements", True),
        ("partner", "pledges", False),
        ("coordinator", "pledges", False),
        ("analyst", "pledges", False),
    ):
        client = site.signed_in(user)
        assert client.get(f"/ui/board/{kind}/import").status_code == (200 if allowed else 403)
        csrf = csrf_of(client.get("/ui/").text)
        r = client.post(
            f"/ui/board/{kind}/import",
            data={"csrf": csrf, "step": "confirm", "text": HEADER + GOOD},
        )
        assert (r.status_code == 403) == (not allowed), (user, kind, r.status_code)
    # A partner's requirement rows, previewed and confirmed.
    client = site.signed_in("partner")
    text = "partner,item_id,quantity,priority,needed_by,location\nUA,155-he,5,2,2026-06-01,Lviv\n"
    status, html = _preview(client, "requirements", text)
    assert status == 200 and _rows(html) == [("ok", "2")]
    r = client.post(
        "/ui/board/requirements/import",
        data={"csrf": csrf_of(html), "step": "confirm", "text": text},
    )
    assert "Imported: 1 new" in r.text
    # Another nation's rows are refused in place.
    status, html = _preview(client, "requirements", text.replace("UA,", "MD,"))
    assert status == 403 and _rows(html) == [("bad", "2")]
