"""Coding memory keeps what a developer asks for later: each rule on a transcript written for
it (renames, compaction summaries, dates, errors with their fixes, rejected alternatives,
identifiers by their parts and whole)."""

from __future__ import annotations

import json
from datetime import datetime

from contextrecall.recall.ranking import Item, fill_budget, query_terms, rank
from contextrecall.terms import terms
from tests.unit.test_compression import CWD, Transcript


def by_category(memory, category: str) -> list:
    return [s for s in memory.snippets if s.category == category]


def test_a_renamed_file_is_recalled_under_its_new_path(tmp_path):
    memory = (
        Transcript()
        .user("split the cart module")
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
        .say("Moved the totals into lib/shop/cart_totals.ex.")
        .memory(tmp_path)
    )
    (files,) = by_category(memory, "files")
    assert "lib/shop/cart_totals.ex: - `def total(cart), do: 0`" in files.content
    assert "Enum.sum(cart.prices)" in files.content
    assert "edited lib/cart.ex" not in files.content
    assert "moved lib/cart.ex -> lib/shop/cart_totals.ex" in files.content  # where it was


def test_a_move_to_a_path_the_script_set_in_a_variable_goes_to_that_path(tmp_path):
    """``git mv change "$TARGET"`` after ``TARGET="…"`` moves the change where the shell
    moves it: the files edited before are known under that path, not under ``$TARGET``."""
    script = (
        'TARGET="openspec/archive/2026-08-14-tag-cleanup"\n'
        'if [ -e "$TARGET" ]; then exit 1; fi\n'
        'git mv openspec/changes/tag-cleanup "$TARGET"\n'
        'echo "moved -> $TARGET"'
    )
    memory = (
        Transcript()
        .user("archive the change")
        .edit("openspec/changes/tag-cleanup/tasks.md")
        .bash(script, "moved -> openspec/archive/2026-08-14-tag-cleanup")
        .say("Archived.")
        .memory(tmp_path)
    )
    (files,) = by_category(memory, "files")
    assert "openspec/archive/2026-08-14-tag-cleanup/tasks.md" in files.content, files.content
    assert "$TARGET" not in files.content
    assert memory.uncommitted == ["openspec/archive/2026-08-14-tag-cleanup/tasks.md"]


def test_a_move_and_a_write_are_read_from_the_folder_the_command_cds_to(tmp_path):
    """``cd docs && git mv a b`` moves docs/a, and ``cd app && cat > f <<EOF`` writes app/f:
    the session's own folder is where the command starts, not where it runs."""
    memory = (
        Transcript()
        .user("archive the plan and add the notes")
        .edit("docs/plan.md")
        .bash("cd docs && git mv plan.md archive/plan.md", "")
        .bash("cd app && cd src && cat > notes.md <<'EOF'\n# Notes\nKeep the cart.\nEOF", "")
        .say("Archived the plan and added the notes.")
        .memory(tmp_path)
    )
    (files,) = by_category(memory, "files")
    assert "moved docs/plan.md -> docs/archive/plan.md" in files.content, files.content
    assert [f.path for f in memory.files] == ["docs/archive/plan.md", "app/src/notes.md"]


def test_a_compaction_summary_is_kept_whole_and_searchable(tmp_path):
    sections = {
        "Primary Request and Intent": "The user asked to migrate carts to Postgres.",
        "Key Technical Concepts": "- Ecto multi for the cart checkout\n- CHAR(36) UUID keys",
        "Errors and fixes": "- Alembic autogenerate missed idx_cart_user: added it by hand.",
        "Pending Tasks": "- Backfill the carts_v2 table from carts.",
    }
    summary = "Summary:\n" + "".join(
        f"{n}. {heading}:\n   {body}\n" for n, (heading, body) in enumerate(sections.items(), 1)
    )
    memory = Transcript().user(summary, isCompactSummary=True).user("continue").memory(tmp_path)
    kept = "\n".join(s.content for s in by_category(memory, "summary"))
    for body in sections.values():
        for line in body.splitlines():
            assert line.strip() in kept
    items = [Item("snippet", str(n), s.content) for n, s in enumerate(memory.snippets)]
    ranked = rank("which index did autogenerate miss?", items, datetime(2026, 3, 1))
    assert "idx_cart_user" in ranked[0][1].text


def test_memories_are_dated_when_the_work_happened(tmp_path):
    memory = (
        Transcript()
        .user("run the tests")
        .bash("mix test", "Finished in 0.4 seconds\n12 tests, 0 failures")
        .memory(tmp_path)
    )
    dated = [s for s in memory.snippets if s.category in ("exchange", "command")]
    assert dated and all(s.occurred_at.startswith("2026-02-11T10:") for s in dated)
    assert memory.started_at.startswith("2026-02-11")


def test_an_error_is_recalled_with_the_change_that_fixed_it(tmp_path):
    memory = (
        Transcript()
        .user("fix the failing checkout test")
        .bash(
            "mix test test/checkout_test.exs",
            "** (KeyError) key :currency not found in: %{amount: 10}\n1 test, 1 failure",
            is_error=True,
        )
        .tool(
            "Edit",
            {
                "file_path": f"{CWD}/lib/checkout.ex",
                "old_string": "price.currency",
                "new_string": "Map.get(price, :currency, :eur)",
            },
            "The file has been updated.",
        )
        .bash("mix test test/checkout_test.exs", "1 test, 0 failures")
        .memory(tmp_path)
    )
    (fix,) = by_category(memory, "fix")
    assert "KeyError" in fix.content
    assert "lib/checkout.ex" in fix.content and "Map.get(price, :currency, :eur)" in fix.content
    assert "Then `mix test test/checkout_test.exs` worked." in fix.content


def test_a_command_keeps_its_outcome_and_the_lines_of_output_that_matter(tmp_path):
    output = "\n".join(["Compiling 3 files (.ex)", *[f"noise {n}" for n in range(40)]])
    output += "\nwarning: variable cart is unused\nGenerated shop app"
    memory = (
        Transcript()
        .user("compile")
        .tool(
            "Bash",
            {"command": "mix compile --warnings-as-errors", "description": "Strict compile"},
            output,
        )
        .memory(tmp_path)
    )
    (run,) = by_category(memory, "command")
    assert run.title == "Strict compile"
    assert run.content.startswith("$ mix compile --warnings-as-errors\n-> ")
    assert "warning: variable cart is unused" in run.content
    assert "noise 20" not in run.content and len(run.content) < 700


def test_a_rejected_alternative_is_kept_with_the_decision(tmp_path):
    memory = (
        Transcript()
        .user("where do carts live?")
        .say("I decided to use PostgreSQL instead of SQLite because we need concurrent writes.")
        .memory(tmp_path)
    )
    (decision,) = memory.decisions
    assert decision.alternatives == ["SQLite"]


def test_an_identifier_is_found_by_its_parts_and_whole():
    assert {"ash_sqlite", "ash", "sqlite"} <= set(terms("mix deps.compile --force ash_sqlite"))
    assert {"sessionlive", "session", "live"} <= set(terms("SessionLive mounts the view"))
    assert "session_live.ex" in terms("see lib/spotter_web/live/session_live.ex")
    items = [
        Item("snippet", "a", "$ mix deps.compile --force ash ash_sqlite"),
        Item("snippet", "b", "the ash framework docs mention sqlite support in general terms"),
        Item("snippet", "c", "SessionLive renders the transcript pane"),
    ]
    now = datetime(2026, 3, 1)
    assert rank("ash_sqlite", items, now)[0][1].id == "a"
    assert rank("which live view renders the session transcript?", items, now)[0][1].id == "c"


def test_near_duplicates_only_when_the_text_really_repeats():
    now = datetime(2026, 3, 1)
    first = "fix on branch main: pin the ash version to 3.4 in mix.exs and rerun deps.get"
    other = "fix on branch release: pin the phoenix version to 1.7 in mix.exs, rerun deps.get"
    items = [Item("snippet", "a", first), Item("snippet", "b", other)]
    ranked = rank("pin version mix.exs deps.get", items, now)
    _, chosen = fill_budget(ranked, 1000)
    assert {item.id for _, item in chosen} == {"a", "b"}
    repeat = [Item("snippet", "a", first), Item("snippet", "b", first + " again")]
    _, chosen = fill_budget(rank("pin version", repeat, now), 1000)
    assert len(chosen) == 1


def test_a_long_memory_is_shown_by_its_lines_that_bear_on_the_query():
    lines = [f"step {n}: routine output about nothing in particular" for n in range(60)]
    lines[41] = "the migration failed because idx_cart_user already existed"
    item = Item("snippet", "a", "\n".join(lines))
    text, _ = fill_budget(
        rank("idx_cart_user migration", [item], datetime(2026, 3, 1)),
        300,
        focus=query_terms("idx_cart_user migration"),
    )
    assert "idx_cart_user already existed" in text and "step 30" not in text


def test_a_file_written_with_a_here_document_is_kept_as_a_written_file(tmp_path):
    command = (
        "mkdir -p types && cat > types/todo.ts << 'EOF'\n"
        "import { Base } from './base';\n"
        "export interface Todo {\n  id: string;\n}\n"
        "EOF"
    )
    memory = Transcript().user("add the todo type").bash(command, "").memory(tmp_path)
    assert by_category(memory, "command") == []  # a write, not a command worth recalling
    (files,) = by_category(memory, "files")
    assert "types/todo.ts" in files.content
    (code,) = by_category(memory, "code")
    assert "export interface Todo {" in code.content
    assert "import { Base }" not in files.content + code.content  # declarations, not imports
    assert any(f.path.endswith("types/todo.ts") for f in memory.files)


def test_a_command_that_only_lists_files_is_not_kept_but_a_failed_one_is(tmp_path):
    memory = (
        Transcript()
        .user("look around")
        .bash("ls -la lib/ && find lib -name '*.ex'", "lib/cart.ex\nlib/shop.ex")
        .bash("ls missing/", "ls: cannot access 'missing/': No such file", is_error=True)
        .memory(tmp_path)
    )
    (run,) = by_category(memory, "command")
    assert run.content.startswith("$ ls missing/")
    assert by_category(memory, "fix") == []  # a look that found nothing has nothing to fix


def test_an_output_line_already_kept_is_not_kept_again_in_the_same_save(tmp_path):
    warning = 'npm warn Unknown env config "verify-deps-before-run". This will stop working.'
    memory = (
        Transcript()
        .user("build it")
        .bash("npm run build", f"{warning}\nBuild failed: generate is not a function", True)
        .bash("npm run lint", f"{warning}\n3 problems (1 error, 2 warnings)", True)
        .memory(tmp_path)
    )
    runs = by_category(memory, "command")
    assert [warning in run.content for run in runs] == [True, False]
    assert "3 problems" in runs[1].content


def test_a_command_fixed_by_running_it_another_way(tmp_path):
    memory = (
        Transcript()
        .user("push it")
        .bash("git push", "fatal: The current branch cart has no upstream branch.", True)
        .bash("git push --set-upstream origin cart", "branch 'cart' set up to track")
        .edit("lib/cart.ex")
        .memory(tmp_path)
    )
    (fix,) = by_category(memory, "fix")
    assert "no upstream branch" in fix.content
    assert "Fixed by: `git push --set-upstream origin cart`" in fix.content
    assert "lib/cart.ex" not in fix.content  # later edits are not the fix


def test_a_tool_refusing_a_call_is_not_an_error_of_the_project(tmp_path):
    memory = (
        Transcript()
        .user("update the readme")
        .tool(
            "Write",
            {"file_path": f"{CWD}/README.md", "content": "# Shop\n"},
            "<tool_use_error>File has not been read yet. Read it first.</tool_use_error>",
            is_error=True,
        )
        .write("README.md", "# Shop\n", created=False)
        .memory(tmp_path)
    )
    assert by_category(memory, "fix") == []
    assert "tool_use_error" not in "\n".join(s.content for s in memory.snippets)


def test_the_same_report_cut_differently_is_the_same_memory(tmp_path):
    report = "## Findings\n" + "\n".join(f"- finding {n}: the cart {n} is fine" for n in range(300))
    cut = report[:6500] + "\n[… 9000 characters omitted …]"
    main = (
        Transcript()
        .user("explore the cart")
        .tool("Task", {"description": "Explore cart", "prompt": "explore"}, report)
        .memory(tmp_path)
    )
    subagent = (
        Transcript().user("explore", isSidechain=True).say(cut).save(tmp_path / "agent-a1.jsonl")
    )
    from contextrecall.compression import compress_file

    (kept,) = by_category(main, "report")
    (again,) = by_category(compress_file(subagent), "report")
    assert kept.content != again.content and kept.identity == again.identity


def test_a_settings_or_documentation_file_keeps_the_values_it_was_given(tmp_path):
    timer = "[Unit]\nDescription=Nightly backup\n\n[Timer]\nOnBootSec=5min\nPersistent=true\n"
    manifest = '{\n  "name": "shop",\n  "version": "0.4.1",\n  "license": "Apache-2.0"\n}\n'
    tree = "".join(f"│   ├── part_{n}.ex\n" for n in range(40))  # more lines than are kept
    readme = f"# Shop\n\n├── lib/\n{tree}\n- **Testing**: Jest (for hooks testing)\n"
    memory = (
        Transcript()
        .user("add the backup timer, the manifest and the readme")
        .tool("Write", {"file_path": f"{CWD}/deploy/backup.timer", "content": timer}, "ok")
        .tool("Write", {"file_path": f"{CWD}/package.json", "content": manifest}, "ok")
        .tool(
            "Edit",
            {"file_path": f"{CWD}/README.md", "old_string": "# Shop\n", "new_string": readme},
            "The file has been updated.",
        )
        .memory(tmp_path)
    )
    code = "\n".join(snippet.content for snippet in by_category(memory, "code"))
    assert "OnBootSec=5min" in code
    assert '"license": "Apache-2.0"' in code and '"version": "0.4.1"' in code
    assert "- **Testing**: Jest (for hooks testing)" in code
    assert "# Shop" not in code  # kept from before the edit
    assert "part_39.ex" not in code  # fields first: a drawing's lines only while room is left


def test_a_build_manifests_values_are_kept_in_every_ecosystem(tmp_path):
    """MSBuild project and props files, Gradle scripts and go.mod are manifests too."""
    baseline = "    <PackageValidationBaselineVersion>2.0.1</PackageValidationBaselineVersion>\n"
    memory = Transcript().user("move the baseline and pin the analyzers")
    for path, old, new in (
        ("NumWordify.csproj", "    <Version>2.0.0</Version>\n", baseline),
        (
            "Directory.Build.props",
            "<AnalysisLevel>latest</AnalysisLevel>",
            "<AnalysisLevel>9.0</AnalysisLevel>",
        ),
        ("go.mod", "go 1.21", "go 1.22\n\nrequire github.com/spf13/cobra v1.8.1"),
    ):
        memory.tool(
            "Edit",
            {"file_path": f"{CWD}/{path}", "old_string": old, "new_string": new},
            "The file has been updated.",
        )
    code = "\n".join(s.content for s in by_category(memory.memory(tmp_path), "code"))
    assert "<PackageValidationBaselineVersion>2.0.1</PackageValidationBaselineVersion>" in code
    assert "<AnalysisLevel>9.0</AnalysisLevel>" in code
    assert "require github.com/spf13/cobra v1.8.1" in code


def test_a_push_keeps_the_link_it_printed_and_not_its_bare_prefixes(tmp_path):
    printed = (
        "remote:\n"
        "remote: Create a pull request for 'spotter-dov' on GitHub by visiting:\n"
        "remote:      https://github.com/acme/spotter/pull/new/spotter-dov\n"
        "remote:\n"
        "To github.com:acme/spotter.git\n"
        " * [new branch]      spotter-dov -> spotter-dov\n"
        "branch 'spotter-dov' set up to track 'origin/spotter-dov'.\n"
    )
    memory = (
        Transcript()
        .user("push it")
        .bash("git push --set-upstream origin spotter-dov", printed)
        .memory(tmp_path)
    )
    (run,) = by_category(memory, "command")
    assert "https://github.com/acme/spotter/pull/new/spotter-dov" in run.content
    assert "\nremote:\n" not in run.content + "\n"


def test_a_commit_keeps_its_stat_and_a_sync_its_report(tmp_path):
    committed = (
        "[feature/totals 1a2b3c4] Cart totals in their own module\n"
        " 11 files changed, 1390 insertions(+), 303 deletions(-)\n"
        " create mode 100644 lib/shop/cart_totals.ex\n"
        " create mode 100644 test/shop/cart_totals_test.exs\n"
    )
    synced = "Importing from main...\nwarming cache\nImport: 0 created, 202 unchanged, 6 skipped"
    memory = (
        Transcript()
        .user("commit and sync")
        .bash('git commit -m "Cart totals in their own module"', committed)
        .bash("bd sync --from-main", synced)
        .memory(tmp_path)
    )
    runs = "\n".join(run.content for run in by_category(memory, "command"))
    assert "11 files changed, 1390 insertions(+), 303 deletions(-)" in runs
    assert "202 unchanged, 6 skipped" in runs


OPTIONS = (
    "Here is what happens now:\n\n1. **Preview mode**: prints ids\n2. **Force mode**: deletes\n\n"
    "What would be more useful to show? A few options:\n\n"
    "1. **Just the strategy check** - is auto-commit on?\n"
    "2. **Simulate the Stop hook logic** - parse a transcript\n"
    "3. **Show pre-prompt state** - the untracked files captured\n\nWhich do you want?"
)


def test_a_reply_picking_by_number_is_kept_with_what_it_picked_from_the_last_list(tmp_path):
    memory = (
        Transcript()
        .user("what is the debug command testing?")
        .say(OPTIONS)
        .user("yeah 2 and 3")
        .say("Done: the command now simulates the hook.")
        .memory(tmp_path)
    )
    (asked,) = [s for s in memory.snippets if "yeah 2 and 3" in s.content]
    assert (
        "yeah 2 and 3 → 2. Simulate the Stop hook logic - parse a transcript; "
        "3. Show pre-prompt state - the untracked files captured" in asked.content
    )
    assert "Force mode" not in asked.content  # the earlier list is not what was answered


def test_a_reply_picking_a_row_of_a_numbered_table_is_kept_with_the_row(tmp_path):
    table = "| # | Title | Area |\n|---|---|---|\n| 1 | Web worker | ui |\n| 3 | Test login | e2e |"
    memory = (
        Transcript()
        .user("/todos")
        .say(f"**Pending:**\n\n{table}\n\nReply with a number.")
        .user("3 but on this branch")
        .say("Working on the test login.")
        .memory(tmp_path)
    )
    assert any("3 but on this branch → 3. Test login - e2e" in s.content for s in memory.snippets)


LETTERED = (
    "Three directions on screen:\n"
    "- **A. Modern SaaS** (Linear/Vercel): dark, sans-serif, blue accent\n"
    "- **B. Utility/data-dense** (GitHub/Stripe): light mode, green CTA\n\n"
    "**Question 2.** Which layout?\n\n"
    "**A. Keep four tabs as-is** (Scan / Extract / Results)\n\n"
    "**B. Three tabs, results inline** - `Wallet files` merges Scan and Extract\n\n"
    "My recommendation is **B**. Which do you want?"
)


def test_a_reply_picking_by_letter_is_kept_with_what_it_picked_from_the_last_list(tmp_path):
    """Agents offer lettered options too (a brainstorming skill's "A. … B. …"): a reply of
    only their letters is kept with what it picked; a sentence starting with "A" is not."""
    memory = (
        Transcript()
        .user("redesign the web app")
        .say(LETTERED)
        .user("b")
        .say("Three tabs it is.")
        .memory(tmp_path)
    )
    (asked,) = [s for s in memory.snippets if "Three tabs it is" in s.content]
    assert "b → B. Three tabs, results inline - Wallet files merges Scan and Extract" in (
        asked.content
    )
    assert "Modern SaaS" not in asked.content  # the earlier list is not what was answered
    for reply in ("A bug is in the scan", "C"):
        text = Transcript().user("go").say(LETTERED).user(reply).say("Ok.").memory(tmp_path)
        assert "→" not in json.dumps(text.to_dict(), ensure_ascii=False), reply


def test_a_number_the_last_list_did_not_offer_or_a_long_reply_is_left_as_typed(tmp_path):
    long_reply = "2 " + "and some more words about it " * 12
    for reply in ("5", "2.5 seconds is fine", long_reply):
        memory = Transcript().user("options?").say(OPTIONS).user(reply).say("Ok.").memory(tmp_path)
        assert "→" not in json.dumps(memory.to_dict(), ensure_ascii=False), reply


def test_a_files_code_left_with_only_its_path_is_not_kept(tmp_path):
    line = "# GOOGLE_CLIENT_ID=your-client-id.apps.googleusercontent.com"
    memory = Transcript().user("put the client id in both examples")
    for app in ("api", "web"):
        memory.tool(
            "Edit",
            {
                "file_path": f"{CWD}/apps/{app}/.env.example",
                "old_string": "# x",
                "new_string": line,
            },
            "The file has been updated.",
        )
    memory = memory.say("Updated both `.env.example` files.").memory(tmp_path)
    code = [s.content for s in by_category(memory, "code")]
    assert code == [f"apps/api/.env.example:\n{line}"]  # not a bare "apps/web/.env.example:"
    (files,) = by_category(memory, "files")
    assert "apps/web/.env.example" in files.content


def test_a_big_edit_names_every_function_it_declares(tmp_path):
    body = "\n".join(f"    step_{n} = compute({n})  # the work of step {n}" for n in range(40))
    functions = [f"def collect_part_{n}(session):\n{body}\n    return session\n" for n in range(12)]
    code = "\n\n".join(functions)
    assert len(code) > 20_000  # far past where the first declarations end
    memory = (
        Transcript()
        .user("add the collectors")
        .tool("Edit", {"file_path": f"{CWD}/export.py", "old_string": "# x", "new_string": code})
        .say("Added twelve collectors.")
        .memory(tmp_path)
    )
    (snippet,) = by_category(memory, "code")
    assert "def collect_part_0(session):" in snippet.content.splitlines()
    assert "also declares: " in snippet.content and "collect_part_11" in snippet.content


def test_a_command_still_running_where_the_transcript_ends_is_kept_as_running(tmp_path):
    transcript = (
        Transcript()
        .user("rerun the long export")
        .bash("./export.sh --all", "exported 3")  # answered: how it ended
        .tool("Bash", {"command": "./export.sh --name phase0"}, "unused")
        .user("and the other one?")
        .tool("Bash", {"command": "./import.sh --name phase0"}, "unused")
    )
    for stripped in (transcript.lines[4], transcript.lines[-1]):  # no result ever came
        transcript.lines.remove(stripped)
    memory = transcript.memory(tmp_path)
    commands = [s.content for s in by_category(memory, "command")]
    assert "$ ./import.sh --name phase0\n-> ran: no result, the session ended while it ran" in (
        commands
    )
    # one left unanswered by an exchange that went on: interrupted, not running
    assert not any("./export.sh --name phase0" in c for c in commands)
    assert any(c.startswith("$ ./export.sh --all\n-> exit 0") for c in commands)


def test_an_error_the_person_pasted_is_one_the_exchange_met_and_fixed(tmp_path):
    pasted = (
        "it crashes on start:\n\nTraceback (most recent call last):\n"
        '  File "shop/ui.py", line 5, in <module>\n'
        "ImportError: cannot import name 'QAction' from 'PySide6.QtWidgets'\n\nplease fix"
    )
    memory = (
        Transcript()
        .user(pasted)
        .edit("shop/ui.py")
        .bash("pytest -q", "18 passed in 0.4s")
        .user("fix the error handling in checkout too")  # prose names no error
        .edit("shop/checkout.py")
        .memory(tmp_path)
    )
    exchanges = by_category(memory, "exchange")
    assert "Errors: ImportError: cannot import name 'QAction'" in exchanges[0].content
    assert "Errors:" not in exchanges[1].content
    (fix,) = by_category(memory, "fix")
    assert fix.content.startswith("Error: ImportError: cannot import name 'QAction'")
    assert "Fixed by: shop/ui.py" in fix.content


def test_the_code_an_exchange_wrote_is_dated_by_each_files_last_edit(tmp_path):
    memory = (
        Transcript()
        .user("add the mailer and its test")
        .write("mail/send.py", "def send(to):\n    pass\n")
        .bash("pytest -q", "1 passed in 0.1s")
        .write("tests/test_send.py", "def test_send():\n    pass\n")
        .memory(tmp_path)
    )
    code = {s.content.split(":", 1)[0]: s.occurred_at for s in by_category(memory, "code")}
    (exchange,) = by_category(memory, "exchange")
    # a session start's "last changes" are the newest: the test, written after the run
    assert exchange.occurred_at < code["mail/send.py"] < code["tests/test_send.py"]
