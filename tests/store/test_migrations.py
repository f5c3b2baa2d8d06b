"""Schema migrations on both backends: the newest revision matches the ledgers,
and a database is upgraded in place (new, made before migrations, at an older
revision) keeping its rows."""

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from fangkong_lib import migrations, store

REVISIONS = [revision for revision, _ in migrations.history()]
HOW_TO_FIX = (
    "the ledgers (fangkong_lib/ledgers.py, tables in store.py) differ from the newest migration:\n"
    "  run `make migration MSG=\"what changed\"` (or `fangkong db revision -m \"what changed\"`),\n"
    "  read the file it writes in fangkong_lib/migrations/versions/, fix renames or data moves by hand,\n"
    "  and commit it with the ledger change.\nDifferences:\n"
)


def _schema(engine) -> dict[str, tuple[set[str], set[str]]]:
    """{table: (columns, index names)} as the database has them."""
    inspector = sa.inspect(engine)
    return {name: ({c["name"] for c in inspector.get_columns(name)},
                   {i["name"] for i in inspector.get_indexes(name)})
            for name in inspector.get_table_names()}


def _assert_matches_ledgers(engine) -> None:
    differences = migrations.diff(engine, store.metadata)
    assert not differences, HOW_TO_FIX + "\n".join(f"  {d}" for d in differences)


def test_a_new_database_reaches_the_newest_revision_and_it_matches_the_ledgers(db_url):
    engine = store.get_engine(db_url)
    result = store.init_db(engine)
    assert (result.before, result.after, result.applied) == (None, migrations.head(), REVISIONS)
    assert migrations.current(engine) == migrations.head()
    _assert_matches_ledgers(engine)
    schema = _schema(engine)
    assert set(store.metadata.tables) <= set(schema)
    assert "ix_returnees_village" in schema["returnees"][1] and "ix_leads_grid" in schema["leads"][1]
    assert store.load_audit(engine).empty  # a new database: nothing to audit
    # the check can fail: a ledger field without its migration is found
    changed = sa.MetaData()
    for table in store.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["returnees"].append_column(sa.Column("new_field", sa.Text))
    found = migrations.diff(engine, changed)
    assert [(d[0], d[3].name) for d in found] == [("add_column", "new_field")]


def test_a_database_made_before_migrations_is_adopted_with_its_rows(db_url):
    """The old init_db made tables with create_all and added columns as ledgers
    grew: a database of an older workbook lacks a ledger, a column and the indexes."""
    engine = store.get_engine(db_url)
    old = sa.MetaData()
    for table in migrations._baseline().sorted_tables:
        if table.name != "volunteers":
            table.to_metadata(old)
    for table in old.tables.values():
        table.indexes.clear()
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE returnees DROP COLUMN note"))
        conn.execute(sa.text("INSERT INTO returnees (name, id_number, village) VALUES ('张三', '11010519491231002X', '城郊村')"))
        conn.execute(sa.text("INSERT INTO villages (name) VALUES ('城郊村')"))
    assert migrations.current(engine) is None

    result = store.init_db(engine)
    assert result.adopted and result.created_tables == ["volunteers"]
    assert result.added_columns == ["returnees.note"]
    assert result.applied == REVISIONS[1:] and result.after == migrations.head()
    _assert_matches_ledgers(engine)
    returnees = store.load_ledger(engine, "returnees")
    assert list(returnees["name"]) == ["张三"] and returnees["note"].isna().all()
    assert store.count_rows(engine, "villages") == 1
    store.write_ledger(engine, "volunteers", pd.DataFrame([{"name": "李四", "village": "城郊村"}]))
    assert store.count_rows(engine, "volunteers") == 1
    audit = store.load_audit(engine, "*")
    assert list(audit["action"]) == ["migrate"] and "returnees.note" in audit.iloc[0]["after"]
    assert store.init_db(engine).changed is False  # once adopted, opening it again changes nothing


def test_an_older_revision_is_upgraded_in_place_and_can_go_back(db_url):
    engine = store.get_engine(db_url)
    assert migrations.upgrade(engine, "0001").after == "0001"
    assert "ix_returnees_village" not in _schema(engine)["returnees"][1]
    with engine.begin() as conn:  # a row written by the workbook of that revision
        conn.execute(sa.text("INSERT INTO returnees (name, id_number, village, report_date) "
                             "VALUES ('王五', '11010519491231002X', '城郊村', '2022-04-05')"))

    result = store.init_db(engine)
    assert (result.before, result.applied) == ("0001", REVISIONS[1:])
    assert "ix_returnees_village" in _schema(engine)["returnees"][1]
    assert list(store.load_ledger(engine, "returnees")["name"]) == ["王五"]
    assert store.load_audit(engine, "*").iloc[-1]["action"] == "migrate"

    with engine.begin() as conn:  # each revision's downgrade undoes it
        command.downgrade(migrations._config(conn), "0001")
    assert "ix_returnees_village" not in _schema(engine)["returnees"][1]
    assert store.count_rows(engine, "returnees") == 1


def test_a_database_of_a_newer_workbook_is_refused_with_a_clear_message(tmp_path):
    engine = store.get_engine(f"sqlite:///{tmp_path}/newer.sqlite")
    store.init_db(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(migrations.SchemaError, match="0999.*请升级 fangkong"):
        store.init_db(engine)


def test_the_demo_rebuilt_over_a_database_starts_from_the_first_revision(tmp_path):
    """drop_all drops the version table too: the rebuilt tables are not taken
    for an upgraded schema."""
    engine = store.get_engine(f"sqlite:///{tmp_path}/rebuilt.sqlite")
    store.init_db(engine)
    store.drop_all(engine)
    assert _schema(engine) == {}
    assert store.init_db(engine).applied == REVISIONS


def test_a_ledger_change_becomes_a_revision_in_one_command(tmp_path):
    changed = sa.MetaData()
    for table in store.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["returnees"].append_column(sa.Column("new_field", sa.Text, comment="新字段"))
    path, differences = migrations.new_revision("returnees gain a field", changed, directory=tmp_path)
    assert path.parent == tmp_path and path.name == f"{int(migrations.head()) + 1:04d}_returnees_gain_a_field.py"
    text = path.read_text(encoding="utf-8")
    assert f"down_revision = '{migrations.head()}'" in text
    assert "batch_op.add_column(sa.Column('new_field', sa.Text()" in text and "batch_op.drop_column('new_field')" in text
    compile(text, str(path), "exec")
    assert [d[0] for d in differences] == ["add_column"]


def test_db_commands_upgrade_in_place_and_say_so(tmp_path, capsys):
    from fangkong_lib.cli import main

    db = tmp_path / "old.sqlite"
    legacy = store.get_engine(f"sqlite:///{db}")
    migrations._baseline().create_all(legacy)  # as the workbook made databases before migrations
    assert main(["db", "current", "--db", str(db)]) == 0
    assert "迁移前建立的数据库" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert f"迁移前建立 → {migrations.head()}" in capsys.readouterr().out
    assert main(["db", "current", "--db", str(db)]) == 0
    assert f"结构版本 {migrations.head()}（最新）" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert "无需升级" in capsys.readouterr().out
    assert main(["db", "history"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == REVISIONS
    missing = tmp_path / "typo.sqlite"
    assert main(["db", "upgrade", "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "不存在" in err and not missing.exists()
