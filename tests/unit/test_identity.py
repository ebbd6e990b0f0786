"""Project and machine identity: every clone of a repository agrees, two repositories never do."""

from __future__ import annotations

import configparser

import pytest

from contextrecall.identity import (
    named_project,
    normalize_remote,
    project_for_directory,
    remote_urls,
    this_machine,
)

CONFIGS = [
    '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:Acme/Widget.git\n'
    "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
    '[remote "upstream"]\n\turl = https://gitlab.com/a/b\n[remote "origin"]\n'
    "\turl = https://u:p@github.com/acme/widget\n",
    '[remote "origin"]\n\tfetch = x\n\turl=ssh://git@host:2222/team/repo.git\n'
    '[branch "main"]\n\tremote = origin\n\turl = not-a-remote-url\n',
    "[core]\n\trepositoryformatversion = 0\n",
    '; comment\n# another\n[remote "fork"]\n    url = /srv/git/repo.git\n',
]


@pytest.mark.parametrize("text", CONFIGS)
def test_remote_urls_agree_with_configparser(text):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(text)
    expected = {
        section.split('"')[1]: parser.get(section, "url")
        for section in parser.sections()
        if section.startswith('remote "') and parser.has_option(section, "url")
    }
    assert remote_urls(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:Acme/Widget.git",
        "https://github.com/acme/widget",
        "https://user:secret@github.com/acme/widget.git",
        "ssh://git@github.com/acme/widget.git",
        "ssh://git@github.com:22/acme/widget/",
    ],
)
def test_every_form_of_one_remote_normalizes_alike(url):
    assert normalize_remote(url) == "github.com/acme/widget"


def test_clones_share_a_project_and_repositories_do_not(tmp_path):
    def repo(path, remote):
        (path / ".git").mkdir(parents=True)
        (path / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {remote}\n')
        return path

    first = repo(tmp_path / "a", "git@github.com:acme/widget.git")
    second = repo(tmp_path / "b" / "checkout", "https://github.com/Acme/Widget")
    other = repo(tmp_path / "c", "git@github.com:acme/gadget.git")
    (first / "src" / "deep").mkdir(parents=True)
    assert project_for_directory(first / "src" / "deep").identity == "git:github.com/acme/widget"
    assert project_for_directory(second).identity == project_for_directory(first).identity
    assert project_for_directory(other).identity != project_for_directory(first).identity
    assert project_for_directory(first).name == "acme/widget"


def test_repository_without_remote_is_keyed_by_its_path(tmp_path):
    (tmp_path / "r" / ".git").mkdir(parents=True)
    ref = project_for_directory(tmp_path / "r")
    assert ref.identity == f"path:{(tmp_path / 'r').resolve()}"
    assert ref.git_remote is None


def test_named_project_rejects_empty_names():
    assert named_project(" alpha ").identity == "name:alpha"
    with pytest.raises(ValueError):
        named_project("   ")


def test_machine_fingerprint_is_stable():
    assert this_machine().fingerprint == this_machine().fingerprint
    assert len(this_machine().fingerprint) == 32
