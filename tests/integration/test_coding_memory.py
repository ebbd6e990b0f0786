"""A coding session saved and recalled on each backend: dated when the work happened, found
by what a developer asks (a renamed file by its new path, an identifier by its whole name on
the text index too), and a session start that says where the work stands."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text as sql

from contextrecall.client.deltas import Delta
from contextrecall.crypto import KeyRing, generate_key
from contextrecall.db import get_engine, session_scope
from contextrecall.jobs import build_job
from contextrecall.recall import service, session_start
from contextrecall.recall.loading import find_project
from contextrecall.settings import Settings
from contextrecall.store.save_job import save_job
from tests.support import repeated_sentences
from tests.unit.test_compression import CWD, Transcript, worktree_session

RING = KeyRing(generate_key())


def session() -> Transcript:
    return (
        Transcript(branch="feature/totals")
        .user("split the cart totals out and make the checkout test pass")
        .tool(
            "Edit",
            {
                "file_path": f"{CWD}/lib/cart.ex",
                "old_string": "def total(cart), do: 0",
                "new_string": "def total(cart), do: Enum.sum(cart.prices)",
            },
            "The file has been updated.",
        )
        .bash("git mv lib/cart.ex lib/shop/cart_totals.ex", "")
        .bash("mix deps.compile --force ash ash_sqlite", "==> ash_sqlite\nCompiling 12 files (.ex)")
        .bash(
            "mix test test/checkout_test.exs",
            "** (KeyError) key :currency not found in: %{amount: 10}\n1 test, 1 failure",
            is_error=True,
        )
        .bash(
            'git add -A && git commit -m "Cart totals in their own module"',
            "[feature/totals 1a2b3c4] Cart totals in their own module\n 2 files changed",
        )
        .say("Moved the totals into lib/shop/cart_totals.ex; the checkout test still fails.")
    )


def save(settings: Settings, transcript: Transcript | list[dict], session_id: str = "s1") -> None:
    """A Claude Code transcript, or chat lines (``--format chat``), saved as one delta."""
    lines = transcript if isinstance(transcript, list) else transcript.lines
    text = "".join(json.dumps(line) + "\n" for line in lines).encode()
    job = build_job(
        project={"name": "shop", "identity": "name:shop"},
        machine=None,
        session_external_id=session_id,
        source_format="chat" if isinstance(transcript, list) else "claude",
        delta=Delta(0, len(text), text),
        event="Stop",
    )
    with session_scope(settings) as db:
        save_job(db, job, RING)


def test_memories_are_dated_when_the_work_happened(backend):
    save(backend, session())
    found = service.search(backend, "shop", "checkout test KeyError currency")
    assert "KeyError" in found["context"]
    assert "[2026-02-11]" in found["context"]
    assert f"[{date.today().isoformat()}]" not in found["context"]


def test_a_renamed_file_is_found_under_its_new_path(backend):
    save(backend, session())
    found = service.search(backend, "shop", "where do the cart totals live now?")
    assert "lib/shop/cart_totals.ex" in found["context"]
    assert "lib/cart.ex:" not in found["context"]


def test_an_identifier_is_found_by_its_whole_name_and_by_its_parts(backend):
    save(backend, session())
    for query in ("ash_sqlite", "how did we rebuild the ash sqlite dependency?"):
        found = service.search(backend, "shop", query)
        assert "mix deps.compile --force ash ash_sqlite" in found["context"], query


def test_the_session_start_says_where_the_work_stands(backend):
    save(backend, session())
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1]
    assert "Branch: feature/totals" in left_off
    assert "Tests: `mix test test/checkout_test.exs` tests failed" in left_off
    assert "Last commits: 1a2b3c4 Cart totals in their own module" in left_off
    key_files = block.split("Key files: ", 1)[1].splitlines()[0]
    assert "lib/shop/cart_totals.ex" in key_files and "lib/cart.ex" not in key_files
    assert len(block) / 4 <= session_start.SESSION_START_BUDGET


def test_the_session_start_lists_the_last_commands_and_changes(backend):
    save(
        backend,
        session().bash(
            "git status",
            "On branch feature/totals\n"
            "Your branch is ahead of 'origin/feature/totals' by 1 commit.\n"
            "\tmodified:   lib/shop.ex",
        ),
    )
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert "Your branch is ahead of 'origin/feature/totals' by 1 commit." in left_off
    assert "modified:   lib/shop.ex" in left_off
    commands = block.split("## Its last commands\n", 1)[1].split("\n## ")[0].splitlines()
    assert commands[-2:] == [
        "- $ mix test test/checkout_test.exs -> tests failed: ** (KeyError) key :currency not found"
        " in: %{amount: 10}; 1 test, 1 failure",
        '- $ git add -A && git commit -m "Cart totals in their own module" -> exit 0 | '
        "[feature/totals 1a2b3c4] Cart totals in their own module | 2 files changed",
    ], commands
    assert not any("git status" in line for line in commands)  # said above, once
    changes = block.split("## Its last changes\n", 1)[1].split("\n## ")[0]
    assert "+ `def total(cart), do: Enum.sum(cart.prices)`" in changes


def _outcome_of_a_report(backend, steps: int) -> str:
    sentences = [
        f"Step {n} of the migration moved table t{n} and its indexes." for n in range(steps)
    ]
    save(backend, session().say(" ".join(sentences)))
    block = session_start.session_start_block(backend, "shop")
    return next(line for line in block.splitlines() if line.startswith("Outcome: "))


def test_the_session_start_shows_the_last_report_up_to_800_characters(backend):
    """The agent's last report is what a resuming person reads first: its outcome shows up
    to 800 characters of it, whole sentences."""
    outcome = _outcome_of_a_report(backend, 12)
    assert "Step 0 of the migration" in outcome and outcome.endswith("table t11 and its indexes.")


def test_the_session_start_shows_a_longer_reports_start_and_end(backend):
    """A report longer than that: its start and its end, where it says where things stand."""
    outcome = _outcome_of_a_report(backend, 20)
    assert "Step 0 of the migration" in outcome and outcome.endswith("table t19 and its indexes.")
    assert "t10 " not in outcome and " … " in outcome  # the middle goes
    assert len(outcome) <= len("Outcome: ") + 800 + 2


def test_a_last_command_opening_with_one_long_word_is_shown_by_its_start(backend):
    """A command whose first 100 characters hold no space (a variable set to a long path)
    is cut inside that word, not shown as "$ …"."""
    worktree = "/tmp/claude/" + "scratchpad-" * 10 + "car46"
    save(
        backend,
        session().bash(
            f'WT="{worktree}"\ngit worktree add --detach "$WT" c1b7131',
            "Preparing worktree (detached HEAD c1b7131)",
        ),
    )
    block = session_start.session_start_block(backend, "shop")
    commands = block.split("## Its last commands\n", 1)[1].split("\n## ")[0].splitlines()
    assert commands[-1].startswith(f'- $ WT="{worktree[:80]}')
    assert commands[-1].endswith("… -> exit 0 | Preparing worktree (detached HEAD c1b7131)")


def test_the_session_start_lists_the_commits_the_last_git_log_showed(backend):
    listed = (
        "928d14f fixed test after rebase\ndb91390 go fmt fix\n"
        "51f7cc1 add integration test\n3ec0053 improved multi session support"
    )
    save(backend, session().bash("git log main..HEAD --oneline", listed))
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert (
        "Last git log: 928d14f fixed test after rebase; db91390 go fmt fix; "
        "51f7cc1 add integration test\n" in left_off + "\n"
    ), left_off
    assert "3ec0053" not in left_off  # the three newest
    # a search asking how things stand gets the branch first, not the listing
    found = service.search(backend, "shop", "which git branch are we on now?")["context"]
    assert "Branch: feature/totals" in found
    assert "Last git log" not in found


def test_the_session_start_shows_more_of_each_last_change_than_a_search(backend):
    lines = [f"- Step {n}: run `make check-{n}` before the release." for n in range(1, 40)]
    doc = (
        Transcript(branch="docs")
        .user("update the release notes")
        .tool("Write", {"file_path": f"{CWD}/RELEASING.md", "content": "\n".join(lines)}, "Done.")
    )
    save(backend, doc)
    block = session_start.session_start_block(backend, "shop")
    shown = block.split("## Its last changes\n", 1)[1].split("\n## ")[0].splitlines()
    with session_scope(backend) as db:
        project = find_project(db, "shop")
        assert project is not None
        searched = dict(session_start.resume_sections(db, project.id))["## Its last changes"]
    longest = max(shown, key=len)
    assert session_start.EDIT_CHARS < len(longest) <= session_start.START_EDIT_CHARS + 4
    assert max(len(line) for line in searched) <= session_start.EDIT_CHARS + 4
    assert longest.startswith(max(searched, key=len).removesuffix(" …"))  # the same, cut later


def test_the_session_start_lists_more_of_the_last_sessions_commands_than_a_search(backend):
    work = Transcript(branch="release").user("get the release ready")
    for n in range(1, 26):  # a minute a transcript line: all within the hour
        work = work.bash(f"make step-{n}", f"step {n} done")
    save(backend, work)
    block = session_start.session_start_block(backend, "shop")
    listed = block.split("## Its last commands\n", 1)[1].split("\n## ")[0]
    shown = [n for n in range(1, 26) if f"$ make step-{n} " in listed]
    assert shown == list(range(26 - session_start.START_COMMANDS, 26)), listed  # the last
    with session_scope(backend) as db:
        project = find_project(db, "shop")
        assert project is not None
        searched = dict(session_start.resume_sections(db, project.id))["## Its last commands"]
    assert len(searched) == session_start.LAST_COMMANDS < session_start.START_COMMANDS
    assert searched[-1].startswith("- $ make step-25 ")


def test_the_session_start_names_the_branchs_pull_request_from_an_earlier_session(backend):
    opened = (
        Transcript(branch="feature/totals")
        .user("open a pull request for the totals")
        .bash('gh pr create --title "Totals"', "https://github.com/acme/shop/pull/41")
    )
    elsewhere = (
        Transcript(branch="fix/typo")
        .user("fix the typo, see https://github.com/acme/shop/pull/40")
        .edit("README.md")
    )
    later = Transcript(branch="feature/totals").user("address the review").edit("cart/totals.py")
    for hour, transcript in ((11, elsewhere), (12, later)):  # each session after the last
        for line in transcript.lines:
            line["timestamp"] = str(line["timestamp"]).replace("T10:", f"T{hour}:")
    save(backend, opened, "s1")
    save(backend, elsewhere, "s2")
    block = session_start.session_start_block(backend, "shop")
    assert "Pull request: https://github.com/acme/shop/pull/40 (named 2026-02-11)" in block
    save(backend, later, "s3")  # back on the branch of pull request 41, two sessions later
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert "Pull request: https://github.com/acme/shop/pull/41 (named 2026-02-11)" in left_off
    assert "pull/40" not in left_off  # the other branch's


def test_where_the_last_session_left_off_names_its_next_steps_for_a_start_and_a_search(backend):
    state = f"{CWD}/.planning/STATE.md"
    transcript = (
        Transcript()
        .user("where are we?")
        .tool("Read", {"file_path": state}, "   1→# State\n   2→Next: Phase 4 — run /plan 4\n")
        .user("wire the mailer")
        .edit("mail/send.py")
        .say(
            "Done.\n\n**Before the next deploy, you need to configure:**\n"
            "- the SMTP_PASSWORD secret"
        )
        .user("thanks")
        .say("You're welcome.")
    )
    save(backend, transcript, "s1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert "Next: Before the next deploy, you need to configure" in left_off
    assert "Next: the SMTP_PASSWORD secret" in left_off
    assert "Next: Phase 4 — run /plan 4 (.planning/STATE.md)" in left_off
    found = service.search(backend, "shop", "what is still left to do?")["context"]
    assert "the SMTP_PASSWORD secret" in found and "Phase 4 — run /plan 4" in found


def test_the_last_commands_are_those_that_did_something(backend):
    transcript = (
        Transcript()
        .user("ship the stylesheet")
        .bash("git diff main..HEAD -- priv/app.css", "diff --git a/priv/app.css b/priv/app.css")
        .bash("ls priv/static", "app.css")
        .bash("tree -L 2", "lsd: 2: No such file or directory (os error 2)", True)
        .bash("git add -f priv/static/app.css", "")
        .bash("nl -ba lib/app.ex | sed -n '1,40p'", "     1\tdefmodule App do")
        .bash("mix --version", "Mix 1.17.2")
        .bash("sed -i 's/red/blue/' priv/app.css", "")
        .bash("mix test", "Finished in 0.4 seconds\n12 tests, 0 failures")
    )
    save(backend, transcript, "s1")
    block = session_start.session_start_block(backend, "shop")
    commands = block.split("## Its last commands\n", 1)[1].split("\n## ")[0]
    assert "git add -f priv/static/app.css" in commands and "mix test" in commands
    assert "tree -L 2" in commands  # it only looked, but it failed: an error met
    assert "git diff" not in commands and "ls priv/static" not in commands
    # sed without -i, nl and a version only print; sed -i changes the file
    assert "sed -n" not in commands and "mix --version" not in commands
    assert "sed -i 's/red/blue/' priv/app.css" in commands


def test_the_last_error_is_one_nothing_worked_after(backend):
    broken = "sed: -e expression #1, char 9: unterminated `s' command"
    moved_on = (
        Transcript()
        .user("copy the session over")
        .bash("sed 's|a|b' session.jsonl > copy.jsonl", broken, True)
        .bash("python3 copy_session.py --to test", "copied 271 lines")
    )
    save(backend, moved_on, "s1")
    assert "Last error:" not in session_start.session_start_block(backend, "shop")
    stuck = moved_on.user("build it").bash("make build", "make: *** [all] Error 2", True)
    save(backend, stuck, "s1")  # the same session, saved again when it stops again
    block = session_start.session_start_block(backend, "shop")
    assert "Last error: `make build`: make: *** [all] Error 2" in block


def test_the_session_start_names_the_last_calls_a_tool_refused(backend):
    refused = "<tool_use_error>String to replace not found in file.</tool_use_error>"
    edit = {"file_path": f"{CWD}/docs/plan.md", "old_string": "x", "new_string": "y"}
    save(backend, Transcript().user("fix the plan").tool("Edit", edit, refused, True), "s1")
    block = session_start.session_start_block(backend, "shop")
    expected = "Tool errors: Edit docs/plan.md: String to replace not found in file."
    assert expected in block.splitlines()
    found = service.search(backend, "shop", "where did we leave off?")["context"]
    assert "Tool errors" not in found  # a search's state block keeps its room for the work


def test_the_session_start_names_the_files_edited_after_the_last_commit(backend):
    committed = "[main 1a2b3c4] Add the mailer\n 1 file changed"
    transcript = (
        Transcript()
        .user("wire the mailer and commit")
        .edit("mail/send.py")
        .bash("git commit -am 'Add the mailer'", committed)
        .user("now retry on timeouts")
        .edit("mail/retry.py")
    )
    save(backend, transcript, "s1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert "Uncommitted (edited after its last commit): mail/retry.py" in left_off.splitlines()


def test_the_session_start_and_a_search_say_each_thing_once(backend):
    asked = "Remember: the deploy command is ./deploy.sh --prod --region eu-west-3"
    said = f"Noted. {asked}. It is written down in docs/deploy.md for the whole team."
    save(backend, Transcript().user(asked).say(said), "s1")
    save(backend, Transcript().user(asked).say(said), "s2")  # the same session again
    block = session_start.session_start_block(backend, "shop")
    assert "./deploy.sh --prod" in block and "docs/deploy.md" in block
    assert repeated_sentences(block) == [], block
    found = service.search(backend, "shop", "deploy command region")["context"]
    assert "./deploy.sh --prod" in found
    assert repeated_sentences(found) == [], found


def test_a_subagent_report_is_stored_once_from_both_transcripts(backend):
    report = "## Cart findings\n" + "\n".join(f"- cart rule {n} holds" for n in range(400))
    cut = report[:3000] + "\n[… 9000 characters omitted …]"  # as a transcript may hold it
    subagent = Transcript().user("explore the cart", isSidechain=True).say(cut)
    main = (
        Transcript()
        .user("explore the cart")
        .tool("Task", {"description": "Explore cart", "prompt": "explore the cart"}, report)
    )
    save(backend, subagent, "s1/agent-a1")
    save(backend, main, "s1")
    engine = get_engine(backend)
    with engine.connect() as connection:
        reports = connection.execute(
            sql("SELECT dense_content FROM context_snippets WHERE category = 'report'")
        ).all()
    assert len(reports) == 1 and reports[0][0].startswith("## Cart findings")


def test_a_long_session_is_left_off_where_it_ended_not_where_it_began(backend):
    transcript = Transcript().user("make the suite pass, then keep committing")
    transcript.bash("pytest -q", "17 errors in 0.35s", True)  # the first run: collection broke
    for n in range(25):  # more commits and commands than the state keeps
        transcript.bash(f"./build.sh step{n}", f"built step {n}")
        transcript.bash(f"git commit -am 'Step {n}'", f"[main c0ffe{n:02d}] Step {n}")
    transcript.bash("PYTHONPATH=. pytest -q", "51 passed in 0.58s")
    save(backend, transcript, "s1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    tests = "Tests: `PYTHONPATH=. pytest -q` tests passed: 51 passed in 0.58s"
    assert tests in left_off.splitlines()
    assert "Last commits: c0ffe24 Step 24; c0ffe23 Step 23" in left_off  # the newest first
    assert "17 errors" not in left_off


def test_the_last_changes_are_in_the_order_they_were_made_on_every_backend(backend):
    transcript = Transcript().user("add the mailer, its retry and their tests")
    for n, path in enumerate(["mail/send.py", "mail/retry.py", "tests/test_send.py"]):
        transcript.write(path, f"def step_{n}():\n    pass\n")
        transcript.bash("pytest -q", f"{n + 1} passed in 0.1s")  # a minute between edits
    save(backend, transcript, "s1")
    block = session_start.session_start_block(backend, "shop")
    changes = block.split("## Its last changes\n", 1)[1].split("\n## ")[0].splitlines()
    written = [
        line.split(":", 1)[0] for line in changes if line.startswith("- ") and ".py:" in line
    ]
    assert written == ["- mail/send.py", "- mail/retry.py", "- tests/test_send.py"]  # in order


def test_the_session_start_lists_the_persons_own_sessions_and_where_they_left_off(backend):
    main = Transcript().user("split the cart totals out").edit("lib/cart_totals.ex")
    save(backend, main.say("Split the totals into lib/cart_totals.ex."), "s1")
    explore = Transcript().user("list every caller of Cart.total", isSidechain=True)
    explore.say("Three callers: checkout, invoice and refund.")
    for line in explore.lines:  # a subagent saved after its parent's last save
        line["timestamp"] = "2026-02-11T11:00:00Z"
    save(backend, explore, "s1/agent-a1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert "Last request: split the cart totals out" in left_off.splitlines()
    sessions = block.split("## Latest sessions\n", 1)[1].split("\n## ")[0]
    assert "lib/cart_totals.ex" in sessions
    assert "caller" not in sessions  # its parent's work: found by a search
    found = service.search(backend, "shop", "which callers does Cart.total have?")["context"]
    assert "Three callers: checkout, invoice and refund." in found


def test_the_session_start_shows_a_pasted_log_it_left_off_on_by_its_telling_lines(backend):
    """A session that ended on a log the person pasted: where it left off shows the log's
    failure and warning from far down the paste, not only its first lines."""
    noise = "\n".join(f"[Proxy] GET /api/progress -> 200 ({n} connections)" for n in range(80))
    log = (
        "I ran a remediation and got these logs:\n"
        f"{noise}\n"
        "[Bun.serve]: request timed out after 10 seconds. Pass `idleTimeout` to configure.\n"
        f"{noise}\n"
        "[Jobs] Job aeb3cebb failed: git checkout failed: error: pathspec '.' did not match"
    )
    save(backend, Transcript().user(log).say("The reset now tolerates a clean tree."), "s1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    (asked,) = [line for line in left_off.splitlines() if line.startswith("Last request: ")]
    assert asked.startswith("Last request: I ran a remediation and got these logs: | ")
    assert "Job aeb3cebb failed" in asked and "idleTimeout" in asked
    assert "(79 connections)" not in asked


def test_the_session_start_names_the_worktree_the_session_last_worked_in(backend):
    """Claude Code records the main checkout's branch while the agent works in a worktree it
    added: where the session left off names that worktree and its branch too."""
    save(backend, worktree_session(), "s1")
    block = session_start.session_start_block(backend, "shop")
    left_off = block.split("## Where the last session left off\n", 1)[1].split("\n## ")[0]
    assert left_off.splitlines()[:2] == [
        "Branch: main",
        "Worked last in the worktree: .worktrees/phase3 (feat/phase3)",
    ]


def test_a_question_asking_how_things_stand_is_answered_by_where_the_session_left_off(backend):
    save(backend, session())
    asked = service.search(backend, "shop", "is the checkout test still failing?")
    first = asked["items"][0]
    assert first["id"] == "resumed", asked["items"]
    assert "Tests: `mix test test/checkout_test.exs` tests failed" in asked["context"]
    other = service.search(backend, "shop", "how did we rebuild the ash sqlite dependency?")
    assert all(item["id"] != "resumed" for item in other["items"])


def test_a_conversation_has_no_project_state_to_resume(backend):
    said = [("Bo", "What did you adopt last week, Ana?"), ("Ana", "A puppy called Rex.")]
    chat = [
        {"role": "user", "speaker": who, "content": text, "timestamp": "2023-05-08"}
        for who, text in said
    ]
    save(backend, chat, "talk")
    asked = service.search(backend, "shop", "what did Ana adopt last week?")
    assert all(item["id"] != "resumed" for item in asked["items"])
