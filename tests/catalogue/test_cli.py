"""`yishi catalogue …` on the fixture catalogue."""

from __future__ import annotations

import json
import subprocess
import sys

from catalogue.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_and_build(capsys, mini_sources, tmp_path):
    code, out, _ = run(capsys, "catalogue", "check", "--sources", str(mini_sources))
    assert (code, out) == (0, "ok: 2 citations, 3 departments, 2 channels, 1 mechanisms, 9 materials, 3 questions, "
                              "4 items, 2 bundles, 1 next_steps, 1 topics, 1 exclusions\n")
    db = tmp_path / "out.db"
    code, out, _ = run(capsys, "catalogue", "build", "--sources", str(mini_sources), "--db", str(db),
                       "--dictionary", str(tmp_path / "dict"))
    assert (code, out) == (0, f"built 2 bundles into {db}; 1 derived files\n")
    assert db.exists() and (tmp_path / "dict" / "yishi.txt").exists()


def test_the_yishi_command_builds_the_rasa_data_too(capsys, mini_sources, tmp_path):
    from web_widget.cli import main as yishi

    db = tmp_path / "out.db"
    code = yishi(["catalogue", "build", "--sources", str(mini_sources), "--db", str(db),
                  "--dictionary", str(tmp_path / "dict"), "--rasa-dir", str(tmp_path / "rasa")])
    assert (code, capsys.readouterr().out) == (0, f"built 2 bundles into {db}; 5 derived files\n")
    assert sorted(str(p.relative_to(tmp_path / "rasa")) for p in (tmp_path / "rasa").rglob("*.yml")) == [
        "data/bundle_rules.yml", "data/bundles.yml", "domain/bundles.yml", "domain/domain.yml"]


def test_build_with_errors_exits_non_zero_and_keeps_the_old_file(capsys, mini_sources, mini_db, write_source):
    before = mini_db.read_bytes()
    write_source(mini_sources, "bad.yaml", "bundles:\n  - {slug: x}\n")
    code, out, err = run(capsys, "catalogue", "build", "--sources", str(mini_sources), "--db", str(mini_db),
                         "--dictionary", str(mini_db.parent / "d"))
    assert code == 1 and out == ""
    assert "bad.yaml:2: bundle 'x': field 'name': is required" in err
    assert err.rstrip().endswith("error(s) in " + str(mini_sources) + "; the previous catalogue is unchanged")
    assert mini_db.read_bytes() == before


def test_show_json_has_the_contract_fields(capsys, mini_db):
    code, out, _ = run(capsys, "catalogue", "show", "shop", "--answer", "size=small", "--json", "--db", str(mini_db))
    assert code == 0
    result = json.loads(out)
    for key in ("slug", "name", "family", "stage", "questions", "items", "materials", "channels", "mechanisms",
                "before", "after", "sources", "checked"):
        assert key in result
    assert result["before"] == {"materials": 4, "working_days": 3, "departments": 1, "visits": 1, "steps": 4}
    assert [q["answer"] for q in result["questions"]] == ["small", None, None]


def test_show_text_and_errors(capsys, mini_db):
    code, out, _ = run(capsys, "catalogue", "show", "shop", "--db", str(mini_db))
    assert code == 0 and out.startswith("**【我要开小店】**")
    assert "少跑2次、少交4份材料、少等0个工作日" in out
    code, _, err = run(capsys, "catalogue", "show", "nope", "--db", str(mini_db))
    assert code == 1 and "没有这个一件事：nope" in err
    code, _, err = run(capsys, "catalogue", "show", "shop", "--answer", "size", "--db", str(mini_db))
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = run(capsys, "catalogue", "show", "shop", "--answer", "size=huge", "--db", str(mini_db))
    assert code == 1 and "没有“huge”这个选项" in err


def test_stats_json(capsys, mini_db):
    code, out, _ = run(capsys, "catalogue", "stats", "--json", "--db", str(mini_db))
    result = json.loads(out)
    assert code == 0 and result["bundles"] == 2
    # shop: steps 11→2, materials 11→7, days 20→20; baby: steps 2→1, materials 1→1, days 2→2
    assert result["reduction"] == {"steps": round((9 / 11 + 1 / 2) / 2, 4), "materials": round((4 / 11) / 2, 4),
                                   "working_days": 0.0}


def test_search(capsys, mini_db):
    code, out, _ = run(capsys, "catalogue", "search", "开个铺子", "--db", str(mini_db))
    assert code == 0 and out.startswith("shop\t我要开小店\t")
    code, out, _ = run(capsys, "catalogue", "search", "a:b AND (", "--db", str(mini_db))
    assert (code, out) == (0, "没有找到相关的一件事。\n")


def test_missing_catalogue_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "catalogue", "stats", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "run `yishi catalogue build`" in err


def test_the_console_script_is_installed(mini_sources):
    done = subprocess.run([sys.executable, "-m", "catalogue.cli", "catalogue", "check", "--sources", str(mini_sources)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
