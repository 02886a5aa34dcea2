"""fit's three sureness rules compared on saved leaderboards: ``python bench/fit_rules.py DIR OUT`` reads
``DIR/<TASK>/leaderboard.json`` (written by ``bench/fit.py`` or ``bench/fit_retrieval.py``; every fit
records what max-stat, split and best would have chosen) and writes the rule table to ``OUT``.

    python bench/fit_rules.py results/fit_e5_rules results/fit_e5_rules.md
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import choice_rules_table, write_report  # noqa: E402


def main() -> None:
    folder, output = sys.argv[1], sys.argv[2]
    per_task = {}
    for task in sorted(os.listdir(folder)):
        path = os.path.join(folder, task, "leaderboard.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            per_task[task] = {"leaderboard": saved["leaderboard"], "provenance": saved["provenance"]}
    first = next(iter(per_task.values()))["provenance"]
    unit = first["config"].get("metric_label", "Spearman") + " x 100"
    lines = [
        f"# fit's sureness rules on saved leaderboards ({', '.join(per_task)})",
        "",
        f"- command: `python bench/fit_rules.py {folder} {output}`; the leaderboards came from "
        f"`{first['command']}`",
        "",
        *choice_rules_table(per_task, unit),
        "| task | fit's choice (max-stat) | kept start? | best gain on selection | max-stat bound | "
        "best rule's share |",
        "|---|---|---|---:|---:|---:|",
    ]
    for task, res in per_task.items():
        c = res["provenance"]["config"]["choice"]
        board = res["leaderboard"]
        share = 100 * (c["best_beats_start"] or 0)
        lines.append(f"| {task} | {board[c['winner']]['recipe']} | {'yes' if c['kept_start'] else 'no'} | "
                     f"{c['gain']:+.2f} | {c['max_stat_bound']:+.2f} | {share:.0f}% |")
    write_report(output, [*lines, ""])


if __name__ == "__main__":
    main()
