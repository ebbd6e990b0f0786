"""`recall ui` in a real browser: Debian's headless Chromium driven by Selenium, on both
backends with their index and cache. Browse a project, search, forget a memory and see it
gone from the next search and the next session-start block, pin one, open a session; hostile
transcript text is shown as text; nothing is served without the token or to another host
name. Screenshots go to ``$RECALL_SCREENSHOTS`` when set (the closing note shows them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.memories import save_in_process
from tests.integration.test_forget import PROJECT, SESSION_A, SESSION_B, WRONG, text_of, turn
from tests.integration.workers import settings_env
from tests.support import require

pytestmark = pytest.mark.timeout(300)
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
LINK = "https://github.com/acme/ledger/pull/7"
PULL_REQUEST = turn(
    0,
    "Open a pull request for the ledger lock",
    "Opened it.\n\n**Next steps:**\n- Ask Dana to review the lock",
    'gh pr create --title "Ledger lock"',
    LINK,
)
PULL_REQUEST[-1:-1] = [  # before its answer, it edits a file it never commits
    {
        "type": "assistant",
        "uuid": "e0",
        "timestamp": "2026-11-20T10:00:30Z",
        "message": {
            "id": "me0",
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "edit0",
                    "name": "Edit",
                    "input": {
                        "file_path": "ledger/lock.py",
                        "old_string": "TIMEOUT = 5",
                        "new_string": "TIMEOUT = 30",
                    },
                }
            ],
        },
    },
    {
        "type": "user",
        "uuid": "f0",
        "timestamp": "2026-11-20T10:00:31Z",
        "message": {
            "role": "user",
            "content": [{"tool_use_id": "edit0", "type": "tool_result", "content": "Updated."}],
        },
    },
]
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


@pytest.fixture
def ui(kept, tmp_path) -> Iterator[tuple[str, object]]:
    """`recall ui` over a project with four sessions, one holding hostile HTML, one a pull
    request; its address and its settings."""
    save_in_process(kept, PROJECT, "sp", text_of(PULL_REQUEST))  # the oldest
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    hostile = turn(9, f"Render this banner: {HOSTILE}", f"The banner {HOSTILE} is escaped now.")
    save_in_process(kept, PROJECT, "sh", text_of(hostile))
    process = subprocess.Popen(
        [sys.executable, "-m", "contextrecall.launcher", "ui", "--no-open"],
        env=settings_env(kept),
        stdout=subprocess.PIPE,
        stderr=open(tmp_path / "ui.log", "w"),  # noqa: SIM115
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        assert found, (line, (tmp_path / "ui.log").read_text())
        yield found.group(0), kept
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def browser(tmp_path) -> Iterator[object]:
    require(bool(CHROMIUM and DRIVER), "Debian's chromium and chromium-driver")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    folder = os.environ.get("RECALL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def go(driver, element, action: str = "click") -> None:
    """Click (or submit) ``element`` and wait until the next page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    getattr(element, action)()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(page))


def texts(driver, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def test_browse_search_forget_pin_and_open_a_session(ui, browser):
    from selenium.webdriver.common.by import By

    address, settings = ui
    browser.get(address)
    assert "token=" not in browser.current_url  # traded for a cookie
    shot(browser, "projects")
    assert PROJECT["name"] in texts(browser, "a.project-link")
    assert "queue" in browser.find_element(By.CSS_SELECTOR, "pre.status").text
    go(browser, browser.find_element(By.LINK_TEXT, PROJECT["name"]))
    start = browser.find_element(By.CSS_SELECTOR, "pre.session-start").text
    assert "Stripe sandbox" in start or "checkout" in start
    assert len(texts(browser, ".session")) == 4
    assert all("Claude Code" in text for text in texts(browser, ".session"))  # its agent

    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys("why does the checkout test flake stripe sandbox")
    go(browser, box, "submit")
    assert WRONG in browser.find_element(By.CSS_SELECTOR, "pre.prompt-block").text
    shot(browser, "search")
    holding = [
        card
        for card in browser.find_elements(By.CSS_SELECTOR, "#results .memory")
        if "Stripe sandbox" in card.text
    ]
    assert holding
    doomed = holding[0].get_attribute("data-id")
    go(browser, holding[0].find_element(By.CSS_SELECTOR, ".forget-button"))
    assert "Forget 1 memory?" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "forget-preview")
    go(browser, browser.find_element(By.CSS_SELECTOR, ".confirm-forget"))
    assert "Forgot 1 memory" in browser.find_element(By.CSS_SELECTOR, ".done").text

    # the next search, through the page and as the CLI (the agent's hook) sees it
    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys("why does the checkout test flake stripe sandbox")
    go(browser, box, "submit")
    ids = [c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, ".memory")]
    assert doomed not in ids
    found = subprocess.run(
        [
            sys.executable,
            "-m",
            "contextrecall.launcher",
            "search",
            "stripe sandbox flaky",
            "--project",
            PROJECT["name"],
            "--json",
        ],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        check=True,
    )
    assert doomed not in [i["id"] for i in json.loads(found.stdout)["items"]]
    project = browser.current_url.split("/p/")[1].split("?")[0]
    # pin one: it opens the next session start
    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys("nightly ledger close advisory locks")
    go(browser, box, "submit")
    card = browser.find_elements(By.CSS_SELECTOR, "#results .memory")[0]
    pinned_id = card.get_attribute("data-id")
    go(browser, card.find_element(By.CSS_SELECTOR, ".pin-button"))
    assert browser.find_element(By.CSS_SELECTOR, ".done").text == "Pinned."
    start = browser.find_element(By.CSS_SELECTOR, "pre.session-start").text
    assert start.splitlines()[1] == "## Pinned"
    aside = [
        c.get_attribute("data-id") for c in browser.find_elements(By.CSS_SELECTOR, "aside .memory")
    ]
    assert aside == [pinned_id]
    shot(browser, "project")

    # open a session: its request, commands and what it stored
    held = [c for c in browser.find_elements(By.CSS_SELECTOR, ".session") if "advisory" in c.text]
    go(browser, held[0].find_element(By.CSS_SELECTOR, "a.session-link"))
    assert "/s/" in browser.current_url
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "How should the nightly close avoid double runs?" in body
    assert "Forget this session" in body
    shot(browser, "session")
    browser.set_window_size(390, 844)  # a phone
    browser.get(browser.current_url)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing runs off the side
    shot(browser, "session-phone")
    # forget every match left, then the next session start holds none of it
    browser.set_window_size(1280, 1000)
    browser.get(address.split("?")[0] + f"p/{project}?q=stripe+sandbox+flaky+checkout")
    go(browser, browser.find_element(By.CSS_SELECTOR, ".forget-all"))
    go(browser, browser.find_element(By.CSS_SELECTOR, ".confirm-forget"))
    assert "Stripe sandbox" not in browser.find_element(By.CSS_SELECTOR, "pre.session-start").text
    injected = subprocess.run(
        [sys.executable, "-m", "contextrecall.launcher", "inject", "--project", PROJECT["name"]],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Stripe sandbox" not in injected


def test_a_session_shows_its_pull_request_and_what_it_left_to_do(ui, browser):
    from selenium.webdriver.common.by import By

    address, _ = ui
    browser.get(address)
    go(browser, browser.find_element(By.LINK_TEXT, PROJECT["name"]))
    go(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Open a pull request"))
    links = browser.find_elements(By.CSS_SELECTOR, "ul.pull-requests a")
    assert [a.get_attribute("href") for a in links] == [LINK]
    assert texts(browser, "ul.next-steps li") == ["Ask Dana to review the lock"]
    assert texts(browser, ".uncommitted") == ["not committed in it"]
    shot(browser, "session-pull-request")


def test_hostile_transcript_text_is_shown_as_text(ui, browser):
    from selenium.webdriver.common.by import By

    address, _ = ui
    browser.get(address)
    go(browser, browser.find_element(By.LINK_TEXT, PROJECT["name"]))
    title = browser.title
    go(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Render this banner"))
    shown = browser.find_element(By.TAG_NAME, "main").text
    assert '<script>document.title="pwned"</script>' in shown  # as text
    assert browser.title != "pwned" and browser.title not in ("1", "")
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img") == []
    assert title != "pwned"
    shot(browser, "hostile")


def test_nothing_is_served_without_the_token_or_to_another_host(ui):
    address, _ = ui
    base = address.split("?")[0]
    direct = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # no proxy for localhost
        urllib.request.HTTPCookieProcessor(),
    )

    def status(url: str, host: str | None = None) -> int:
        request = urllib.request.Request(url, headers={"Host": host} if host else {})
        try:
            with direct.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status(base) == 403
    assert status(base + "?token=wrong") == 403
    assert status(address) == 200  # redirected with the cookie, then the page
    assert status(base) == 200  # the cookie alone now
    assert status(base, host="evil.example:80") == 403  # DNS rebinding, even with the cookie
    port = base.rsplit(":", 1)[1].strip("/")
    post = urllib.request.Request(  # with the cookie but without the form's token
        f"http://127.0.0.1:{port}/p/x/forget", data=b"id=1", method="POST"
    )
    try:
        direct.open(post, timeout=10)
        refused = False
    except urllib.error.HTTPError as exc:
        refused = exc.code == 403
    assert refused
