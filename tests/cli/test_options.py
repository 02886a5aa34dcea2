"""Options declared once: a field with a help text is a CLI option, a check and (unless it says
otherwise) part of the resume key; the shared options keep one spelling across commands."""

from __future__ import annotations

import dataclasses

import typer
from typer.testing import CliRunner

from simsent._fields import run_settings, setting
from simsent.cli.options import settings_command
from simsent.training.arguments import TrainingArguments


@dataclasses.dataclass
class WithNewKnob(TrainingArguments):
    label_smoothing: float = setting(0.0, "Share of the target spread over the negatives.", minimum=0,
                                     maximum=1)
    log_every_minutes: int = setting(5, "Log every N minutes.", minimum=1, changes_run=False)


def _app(cls: type) -> tuple[typer.Typer, list]:
    seen: list = []
    app = typer.Typer()

    @app.command()
    @settings_command(cls)
    def run(name: str = typer.Option("x", "--name"), settings: dict | None = None) -> None:
        seen.append(cls(**(settings or {})))

    return app, seen


def test_a_new_field_is_an_option_a_check_and_part_of_the_resume_key():
    app, seen = _app(WithNewKnob)
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--label-smoothing" in shown and "Share of the target spread" in shown
    assert "--log-every-minutes" in shown
    assert runner.invoke(app, ["--label-smoothing", "0.1", "--batch-size", "8"]).exit_code == 0
    assert seen[0].label_smoothing == 0.1 and seen[0].batch_size == 8
    assert runner.invoke(app, ["--label-smoothing", "2"]).exit_code == 2  # the declared bound
    key = run_settings(WithNewKnob())
    assert "label_smoothing" in key and "log_every_minutes" not in key and "lr" in key and "device" not in key


def test_train_takes_every_declared_training_field_under_its_old_names():
    from simsent.cli.main import app

    shown = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "250"}).output
    for f in dataclasses.fields(TrainingArguments):
        if f.metadata.get("help"):
            names = f.metadata.get("cli") or (f"--{f.name.replace('_', '-')}",)
            assert names[0].split("/")[0] in shown, f.name
    assert "--compile" in shown and "--streaming" in shown and "--no-streaming" in shown


def test_the_index_backend_has_one_spelling_and_the_ray_options_one_help():
    from simsent.cli.main import app

    runner = CliRunner()
    build = runner.invoke(app, ["index", "build", "--help"], env={"COLUMNS": "250"}).output
    encode = runner.invoke(app, ["encode", "--help"], env={"COLUMNS": "250"}).output
    assert "--index-backend" in build and "--model-backend" in build
    for line in ("GPUs per Ray worker.", "Ray cluster address"):
        assert line in build and line in encode
