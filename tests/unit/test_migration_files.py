"""The migration files: one line of revisions, numbered in order."""

from fangkong_lib import migrations


def test_revisions_form_one_numbered_line_and_the_quick_read_agrees_with_alembic():
    ids = [rev for rev, _ in migrations.history()]
    assert ids == [f"{n:04d}" for n in range(1, len(ids) + 1)], (
        "revisions must be numbered 0001, 0002, … in the order they revise each other: "
        "after a merge, renumber the later one and point its down_revision at the other")
    # upgrade() decides "nothing to do" from this quick read, without importing Alembic
    assert migrations._newest_on_file() == migrations.head() == ids[-1]
    assert all(doc for _, doc in migrations.history()), "every revision says what it does on its first line"
