"""Reading and posting the lab's action pages in tests: what a page offers, the errors beside its fields."""

import re

NOT_NOW = "This cannot be done now."


def said(response) -> list[str]:
    """The errors and callouts a page shows, to tell why a test failed."""
    main = response.content.decode().split('<main id="main"', 1)[-1]
    return re.findall(r'class="(?:error|callout[^"]*)"[^>]*>(.*?)</', main, re.S)


def page(client, user, path: str, status: int = 200) -> str:
    """PATH read by USER, answering STATUS; its body."""
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, said(response))
    return response.content.decode()


def submit(client, user, path: str, data: dict, status: int = 302):
    """DATA posted to PATH by USER, answering STATUS."""
    client.force_login(user)
    response = client.post(path, data)
    assert response.status_code == status, (path, response.status_code, said(response))
    return response


def field_error(body: str, field: str) -> str:
    """The error shown beside the input named FIELD, or ""."""
    match = re.search(
        rf'<div class="field field-invalid">\s*<label for="id_{field}">.*?<p class="error"[^>]*>(.*?)</p>',
        body,
        re.S,
    )
    return match.group(1) if match else ""


def offered(body: str) -> list[str]:
    """The labels of the actions a detail page offers, in order."""
    area = re.search(r'<ul class="lab-actions" aria-label="Actions">(.*?)</ul>', body, re.S)
    return re.findall(r'<a class="btn[^"]*" href="[^"]*">([^<]+)</a>', area.group(1)) if area else []


def offered_links(body: str) -> dict[str, str]:
    """Each action a detail page offers: its label and address."""
    area = re.search(r'<ul class="lab-actions" aria-label="Actions">(.*?)</ul>', body, re.S)
    found = re.findall(r'<a class="btn[^"]*" href="([^"]*)">([^<]+)</a>', area.group(1)) if area else []
    return {label: href.replace("&amp;", "&") for href, label in found}


def href_of(body: str, label: str) -> str:
    """The address of the action labelled LABEL on a detail page."""
    return offered_links(body)[label]


def notes(body: str) -> list[str]:
    """What a detail page says about actions held back."""
    area = re.search(
        r'<div class="callout callout-warn lab-action-notes" role="note">(.*?)</div>', body, re.S
    )
    return re.findall(r"<p>(.*?)</p>", area.group(1)) if area else []
